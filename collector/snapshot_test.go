package collector

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// A hostile snapshot cannot make a metric explode: skills past MaxSkills
// and service-level thresholds the API does not report (it was sent
// service_level_1seg..200seg for 2,000 skills: 400,000 series) are left
// out and the skills counted; per-agent families stay within the series
// cap (7 state times an agent made 140,000 series of a 20,000 cap).
func TestSnapshotsStayWithinTheirCaps(t *testing.T) {
	var skills []wolkvox.SkillSnapshot
	for i := range 1500 {
		sl := map[int]float64{}
		for secs := 1; secs <= 200; secs++ {
			sl[secs] = 0.5
		}
		skills = append(skills, wolkvox.SkillSnapshot{SkillID: fmt.Sprint(1000 + i), ServiceLevel: sl, CallsInQueue: wolkvox.Num{Value: 1, Valid: true}})
	}
	d := NewDescs(nil)
	metrics, dropped := RenderSkills(skills, Targets{}, d)
	if dropped != 500 {
		t.Errorf("%d skills dropped, want 500", dropped)
	}
	if n := count(t, metrics, ledger.SkillServiceLevel); n != MaxSkills*3 {
		t.Errorf("%d service-level series, want %d (3 thresholds of %d skills)", n, MaxSkills*3, MaxSkills)
	}
	var agents []wolkvox.AgentSnapshot
	for i := range 100 {
		n := wolkvox.Num{Value: 1, Valid: true}
		agents = append(agents, wolkvox.AgentSnapshot{AgentID: fmt.Sprint(i), Status: "READY", ReadyTime: n, InboundTime: n, OutboundTime: n,
			ACWTime: n, RingTime: n, LoginTime: n, AuxTime: n, Calls: n, Inbound: n, Outbound: n, Internal: n})
	}
	agents = append(agents, wolkvox.AgentSnapshot{Status: "BREAK"}) // no id: counted by status all the same
	const seriesCap = 70
	metrics, dropped = RenderAgents(agents, true, seriesCap/AgentSeries, d)
	if n := count(t, metrics, ledger.AgentStateTimeToday); n > seriesCap {
		t.Errorf("%d state-time series, over the cap of %d", n, seriesCap)
	}
	if dropped != 90 {
		t.Errorf("%d agents dropped, want 90", dropped)
	}
	if n := value(t, metrics, ledger.Agents, "BREAK"); n != 1 {
		t.Errorf("agents{status=BREAK} = %v: an agent without an id is still an agent", n)
	}
}

func count(t *testing.T, metrics []prometheus.Metric, name string) int {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exportertest.Prebuilt(metrics))
	n, err := testutil.GatherAndCount(reg, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func value(t *testing.T, metrics []prometheus.Metric, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exportertest.Prebuilt(metrics))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
