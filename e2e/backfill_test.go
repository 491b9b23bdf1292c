package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// scalarAt evaluates q at time at: its first sample, if any.
func scalarAt(t *testing.T, prom, q string, at time.Time) (float64, bool) {
	t.Helper()
	for _, v := range queryAt(t, prom, q, at) {
		return v, true
	}
	return 0, false
}

// TestBackfillJoinsTheLiveCounters backfills three simulated days of both
// reports, loads the blocks into a real Prometheus, checks the dashboard's
// kind of queries at points in the past against the fake's ground truth,
// then starts the live exporter on the backfill's state file and checks a
// range that spans the join. A backfill killed halfway and run again
// counts the same.
func TestBackfillJoinsTheLiveCounters(t *testing.T) {
	promBin := exportertest.RequireTool(t, "prometheus", "prometheus")
	promtool := exportertest.RequireTool(t, "promtool", "prometheus")
	dir := t.TempDir()
	loc, _ := time.LoadLocation("America/Bogota")
	traffic := &wolkvoxtest.Traffic{Seed: 5, Location: loc, TransfersPerMinute: 6, InteractionsPerMinute: 2, BodyBytes: 64}
	// An agent who worked only in the range's first hours, then never
	// again: idle for its last two days (and gone from the per-agent
	// metrics after --collector.agents.ttl).
	solo := &wolkvoxtest.Store{Location: loc}
	data := wolkvoxtest.Merge{traffic, solo}
	api := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "tok-bf", Location: loc, Data: data, TB: t})
	defer api.Close()
	bin, err := exportertest.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	livePort := exportertest.FreePort(t)
	instance := "127.0.0.1:" + strconv.Itoa(livePort)
	now := time.Now()
	to := now.Add(-4 * time.Hour).Truncate(time.Minute)
	from := to.Add(-72 * time.Hour)
	for i := range 4000 {
		at := from.Add(2*time.Hour + time.Duration(i)*time.Second)
		solo.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: fmt.Sprintf("solo.%d", i), SkillID: "101", Date: at.In(loc).Format(time.DateTime),
			OriginAgentID: "99999", OriginAgentName: "AGENTE SOLO", DestinyAgentID: "-", Time: "00:00:30", TypeCall: "transfer", IDCallOrigin: "x"})
	}
	out := filepath.Join(dir, "backfill")
	backfill := func(extra ...string) (int, string) {
		args := append([]string{"backfill", "--wolkvox.url=" + api.URL, "--wolkvox.operation=bogota",
			"--from=" + from.Format(time.RFC3339), "--to=" + to.Format(time.RFC3339), "--output=" + out,
			"--label=job=wolkvox", "--label=instance=" + instance, "--yes"}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "WOLKVOX_TOKEN="+api.Token())
		b, err := cmd.CombinedOutput()
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode(), string(b)
		}
		return 0, string(b)
	}

	// The estimate, alone: three days reach into four of the operation's,
	// read a day a call per report with --window=24h.
	if code, log := backfill("--dry-run", "--window=24h"); code != 0 || !strings.Contains(log, "needs at least 8 API calls") || len(api.Requests()) != 0 {
		t.Fatalf("dry run: exit %d, %d calls:\n%s", code, len(api.Requests()), log)
	}
	estimate := regexp.MustCompile(`needs at least (\d+) API calls`)
	code, log := backfill("--dry-run")
	m := estimate.FindStringSubmatch(log)
	if code != 0 || m == nil {
		t.Fatalf("dry run: exit %d:\n%s", code, log)
	}
	estimated, _ := strconv.Atoi(m[1])
	// Killed halfway: once a day is written, the process dies mid-run.
	cmd := exec.Command(bin, "backfill", "--wolkvox.url="+api.URL, "--wolkvox.operation=bogota",
		"--from="+from.Format(time.RFC3339), "--to="+to.Format(time.RFC3339), "--output="+out,
		"--label=job=wolkvox", "--label=instance="+instance, "--yes")
	cmd.Env = append(os.Environ(), "WOLKVOX_TOKEN="+api.Token())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "backfilled a day") {
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	api.Heal()
	// The estimate of a resumed run counts from its checkpoint.
	if code, log := backfill("--dry-run"); code != 0 {
		t.Fatalf("dry run after the kill: exit %d\n%s", code, log)
	} else if m := estimate.FindStringSubmatch(log); m == nil {
		t.Fatalf("no estimate after the kill:\n%s", log)
	} else if n, _ := strconv.Atoi(m[1]); n >= estimated {
		t.Errorf("after a day was written, the estimate is %d calls, as many as before (%d)", n, estimated)
	}
	if code, log := backfill(); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, log)
	} else if !strings.Contains(log, "resuming an interrupted backfill") {
		t.Errorf("the second run did not resume from the checkpoint:\n%s", log)
	}

	// 72 hours in 2-hour windows, a call per report each, and a window cut
	// where each of the operation's three midnights falls inside one.
	if estimated < 72 || estimated > 78 {
		t.Errorf("the estimate for 72 hours in 2-hour windows is %d calls, want 72 to 78", estimated)
	}

	// promtool reads the blocks as Prometheus's own.
	listed, err := exec.Command(promtool, "tsdb", "list", out).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb list: %v\n%s", err, listed)
	}

	// Prometheus on the blocks.
	tsdb := filepath.Join(dir, "tsdb")
	if err := os.Mkdir(tsdb, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	blocks := 0
	for _, e := range entries {
		if e.IsDir() && regexp.MustCompile(`^[0-9A-Z]{26}$`).MatchString(e.Name()) {
			// Each block lies within one of Prometheus's 2-hour slots and
			// holds more than the one instant on a boundary.
			var meta struct{ MinTime, MaxTime int64 }
			if b, err := os.ReadFile(filepath.Join(out, e.Name(), "meta.json")); err != nil || json.Unmarshal(b, &meta) != nil {
				t.Fatalf("block %s: no meta.json: %v", e.Name(), err)
			}
			const slot = int64(2 * time.Hour / time.Millisecond)
			// The range's first sample (at --from) may be alone in its slot
			// when --from falls one step before a boundary, and its last
			// (at --to) when --to falls on one.
			edge := meta.MinTime == from.UnixMilli() || meta.MinTime == to.UnixMilli()
			oneInstant := meta.MaxTime-meta.MinTime <= 1 && !edge
			if meta.MinTime/slot != (meta.MaxTime-1)/slot || oneInstant {
				t.Errorf("block %s spans %d..%d ms: not one whole 2-hour slot", e.Name(), meta.MinTime, meta.MaxTime)
			}
			if err := os.Rename(filepath.Join(out, e.Name()), filepath.Join(tsdb, e.Name())); err != nil {
				t.Fatal(err)
			}
			blocks++
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[0-9A-Z]{26}\s`).FindAll(listed, -1)); n != blocks {
		t.Errorf("promtool tsdb list shows %d blocks, the output holds %d:\n%s", n, blocks, listed)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(out, "*.staging")); len(leftovers) != 0 {
		t.Errorf("staging left behind: %v", leftovers)
	}
	// One per 2-hour slot, and a second where a day of the operation's
	// zone (read a day at a time) begins inside a slot.
	if hours := int(to.Sub(from) / time.Hour); blocks == 0 || blocks > hours/2+hours/24+2 {
		t.Fatalf("%d blocks for %d hours: want about one per 2-hour slot", blocks, hours)
	}
	write(t, dir, "prometheus.yml", fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: wolkvox\n    static_configs: [{targets: ['%s']}]\n", instance))
	prom := exportertest.Start(t, promBin, nil, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+tsdb, "--storage.tsdb.retention.time=30d", "--log.level=warn")

	// The dashboard's kind of query, at points in the past, against the
	// records the API holds for the hour before each.
	transfersIn := func(a, b time.Time) float64 { // (a, b]
		return float64(len(data.Transfers(a.Add(time.Second), b)))
	}
	casesIn := func(a, b time.Time) float64 {
		return float64(len(traffic.Cases(a.Add(time.Second), b)))
	}
	sel := `{job="wolkvox",instance="` + instance + `",operation="bogota"}`
	// Points inside days, and around each of the operation's midnights,
	// where a day's checkpoint (and the resumed run) joins the next.
	points := []time.Time{from.Add(5 * time.Hour), from.Add(30 * time.Hour), to.Add(-time.Hour)}
	fy, fm, fd := from.In(loc).Date()
	for mid := time.Date(fy, fm, fd+1, 0, 0, 0, 0, loc); mid.Before(to); mid = mid.AddDate(0, 0, 1) {
		// Each point's hour lies within the backfilled range.
		if mid.Sub(from) > time.Hour {
			points = append(points, mid)
		}
		if after := mid.Add(30 * time.Minute); after.Sub(from) > time.Hour && !after.After(to) {
			points = append(points, after)
		}
	}
	for _, at := range points {
		var got float64
		eventually(t, "the backfilled blocks in Prometheus", 30*time.Second, func() bool {
			var ok bool
			got, ok = scalarAt(t, prom.Addr, `sum(increase(wolkvox_transfers_total`+sel+`[1h]))`, at)
			return ok
		})
		if want := transfersIn(at.Add(-time.Hour), at); got != want {
			t.Errorf("increase(transfers[1h]) at %v = %v, the API holds %v", at.In(loc), got, want)
		}
		if got, _ := scalarAt(t, prom.Addr, `sum(increase(wolkvox_chat_interactions_total`+sel+`[1h]))`, at); got != casesIn(at.Add(-time.Hour), at) {
			t.Errorf("increase(chat_interactions[1h]) at %v = %v, %v cases were created", at.In(loc), got, casesIn(at.Add(-time.Hour), at))
		}
		if r, _ := scalarAt(t, prom.Addr, `sum(rate(wolkvox_transfers_total`+sel+`[15m])) * 900`, at); math.Abs(r-transfersIn(at.Add(-15*time.Minute), at)) > 1e-6 {
			t.Errorf("rate(transfers[15m]) at %v covers %v transfers, the API holds %v", at.In(loc), r, transfersIn(at.Add(-15*time.Minute), at))
		}
	}

	// The dashboard over a range wholly inside the backfill: its variables
	// find the operation (they are sourced from series the backfill
	// writes), and the top-agents table names the agent idle for the
	// range's last two days.
	inside := [2]time.Time{from.Add(time.Hour), to.Add(-time.Hour)}
	for _, v := range []string{"job", "instance", "operation"} {
		values := labelValues(t, prom.Addr, dashboardVariable(t, v), inside)
		want := map[string]string{"job": "wolkvox", "instance": instance, "operation": "bogota"}[v]
		if !slices.Contains(values, want) {
			t.Errorf("variable $%s over a range inside the backfill: %v, want %q", v, values, want)
		}
	}
	top := dashboardPanelExpr(t, "Top agents by transfers out", fmt.Sprintf("%ds", int(inside[1].Sub(inside[0])/time.Second)))
	named := false
	for labels := range queryAt(t, prom.Addr, top, inside[1]) {
		named = named || strings.Contains(labels, "agent_name:AGENTE SOLO")
	}
	if !named {
		t.Errorf("the agent idle for the range's last two days is not in the top-agents table by name: %s", top)
	}

	// The recording rules over the backfilled range, in their levels of
	// dependency, as the README's steps run them: the spike score answers
	// over history (over its first 2h15m from a partial baseline, as the
	// README says).
	startProm := func() *exportertest.Process {
		return exportertest.Start(t, promBin, nil, "--config.file="+filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path="+tsdb, "--storage.tsdb.retention.time=30d", "--log.level=warn")
	}
	levels, _ := filepath.Glob("../alerts/backfill/*.yml")
	if len(levels) < 3 {
		t.Fatalf("alerts/backfill holds %d levels", len(levels))
	}
	for i, level := range levels {
		rulesOut := filepath.Join(dir, fmt.Sprintf("rules-%d", i+1))
		cmd := exec.Command(promtool, "tsdb", "create-blocks-from", "rules", "--start="+strconv.FormatInt(from.Unix(), 10),
			"--end="+strconv.FormatInt(to.Unix(), 10), "--url=http://"+prom.Addr, "--output-dir="+rulesOut, level)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool tsdb create-blocks-from rules %s: %v\n%s", level, err, b)
		}
		made, _ := os.ReadDir(rulesOut)
		for _, e := range made {
			if err := os.Rename(filepath.Join(rulesOut, e.Name()), filepath.Join(tsdb, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		// Prometheus loads new blocks within a minute; a restart, at once.
		prom.Stop(t)
		prom = startProm()
		eventually(t, "Prometheus on the blocks again", 30*time.Second, func() bool {
			_, ok := scalarAt(t, prom.Addr, `sum(wolkvox_transfers_total`+sel+`)`, to)
			return ok
		})
	}
	// Every panel that should show history does, at a point inside the
	// backfill: the Transfers and Chats rows, whose series the backfill
	// writes (recording rules included, after the passes above). The Now
	// row (a snapshot of the moment it is read) and Exporter health (the
	// exporter's own process) have no history: README, "Afterwards".
	historyRows := map[string]bool{"Transfers": true, "Chats, e-mail and social": true}
	// The per-agent tables need ten answers or closes per agent in their
	// range, which the fake's traffic gives in a day, not in an hour: they
	// are checked over a day's range.
	dayRange := map[string]bool{
		"Lowest-scoring agents (10+ answers)":               true,
		"Share of closes by timeout, by agent (10+ closes)": true,
	}
	for _, rng := range []string{"3600s", "86400s"} {
		for _, p := range dashboardPanels(t, rng) {
			if !historyRows[p.Row] || dayRange[p.Title] != (rng == "86400s") {
				continue
			}
			for _, e := range p.Exprs {
				if len(queryAt(t, prom.Addr, e, from.Add(30*time.Hour))) == 0 {
					t.Errorf("panel %q has no data inside the backfill: %s", p.Title, e)
				}
			}
		}
	}

	historic := from.Add(30 * time.Hour)
	if n, ok := scalarAt(t, prom.Addr, `count(job_instance_skill_type_call:wolkvox_transfers:rate15m_zscore{operation="bogota"})`, historic); !ok || n == 0 {
		t.Errorf("no spike score at %v, inside the backfill, after backfilling the recording rules", historic.In(loc))
	}

	// Over the whole range: no counter reset, and every case created in it
	// and closed when read counted closed, those whose close fell after
	// their day's end included (at that midnight). The API was read during
	// the last few seconds, while a case or two may have closed.
	whole := fmt.Sprintf("[%ds]", int(to.Sub(from)/time.Second)+60)
	for _, m := range []string{"wolkvox_transfers_total", "wolkvox_chat_interactions_closed_total"} {
		if r, ok := scalarAt(t, prom.Addr, `sum(resets(`+m+sel+whole+`))`, to); !ok || r != 0 {
			t.Errorf("%s: %v counter resets over the backfill (%v)", m, r, ok)
		}
	}
	closedWhenRead := 0
	for _, c := range traffic.Cases(from, to) {
		if !c.Closed.IsZero() && !c.Closed.After(time.Now()) {
			closedWhenRead++
		}
	}
	if got, ok := scalarAt(t, prom.Addr, `sum(wolkvox_chat_interactions_closed_total`+sel+`)`, to); !ok || math.Abs(got-float64(closedWhenRead)) > 3 {
		t.Errorf("%v cases counted closed by the end of the backfill; %d of those created in it were closed when read", got, closedWhenRead)
	}

	// The live exporter on the backfill's state file: it reads on from the
	// backfill's end and continues every counter.
	live := exportertest.StartAt(t, bin, instance, []string{"WOLKVOX_TOKEN=" + api.Token()}, "--wolkvox.url="+api.URL, "--wolkvox.operation=bogota",
		"--storage.state-file="+filepath.Join(out, "bogota.state"), "--poll.interval=2s", "--poll.delay=0s", "--chat.revisit=0s")
	live.WaitFor(t, "/-/ready", 30*time.Second, func(s int, _ string) bool { return s == 200 })
	eventually(t, "Prometheus scraping the live exporter", 30*time.Second, func() bool {
		v, ok := scalarAt(t, prom.Addr, `up{instance="`+instance+`"}`, time.Now())
		return ok && v == 1
	})
	api.FailAll(wolkvoxtest.Fault{Status: 400, Body: "frozen"})
	time.Sleep(3 * time.Second) // a scrape after the last counted poll
	var liveEnd time.Time
	for _, r := range api.Requests() {
		if r.Status == 200 || r.Status == 404 {
			liveEnd = maxTime(liveEnd, r.End)
		}
	}
	before := to.Add(-2 * time.Hour)
	atNow := time.Now()
	last, ok1 := scalarAt(t, prom.Addr, `sum(wolkvox_transfers_total`+sel+`)`, atNow)
	first, ok2 := scalarAt(t, prom.Addr, `sum(wolkvox_transfers_total`+sel+`)`, before)
	if !ok1 {
		up, _ := scalarAt(t, prom.Addr, `up{instance="`+instance+`"}`, atNow)
		cnt, _ := scalarAt(t, prom.Addr, `count(wolkvox_transfers_total)`, atNow)
		t.Logf("debug: up=%v count=%v", up, cnt)
		if resp, err := http.Get("http://" + prom.Addr + "/api/v1/targets"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("targets: %s", b)
		}
		_, body, _ := live.Get("/metrics")
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "wolkvox_transfers_total") {
				t.Logf("live: %s", l)
				break
			}
		}
	}
	if !ok1 || !ok2 || last-first != transfersIn(before, liveEnd) {
		t.Errorf("across the join, transfers went from %v to %v (+%v); the API holds %v between", first, last, last-first, transfersIn(before, liveEnd))
	}
	if resets, _ := scalarAt(t, prom.Addr, `sum(resets(wolkvox_transfers_total`+sel+`[5h]))`, atNow); resets != 0 {
		t.Errorf("%v counter resets across the join", resets)
	}
	// A histogram's backfilled buckets are the live ones: the same le
	// values, so no other series appear across the join.
	bucket := `wolkvox_transfer_duration_seconds_bucket` + sel
	if both, _ := scalarAt(t, prom.Addr, `count(count_over_time(`+bucket+`[5h]))`, atNow); both == 0 || both != func() float64 {
		v, _ := scalarAt(t, prom.Addr, `count(`+bucket+`)`, atNow)
		return v
	}() {
		t.Errorf("%v bucket series across the join, not the live ones alone", both)
	}
	live.Stop(t)

	// The wrong order: history before the counters' start cannot join
	// them, and is refused with a clear line.
	from = from.Add(-24 * time.Hour)
	if code, log := backfill(); code != 2 || !strings.Contains(log, "cannot join them without a counter reset") {
		t.Errorf("a backfill before the state's start: exit %d\n%s", code, log)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// dashboardVariable returns the query of the shipped dashboard's variable
// name, with the variables it refers to set as in dashboardRow.
func dashboardVariable(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../dashboards/wolkvox-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok && v.Name == name {
			return strings.NewReplacer("$job", "wolkvox", "$instance", ".*").Replace(q["query"].(string))
		}
	}
	t.Fatalf("no variable %s", name)
	return ""
}

// labelValues runs a Grafana label_values(metric{...}, label) query over
// [r[0], r[1]], as Grafana does when a dashboard's range changes.
func labelValues(t *testing.T, prom, variable string, r [2]time.Time) []string {
	t.Helper()
	m := regexp.MustCompile(`^label_values\((.*), *(\w+)\)$`).FindStringSubmatch(variable)
	if m == nil {
		t.Fatalf("not a label_values query: %s", variable)
	}
	resp, err := http.Get("http://" + prom + "/api/v1/label/" + m[2] + "/values?match[]=" + url.QueryEscape(m[1]) +
		"&start=" + strconv.FormatInt(r[0].Unix(), 10) + "&end=" + strconv.FormatInt(r[1].Unix(), 10))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// dashboardPanelExpr returns the first query of the shipped dashboard's
// panel titled title, the variables set, $__range as rangeSeconds.
func dashboardPanelExpr(t *testing.T, title, rangeSeconds string) string {
	t.Helper()
	for _, p := range dashboardPanels(t, rangeSeconds) {
		if p.Title == title {
			return p.Exprs[0]
		}
	}
	t.Fatalf("no panel %q", title)
	return ""
}
