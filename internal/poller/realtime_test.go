package poller

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// realtimeFake is a fake with traffic, a spike on skill 101 and real time
// that follows it, in the API's messiest formats, on clock.
func realtimeFake(t *testing.T, clock *exportertest.Clock, edit ...func(*wolkvoxtest.Config)) *wolkvoxtest.Server {
	t.Helper()
	traffic := &wolkvoxtest.Traffic{Seed: 9, Location: bogota, TransfersPerMinute: 20, InteractionsPerMinute: 5, BodyBytes: 16}
	traffic.AddSpike(wolkvoxtest.Spike{Start: t0.Add(30 * time.Minute), End: t0.Add(50 * time.Minute), TypeCall: "transfer", SkillID: "101", PerMinute: 60})
	cfg := wolkvoxtest.Config{Location: bogota, Data: traffic, Now: clock.Now, TB: t,
		Realtime:       &wolkvoxtest.Realtime{Seed: 9, Location: bogota, Traffic: traffic, Agents: 40},
		RealtimeFormat: wolkvoxtest.Format{Mixed: true}}
	for _, e := range edit {
		e(&cfg)
	}
	srv := wolkvoxtest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

func realtimeConfig(srv *wolkvoxtest.Server, clock Clock) Config {
	cfg := testConfig(srv, clock)
	cfg.Operation = "op"
	cfg.Realtime = Realtime{Interval: 5 * time.Minute, QuotaInterval: time.Hour,
		Targets: collector.Targets{ServiceLevel: 0.8, ServiceLevelSeconds: 20, Queue: 10, Abandoned: 0.1}}
	return cfg
}

// series returns name's series as label sets (without operation) to values.
func series(t *testing.T, p *Poller, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	mf := gather(t, p)[name]
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		out[labelKey(m)] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	return out
}

func labelKey(m *dto.Metric) string {
	k := ""
	for _, lp := range m.GetLabel() {
		if lp.GetName() != "operation" {
			k += lp.GetName() + "=" + lp.GetValue() + ","
		}
	}
	return k
}

// Every gauge equals what the fake served at the moment it was read: the
// queue, each service-level threshold, abandons and the day's counts per
// skill; each agent's status, time in it, calls, state times, AHT and
// occupancy; agents by status; the quota.
func TestSnapshotGaugesEqualWhatTheFakeServed(t *testing.T) {
	clock := exportertest.NewClock(t0.Add(40 * time.Minute)) // in the spike
	srv := realtimeFake(t, clock)
	p := startPoller(t, realtimeConfig(srv, clock))
	p.SnapshotOnce(context.Background())

	skills := srv.ServedSkills()
	agents, _ := srv.ServedAgents()
	if len(skills) == 0 || len(agents) == 0 {
		t.Fatalf("the fake served %d skills, %d agents", len(skills), len(agents))
	}
	want := map[string]map[string]float64{}
	put := func(name, key string, v float64) {
		if want[name] == nil {
			want[name] = map[string]float64{}
		}
		want[name][key] = v
	}
	for _, s := range skills {
		id := "skill_id=" + s.ID + ","
		put("wolkvox_skill_info", "skill_id="+s.ID+",skill_name="+s.Name+",", 1)
		put("wolkvox_skill_calls_in_queue", id, float64(s.InQueue))
		put("wolkvox_skill_inbound_calls_today", id, float64(s.Inbound))
		put("wolkvox_skill_answered_calls_today", id, float64(s.Answered))
		put("wolkvox_skill_abandoned_calls_today", id, float64(s.Abandoned))
		put("wolkvox_skill_abandoned_ratio", id, s.AbandonRatio)
		for secs, v := range s.ServiceLevel {
			if secs != 0 {
				put("wolkvox_skill_service_level_ratio", id+"threshold_seconds="+strconv.Itoa(secs)+",", v)
			}
		}
		put("wolkvox_target_calls_in_queue", id, 10)
		put("wolkvox_target_abandoned_ratio", id, 0.1)
		put("wolkvox_target_service_level_ratio", id+"threshold_seconds=20,", 0.8)
	}
	byStatus := map[string]float64{}
	for _, a := range agents {
		id := "agent_id=" + a.ID + ","
		byStatus[a.Status]++
		put("wolkvox_agent_status", "agent_id="+a.ID+",agent_name="+a.Name+",status="+a.Status+",", 1)
		put("wolkvox_agent_status_seconds", id, float64(a.InStatus))
		for dir, v := range map[string]int{"all": a.Calls, "inbound": a.Inbound, "outbound": a.Outbound, "internal": a.Internal} {
			put("wolkvox_agent_calls_today", id+"direction="+dir+",", float64(v))
		}
		for state, v := range map[string]int{"ready": a.Ready, "inbound": a.InboundTime, "outbound": a.OutboundTime, "acw": a.ACW, "ring": a.Ring, "login": a.Login, "aux": a.Aux} {
			put("wolkvox_agent_state_seconds_today", id+"state="+state+",", float64(v))
		}
		if a.HasAHT {
			put("wolkvox_agent_handle_time_average_seconds", id, float64(a.AHT))
		}
		if a.HasOccupancy {
			put("wolkvox_agent_occupancy_ratio", id, a.Occupancy)
		}
	}
	for status, n := range byStatus {
		put("wolkvox_agents", "status="+status+",", n)
	}
	put("wolkvox_quota_tokens_limit", "", 1000)
	for name, series0 := range want {
		got := series(t, p, name)
		if len(got) != len(series0) {
			t.Errorf("%s: %d series, the fake served %d", name, len(got), len(series0))
		}
		for k, v := range series0 {
			if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-9 {
				t.Errorf("%s{%s} = %v (present %v), the fake served %v", name, k, g, ok, v)
			}
		}
	}
	// token_info counts every call the fake served for the token, itself
	// included: 3 at the moment it answered (agents, skills, token_info).
	if got := series(t, p, "wolkvox_quota_tokens_used_today")["scope=token,"]; got != 3 {
		t.Errorf("quota used today (token) = %v, want the 3 calls the fake counted", got)
	}
	if n := series(t, p, "wolkvox_snapshot_invalid_fields_total"); len(n) != 0 {
		t.Errorf("invalid fields counted in well-formed snapshots: %v", n)
	}
}

// A failed snapshot call withdraws that snapshot's gauges at once (a gap,
// and the failure alert; never a queue frozen at its last value), and a
// snapshot older than two intervals leaves /metrics too.
func TestFailedOrStaleSnapshotLeavesMetrics(t *testing.T) {
	clock := exportertest.NewClock(t0)
	srv := realtimeFake(t, clock)
	cfg := realtimeConfig(srv, clock)
	cfg.Realtime.QuotaInterval = 0
	p := startPoller(t, cfg)
	ctx := context.Background()
	p.SnapshotOnce(ctx)
	if len(series(t, p, "wolkvox_skill_calls_in_queue")) == 0 || len(series(t, p, "wolkvox_agents")) == 0 {
		t.Fatal("no snapshot gauges after a good read")
	}
	clock.Advance(5 * time.Minute)
	srv.FailNext(1, wolkvoxtest.Fault{Status: 502, Body: "<html>bad gateway</html>", Reports: []wolkvox.Report{wolkvox.ReportSkills}})
	cfg.Client.Retry.Attempts = 1
	p.SnapshotOnce(ctx)
	if got := series(t, p, "wolkvox_skill_calls_in_queue"); len(got) != 0 {
		t.Errorf("a failed skills read left %d queue gauges", len(got))
	}
	if len(series(t, p, "wolkvox_agents")) == 0 {
		t.Error("the agents snapshot, read fine, left too")
	}
	if up := series(t, p, "wolkvox_report_up")["report=skills,"]; up != 0 {
		t.Errorf("report_up{report=skills} = %v after a failure", up)
	}
	// Ten minutes on without a read: the agents snapshot is stale.
	clock.Advance(10*time.Minute + time.Second)
	if got := series(t, p, "wolkvox_agents"); len(got) != 0 {
		t.Errorf("a snapshot two intervals old is still served: %v", got)
	}
}

// An API that refuses skill_id=all: said once, shown as report_up 0 with
// the reason, and skills are not asked for again (each refusal spends a
// token); agents go on. With the skills listed, each is read.
func TestRefusedAllSkillsIsSaidOnceAndNotRetried(t *testing.T) {
	clock := exportertest.NewClock(t0)
	srv := realtimeFake(t, clock, func(c *wolkvoxtest.Config) { c.RefuseAllSkills = true })
	cfg := realtimeConfig(srv, clock)
	cfg.Realtime.QuotaInterval = 0
	p := startPoller(t, cfg)
	ctx := context.Background()
	for range 4 {
		p.SnapshotOnce(ctx)
		clock.Advance(5 * time.Minute)
	}
	skillCalls, agentCalls := 0, 0
	for _, r := range srv.Requests() {
		switch r.Report {
		case wolkvox.ReportSkills:
			skillCalls++
		case wolkvox.ReportAgents:
			agentCalls++
		}
	}
	if skillCalls != 1 || agentCalls != 4 {
		t.Errorf("%d skills calls and %d agents calls over 4 snapshots, want 1 and 4", skillCalls, agentCalls)
	}
	if up := series(t, p, "wolkvox_report_up")["report=skills,"]; up != 0 {
		t.Errorf("report_up{report=skills} = %v, want 0", up)
	}
	if n := series(t, p, "wolkvox_report_poll_failures_total")["reason=skills_all_refused,report=skills,"]; n != 1 {
		t.Errorf("poll_failures_total{reason=skills_all_refused} = %v, want 1", n)
	}
	listed := realtimeConfig(srv, clock)
	listed.Realtime.Skills = []string{"101", "102"}
	listed.Realtime.QuotaInterval = 0
	p2 := startPoller(t, listed)
	p2.SnapshotOnce(ctx)
	if got := series(t, p2, "wolkvox_skill_calls_in_queue"); len(got) != 2 {
		t.Errorf("with two skills listed: %v", got)
	}
}

// Reports, revisits, snapshots and token_info share the token: run
// together, with slow and failing calls, none overlaps another at the fake
// (TB: t fails the test on any overlap).
func TestNoTokenOverlapAcrossCallKinds(t *testing.T) {
	srv := realtimeFake(t, exportertest.NewClock(time.Now()), func(c *wolkvoxtest.Config) { c.Now = nil })
	srv.FailAll(wolkvoxtest.Fault{Latency: 20 * time.Millisecond})
	cfg := realtimeConfig(srv, SystemClock{})
	cfg.Interval, cfg.Delay, cfg.Revisit = 100*time.Millisecond, 0, time.Minute
	cfg.Realtime = Realtime{Interval: time.Second, QuotaInterval: time.Second}
	p := startPoller(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p.Run(ctx)
	kinds := map[wolkvox.Report]int{}
	for _, r := range srv.Requests() {
		kinds[r.Report]++
	}
	for _, r := range append(append([]wolkvox.Report{}, wolkvox.Reports...), wolkvox.SnapshotReports...) {
		if kinds[r] == 0 {
			t.Errorf("no %s call in 3 s: the test did not mix the kinds: %v", r, kinds)
		}
	}
	if n := srv.Overlaps(); n != 0 {
		t.Errorf("%d overlapping calls", n)
	}
}

// The plan equals the calls the fake counted over a simulated day, at the
// defaults with real time on.
func TestPlanEqualsTheCallsOfASimulatedDay(t *testing.T) {
	clock := exportertest.NewClock(t0)
	srv := realtimeFake(t, clock, func(c *wolkvoxtest.Config) { c.ForgetServed = false })
	cfg := realtimeConfig(srv, clock)
	cfg.Revisit = 24 * time.Hour
	p := startPoller(t, cfg)
	ctx := context.Background()
	steps := int(24 * time.Hour / cfg.Interval)
	for range steps {
		p.PollOnce(ctx)
		p.SnapshotOnce(ctx)
		clock.Advance(cfg.Interval)
	}
	if got, want := float64(len(srv.Requests())), PlannedCallsPerDay(cfg); got != want {
		t.Errorf("the fake counted %v calls in a day; the plan says %v", got, want)
	}
	if got := PlannedCallsPerDay(cfg); got != 576+96+576+24 {
		t.Errorf("plan %v; the README says 576 + 96 + 576 + 24", got)
	}
}
