package e2e

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// liveSnapshots is real time the test changes as it goes: a queue that
// backs up on cue. It implements wolkvoxtest.Snapshots.
type liveSnapshots struct {
	mu     sync.Mutex
	skills []wolkvoxtest.SkillRow
	agents []wolkvoxtest.AgentRow
}

func (s *liveSnapshots) SkillsAt(time.Time) []wolkvoxtest.SkillRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wolkvoxtest.SkillRow(nil), s.skills...)
}

func (s *liveSnapshots) AgentsAt(time.Time) []wolkvoxtest.AgentRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wolkvoxtest.AgentRow(nil), s.agents...)
}

func (s *liveSnapshots) set(queue int, serviceLevel, abandoned float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skills = []wolkvoxtest.SkillRow{
		{ID: "101", Name: "VENTAS", InQueue: queue, Inbound: 400, Answered: 360, Abandoned: 40,
			ServiceLevel: map[int]float64{10: serviceLevel - 0.1, 20: serviceLevel, 30: serviceLevel + 0.05}, AbandonRatio: abandoned},
		{ID: "102", Name: "SOPORTE", InQueue: 1, Inbound: 200, Answered: 196, Abandoned: 4,
			ServiceLevel: map[int]float64{10: 0.85, 20: 0.92, 30: 0.97}, AbandonRatio: 0.02},
	}
}

// TestRealtimeEndToEnd: a queue backing up on skill 101 of the fake fires
// WolkvoxQueueBackingUp and WolkvoxServiceLevelBelowTarget through
// Prometheus (the shipped rules, shortened) and Alertmanager, each carrying
// its operation and skill; the dashboard's Now row, its queries run against
// that Prometheus with the variables set, returns the fake's values.
func TestRealtimeEndToEnd(t *testing.T) {
	promBin := exportertest.RequireTool(t, "prometheus", "prometheus")
	amBin := exportertest.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	loc, _ := time.LoadLocation("America/Bogota")
	live := &liveSnapshots{agents: []wolkvoxtest.AgentRow{
		{ID: "12462", Name: "SERGIO FLÓREZ", Status: "READY", InStatus: 40, Calls: 31, Inbound: 30, Outbound: 1, Ready: 3000, InboundTime: 9000, Login: 14000, AHT: 290, HasAHT: true, Occupancy: 0.81, HasOccupancy: true},
		{ID: "12463", Name: "COM-CAMILO PATIÑO", Status: "BREAK", InStatus: 900, Calls: 12, Inbound: 12, Ready: 1200, InboundTime: 4000, Login: 9000, AHT: 333, HasAHT: true, Occupancy: 0.6, HasOccupancy: true},
	}}
	live.set(2, 0.9, 0.02)
	traffic := &wolkvoxtest.Traffic{Seed: 3, Location: loc, TransfersPerMinute: 30, InteractionsPerMinute: 5, BodyBytes: 64}
	api := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, Data: traffic, TB: t, Realtime: live,
		RealtimeFormat: wolkvoxtest.Format{Mixed: true}})
	defer api.Close()

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	bin, err := exportertest.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "bogota.token", api.Token())
	write(t, dir, "wolkvox.yml", fmt.Sprintf(`defaults: {interval: 2s, delay: 0s, chat_revisit: 0s, realtime_interval: 1s, quota_interval: 0s}
operations:
  - {name: bogota, url: %q, token_file: %q, timezone: America/Bogota, targets: {queue: 10, service_level: 0.8, service_level_seconds: 20}}
`, api.URL, filepath.Join(dir, "bogota.token")))
	exporter := exportertest.Start(t, bin, nil, "--config.file="+filepath.Join(dir, "wolkvox.yml"))

	write(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, operation, skill_id]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/hook
`, hookSrv.URL))
	am := exportertest.StartAt(t, amBin, "127.0.0.1:"+strconv.Itoa(exportertest.FreePort(t)), nil,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"), "--cluster.listen-address=")
	prom := startPromOnRules(t, promBin, dir, exporter.Addr, am.Addr)

	eventually(t, "the real-time series in Prometheus", 40*time.Second, func() bool {
		v, ok := scalar(t, prom.Addr, `sum(wolkvox_skill_calls_in_queue{job="wolkvox"})`)
		return ok && v == 3
	})
	if got := hook.received("WolkvoxQueueBackingUp"); len(got) > 0 {
		t.Fatalf("WolkvoxQueueBackingUp fired before the queue backed up: %v", got)
	}

	// The queue backs up on skill 101 and its service level falls.
	live.set(30, 0.55, 0.12)
	for _, name := range []string{"WolkvoxQueueBackingUp", "WolkvoxServiceLevelBelowTarget"} {
		eventually(t, name+" at the webhook", 40*time.Second, func() bool { return len(hook.received(name)) > 0 })
		a := hook.received(name)[0]
		for k, want := range map[string]string{"operation": "bogota", "skill_id": "101", "job": "wolkvox"} {
			if a.Labels[k] != want {
				t.Errorf("%s label %s = %q, want %q (%v)", name, k, a.Labels[k], want, a.Labels)
			}
		}
		for _, other := range hook.received(name) {
			if other.Labels["skill_id"] == "102" {
				t.Errorf("%s fired for skill 102, which is fine", name)
			}
		}
	}
	if a := hook.received("WolkvoxQueueBackingUp")[0]; !strings.Contains(a.Annotations["description"], "VENTAS") || !strings.Contains(a.Annotations["summary"], "30 calls waiting") {
		t.Errorf("WolkvoxQueueBackingUp annotations: %v", a.Annotations)
	}

	// The dashboard's Now row, queried as Grafana would with the variables
	// set, returns what the fake serves now.
	nowRow := dashboardRow(t, "Now (real time)")
	if len(nowRow) < 5 {
		t.Fatalf("the Now row has %d panels", len(nowRow))
	}
	want := map[string]map[string]float64{
		"Calls in queue by skill":                    {"101": 30, "102": 1},
		"Service level against target":               {"101": 0.55, "102": 0.92},
		"Abandoned calls (share of today's inbound)": {"101": 0.12, "102": 0.02},
		"Agents by status":                           {"READY": 1, "BREAK": 1},
		"Agents longest in their status":             {"COM-CAMILO PATIÑO": 900, "SERGIO FLÓREZ": 40},
	}
	for title, exprs := range nowRow {
		w, ok := want[title]
		if !ok {
			t.Errorf("panel %q has no expected values in this test", title)
			continue
		}
		got := map[string]float64{}
		for labels, v := range query(t, prom.Addr, exprs[0]) {
			for key := range w {
				if strings.Contains(labels, ":"+key+" ") || strings.Contains(labels, ":"+key+"]") {
					got[key] = v
				}
			}
		}
		for key, v := range w {
			if g, ok := got[key]; !ok || g < v-1e-9 || g > v+1e-9 {
				t.Errorf("panel %q: %s = %v (present %v), the fake serves %v; query %s", title, key, g, ok, v, exprs[0])
			}
		}
	}
}

// dashboardRow returns, by title, each panel's queries of the shipped
// dashboard's row titled row, the variables set (dashboardPanels).
func dashboardRow(t *testing.T, row string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range dashboardPanels(t, "5m") {
		if p.Row == row {
			out[p.Title] = p.Exprs
		}
	}
	return out
}
