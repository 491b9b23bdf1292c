// Package e2e proves the whole chain a user runs, with real servers: the
// fake Wolkvox API, the exporter binary, Prometheus scraping it and
// evaluating the shipped rules, and Alertmanager notifying a webhook.
package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// compressTime turns the shipped rules into a test copy that works in
// seconds instead of hours, the way promtool unit tests shorten for:. The
// expressions and thresholds are otherwise the shipped ones.
func compressTime(t *testing.T, rules string) string {
	t.Helper()
	out, err := exportertest.ShortenRules(rules, "2s",
		"[15m]", "[10s]", "[2h] offset 15m", "[30s] offset 10s", "[20m]", "[10s]", "[1h]", "[30s]",
		"* 900", "* 10", // legs in the rate window
		"vector(1800)", "vector(5)", // warm-up seconds
	)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type webhook struct {
	mu     sync.Mutex
	alerts []alert
}

type alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []alert `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err == nil {
		h.mu.Lock()
		h.alerts = append(h.alerts, msg.Alerts...)
		h.mu.Unlock()
	}
}

func (h *webhook) received(name string) []alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []alert
	for _, a := range h.alerts {
		if a.Labels["alertname"] == name && a.Status == "firing" {
			out = append(out, a)
		}
	}
	return out
}

// query runs an instant query now (queryAt).
func query(t *testing.T, prom, q string) map[string]float64 {
	t.Helper()
	return queryAt(t, prom, q, time.Time{})
}

// queryAt evaluates q at at (now if zero), by label set; nil while
// Prometheus cannot answer yet.
func queryAt(t *testing.T, prom, q string, at time.Time) map[string]float64 {
	t.Helper()
	u := "http://" + prom + "/api/v1/query?query=" + url.QueryEscape(q)
	if !at.IsZero() {
		u += "&time=" + strconv.FormatInt(at.Unix(), 10)
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil // Prometheus not listening yet, or restarting
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return nil // Prometheus is still starting: not ready to answer yet
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, r.Error)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		v, _ := strconv.ParseFloat(s.Value[1].(string), 64)
		out[fmt.Sprint(s.Metric)] = v
	}
	return out
}

func scalar(t *testing.T, prom, q string) (float64, bool) {
	t.Helper()
	for _, v := range query(t, prom, q) {
		return v, true
	}
	return 0, false
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestEndToEnd(t *testing.T) {
	promBin := exportertest.RequireTool(t, "prometheus", "prometheus")
	amBin := exportertest.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	start := time.Now()
	dir := t.TempDir()

	// The fake API: steady traffic, about two transfers a second.
	loc, _ := time.LoadLocation("America/Bogota")
	traffic := &wolkvoxtest.Traffic{Seed: 99, Location: loc, TransfersPerMinute: 120, InteractionsPerMinute: 20, BodyBytes: 256}
	// Real cases close in minutes or days; a burst of quick ones, opened
	// from 20 s after the start and closed (and half of them surveyed)
	// 15 s later, makes the backlog rise and fall within the test.
	var quick []wolkvoxtest.Case
	for i := range 60 {
		created := start.Add(20*time.Second + time.Duration(i)*150*time.Millisecond).Truncate(time.Second)
		c := wolkvoxtest.Case{ID: fmt.Sprintf("quick-%d", i), Channel: "facebook_page", SkillID: "101", AgentName: "ANA",
			Created: created, Closed: created.Add(15 * time.Second)}
		if i%2 == 0 {
			c.Surveyed, c.Survey = c.Closed.Add(2*time.Second), "4"
		}
		quick = append(quick, c)
	}
	data := wolkvoxtest.Merge{traffic, &wolkvoxtest.Lifecycles{Location: loc, Extra: quick}}
	api := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, Data: data, TB: t})
	defer api.Close()

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	bin, err := exportertest.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second operation, quiet, with its own token, polled by the same
	// exporter from a config file.
	lima := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "tok-lima", Location: loc, TB: t,
		Data: &wolkvoxtest.Traffic{Seed: 7, Location: loc, TransfersPerMinute: 30, InteractionsPerMinute: 5, BodyBytes: 64}})
	defer lima.Close()
	write(t, dir, "bogota.token", api.Token())
	write(t, dir, "lima.token", lima.Token())
	write(t, dir, "wolkvox.yml", fmt.Sprintf(`defaults: {interval: 2s, delay: 0s, chat_revisit: 1m}
operations:
  - {name: bogota, url: %q, token_file: %q, timezone: America/Bogota}
  - {name: lima, url: %q, token_file: %q, timezone: America/Lima}
`, api.URL, filepath.Join(dir, "bogota.token"), lima.URL, filepath.Join(dir, "lima.token")))
	exporter := exportertest.Start(t, bin, nil, "--config.file="+filepath.Join(dir, "wolkvox.yml"))

	amPort := exportertest.FreePort(t)
	amConfig := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, operation, skill_id, report]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/hook
`, hookSrv.URL)
	write(t, dir, "alertmanager.yml", amConfig)
	am := exportertest.StartAt(t, amBin, "127.0.0.1:"+strconv.Itoa(amPort), nil,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--cluster.listen-address=")

	prom := startPromOnRules(t, promBin, dir, exporter.Addr, am.Addr)

	// 1. The exporter's series arrive, and the transfers Prometheus holds
	// equal what the fake served. Failing the API for a moment freezes both
	// sides so they can be compared exactly.
	eventually(t, "the exporter's series in Prometheus", 40*time.Second, func() bool {
		v, ok := scalar(t, prom.Addr, `sum(wolkvox_report_up{job="wolkvox",report=~"agent_13_1|chat_4"})`)
		return ok && v == 4 // two reports of two operations
	})
	assertNoGap := func(phase string) {
		t.Helper()
		api.FailAll(wolkvoxtest.Fault{Status: 503, Body: "frozen for comparison"})
		time.Sleep(500 * time.Millisecond) // a poll in flight finishes
		served := float64(len(api.ServedTransfers()))
		eventually(t, phase+": Prometheus to catch up with the fake", 15*time.Second, func() bool {
			v, _ := scalar(t, prom.Addr, `sum(wolkvox_transfers_total{job="wolkvox",operation="bogota"})`)
			return v == served
		})
		api.Heal()
		t.Logf("%s: %v transfers served and counted once each (%v)", phase, served, time.Since(start).Round(time.Second))
	}
	assertNoGap("before the spike")

	// 2. A transfer spike on skill 101 fires WolkvoxTransferSpike, which
	// reaches the webhook with its labels and annotations. The baseline
	// needs 40 s of history in the test copy of the rules.
	eventually(t, "a baseline of steady traffic", 60*time.Second, func() bool {
		v, ok := scalar(t, prom.Addr, `count_over_time(job_instance_skill_type_call:wolkvox_transfers:rate15m{type_call="transfer",skill_id="101"}[30s] offset 10s)`)
		return ok && v >= 25
	})
	now := time.Now()
	traffic.AddSpike(wolkvoxtest.Spike{Start: now.Truncate(time.Minute), End: now.Add(time.Hour), TypeCall: "transfer", SkillID: "101", PerMinute: 900})
	eventually(t, "WolkvoxTransferSpike at the webhook", 40*time.Second, func() bool {
		return len(hook.received("WolkvoxTransferSpike")) > 0
	})
	a := hook.received("WolkvoxTransferSpike")[0]
	for k, want := range map[string]string{"severity": "critical", "skill_id": "101", "type_call": "transfer", "job": "wolkvox", "instance": exporter.Addr, "operation": "bogota"} {
		if a.Labels[k] != want {
			t.Errorf("spike alert label %s = %q, want %q", k, a.Labels[k], want)
		}
	}
	if a.Annotations["summary"] != "Transfers spiking on skill 101 of bogota" || !strings.Contains(a.Annotations["description"], "transfers a minute") ||
		!strings.HasSuffix(a.Annotations["runbook_url"], "RUNBOOK.md#wolkvoxtransferspike") {
		t.Errorf("spike alert annotations: %v", a.Annotations)
	}
	t.Logf("spike alert received (%v)", time.Since(start).Round(time.Second))

	// 3. Every request fails: WolkvoxReportFailing fires, and the spike alert,
	// although the spike goes on, does not.
	api.FailAll(wolkvoxtest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"})
	eventually(t, "WolkvoxReportFailing at the webhook", 40*time.Second, func() bool {
		return len(hook.received("WolkvoxReportFailing")) > 0
	})
	eventually(t, "the spike alert to stand down while the report fails", 20*time.Second, func() bool {
		_, firing := scalar(t, prom.Addr, `ALERTS{alertname="WolkvoxTransferSpike",alertstate="firing"}`)
		return !firing
	})
	if _, firing := scalar(t, prom.Addr, `ALERTS{alertname="WolkvoxTransferSpike"}`); firing {
		t.Error("WolkvoxTransferSpike is pending or firing while the report fails")
	}
	if f, _ := scalar(t, prom.Addr, `sum(wolkvox_report_poll_failures_total{reason="http_5xx"})`); f == 0 {
		t.Error("no http_5xx failures counted")
	}
	failing := hook.received("WolkvoxReportFailing")[0]
	if failing.Labels["operation"] != "bogota" || !strings.Contains(failing.Annotations["summary"], "of bogota") {
		t.Errorf("WolkvoxReportFailing does not name its operation: %v %v", failing.Labels, failing.Annotations)
	}
	for _, a := range hook.received("WolkvoxReportFailing") {
		if a.Labels["operation"] == "lima" {
			t.Error("lima's reports failed while only bogota's API did")
		}
	}
	if v, _ := scalar(t, prom.Addr, `min(wolkvox_report_up{job="wolkvox",operation="lima"})`); v != 1 {
		t.Errorf("lima's reports are down (%v) while only bogota's API fails", v)
	}
	t.Logf("report failing alert received (%v)", time.Since(start).Round(time.Second))

	// 4. After recovery the counters have no gap and no double count.
	api.Heal()
	eventually(t, "recovery", 30*time.Second, func() bool {
		v, _ := scalar(t, prom.Addr, `min(wolkvox_report_up{job="wolkvox"})`)
		return v == 1
	})
	assertNoGap("after recovery")

	// 5. The chat numbers: the backlog rose with the quick cases and fell
	// as they closed, which the revisits read; closes and surveys counted.
	peak, _ := scalar(t, prom.Addr, `max_over_time(sum(wolkvox_chat_open_interactions{job="wolkvox",operation="bogota"})[5m:1s])`)
	nowOpen, _ := scalar(t, prom.Addr, `sum(wolkvox_chat_open_interactions{job="wolkvox",operation="bogota"})`)
	closed, _ := scalar(t, prom.Addr, `sum(wolkvox_chat_interactions_closed_total{job="wolkvox",operation="bogota",channel="facebook_page",skill_id="101"})`)
	surveys, _ := scalar(t, prom.Addr, `sum(wolkvox_chat_survey_score_count{job="wolkvox",operation="bogota"})`)
	if peak < 60 || nowOpen > peak-30 || closed < 60 || surveys < 30 {
		t.Errorf("chat numbers: backlog peaked at %v and is %v now, want a rise past 60 and a fall by most of the 60 quick cases (the steady traffic keeps adding open ones); %v closed, %v surveys, want 60 and 30", peak, nowOpen, closed, surveys)
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("the end-to-end test took %v, over its 2-minute budget", d)
	}
}

// startPromOnRules starts Debian's Prometheus in dir, scraping the
// exporter at exporterAddr every second as job "wolkvox" and evaluating
// the shipped rules with their times shortened (compressTime); with an
// Alertmanager address, it sends alerts there.
func startPromOnRules(t *testing.T, promBin, dir, exporterAddr, amAddr string) *exportertest.Process {
	t.Helper()
	rules, err := os.ReadFile("../alerts/wolkvox.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "rules.yml", compressTime(t, string(rules)))
	alerting := ""
	if amAddr != "" {
		alerting = fmt.Sprintf("alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['%s']}]\n", amAddr)
	}
	write(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
%sscrape_configs:
  - job_name: wolkvox
    static_configs: [{targets: ['%s']}]
`, alerting, exporterAddr))
	return exportertest.Start(t, promBin, nil, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--log.level=warn")
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
