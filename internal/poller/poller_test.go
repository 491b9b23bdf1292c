package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

func busyTraffic() *wolkvoxtest.Traffic {
	// About two transfers a second, so nearly every window boundary second
	// holds a record that both adjacent windows return.
	return &wolkvoxtest.Traffic{Seed: 11, Location: bogota, TransfersPerMinute: 120, InteractionsPerMinute: 20, BodyBytes: 256}
}

func pollEvery(ctx context.Context, p *Poller, clock *fakeClock, n int, step time.Duration) {
	for range n {
		p.PollOnce(ctx)
		clock.Advance(step)
	}
}

// healAndAssertRecovered clears the fake's faults, polls twice, and checks
// that both reports are up and the counters equal what the fake served.
func healAndAssertRecovered(ctx context.Context, t *testing.T, p *Poller, clock *fakeClock, srv *wolkvoxtest.Server) {
	t.Helper()
	srv.Heal()
	pollEvery(ctx, p, clock, 2, 5*time.Minute)
	if up := sum(t, p, "wolkvox_report_up"); up != 2 {
		t.Errorf("report_up sum = %v after the fault cleared", up)
	}
	assertCountsMatchServed(t, p, srv)
}

func TestExactlyOnceAcrossOverlappingBoundaries(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	pollEvery(context.Background(), p, clock, 8, 5*time.Minute)
	assertCountsMatchServed(t, p, srv)
	if d := sum(t, p, "wolkvox_report_duplicate_records_total", "report=agent_13_1"); d == 0 {
		t.Error("no boundary duplicates were seen; the test does not exercise them")
	}
	// Windows are contiguous: each starts where the previous ended.
	reqs := srv.Requests()
	for i := 2; i < len(reqs); i++ {
		if reqs[i].Report == reqs[i-2].Report && !reqs[i].Start.Equal(reqs[i-2].End) {
			t.Errorf("window %v..%v does not start at the previous end %v", reqs[i].Start, reqs[i].End, reqs[i-2].End)
		}
	}
	if first := reqs[0]; first.End.Sub(first.Start) != 5*time.Minute || !first.End.Equal(t0.Add(-time.Minute)) {
		t.Errorf("first window %v..%v, want one interval ending at now - delay", first.Start, first.End)
	}
}

func TestExactlyOnceAcrossFailedPolls(t *testing.T) {
	faults := map[string]wolkvoxtest.Fault{
		"concurrency 403": wolkvoxtest.Forbidden(wolkvoxtest.TextConcurrency),
		"5xx":             {Status: 502, Body: "<html>Bad Gateway</html>"},
		"cut body":        {CutAfter: 500},
		"quota":           wolkvoxtest.Forbidden(wolkvoxtest.TextQuota),
		"php warning":     {PHPWarning: true},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			srv := newFake(t, busyTraffic())
			clock := exportertest.NewClock(t0)
			p := startPoller(t, testConfig(srv, clock))
			ctx := context.Background()
			pollEvery(ctx, p, clock, 2, 5*time.Minute)
			srv.FailAll(fault)
			pollEvery(ctx, p, clock, 3, 5*time.Minute)
			if up := sum(t, p, "wolkvox_report_up", "report=agent_13_1"); up != 0 {
				t.Errorf("report_up = %v during the fault", up)
			}
			if f := sum(t, p, "wolkvox_report_poll_failures_total", "report=agent_13_1"); f != 3 {
				t.Errorf("poll failures = %v, want 3", f)
			}
			healAndAssertRecovered(ctx, t, p, clock, srv)
			// The catch-up poll covered the whole outage.
			served := srv.ServedTransfers()
			minDate, maxDate := "9999", ""
			for _, r := range served {
				minDate, maxDate = min(minDate, r.Date), max(maxDate, r.Date)
			}
			if want := t0.Add(-6 * time.Minute).Format(time.DateTime); minDate > t0.Add(-5*time.Minute).Format(time.DateTime) || minDate < want {
				t.Errorf("earliest record %s", minDate)
			}
		})
	}
}

func TestExactlyOnceAcrossTruncationSplits(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.Client.MaxRecords = 200 // a 5-minute window holds about 600
	p := startPoller(t, cfg)
	pollEvery(context.Background(), p, clock, 4, 5*time.Minute)
	assertCountsMatchServed(t, p, srv)
	calls := sum(t, p, "wolkvox_api_requests_total")
	if calls <= 8 || calls != float64(len(srv.Requests())) {
		t.Errorf("api_requests_total = %v, fake saw %d requests; want splits beyond 8 polls' calls", calls, len(srv.Requests()))
	}
}

func TestExactlyOnceAcrossRestartsOfThePollLoop(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		before := len(srv.Requests())
		go func() { p.Run(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for len(srv.Requests()) < before+2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		// A stop abandons the call in flight; the fake notices the hang-up
		// a moment later. A real restart takes far longer than that.
		for srv.InFlight() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		clock.Advance(7 * time.Minute)
	}
	// A poll cut short by a stop is resumed by the next one.
	p.PollOnce(context.Background())
	assertCountsMatchServed(t, p, srv)
}

func TestOutageLongerThanMaxCatchupIsSkippedAndCounted(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.MaxCatchup = time.Hour
	p := startPoller(t, cfg)
	p.PollOnce(context.Background())
	clock.Advance(3 * time.Hour)
	p.PollOnce(context.Background())
	skipped := sum(t, p, "wolkvox_report_skipped_seconds_total", "report=agent_13_1")
	if skipped != (2 * time.Hour).Seconds() {
		t.Errorf("skipped %v s, want 7200", skipped)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.End.Sub(last.Start) != time.Hour {
		t.Errorf("catch-up window %v..%v, want one hour", last.Start, last.End)
	}
	assertCountsMatchServed(t, p, srv)
}

// The host's clock runs two hours ahead for one poll, then is corrected;
// the API's clock is right throughout. The windows read while ahead were
// read before the API had their records: after the correction the
// exporter reads again from as far back as it remembers keys, so nothing
// is lost and nothing counted twice, and up stays present.
func TestClockSteppingBackLosesAndDoublesNothing(t *testing.T) {
	api := exportertest.NewClock(t0)
	traffic := busyTraffic()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: traffic, TB: t, Now: api.Now})
	t.Cleanup(srv.Close)
	host := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, host))
	ctx := context.Background()
	var lastEnd time.Time
	step := func(hostAhead time.Duration) {
		host.Set(api.Now().Add(hostAhead))
		p.PollOnce(ctx)
		lastEnd = api.Now().Add(-time.Minute)
		api.Advance(5 * time.Minute)
	}
	step(0)
	step(0)
	step(2 * time.Hour) // ahead: reads up to two hours the API has not lived yet
	for range 6 {
		step(0) // corrected
		if up := sum(t, p, "wolkvox_report_up"); up != 2 {
			t.Fatalf("report_up sum = %v after the clock stepped back", up)
		}
	}
	assertCountsMatchServed(t, p, srv)
	// Not only what was served: every record the API holds for the time.
	truth := map[string]bool{}
	for _, r := range traffic.Transfers(t0.Add(-6*time.Minute), lastEnd) {
		truth[r.ConnIDTransfer+r.Date] = true
	}
	if got := sum(t, p, "wolkvox_transfers_total"); got != float64(len(truth)) {
		t.Errorf("transfers_total = %v, the API holds %d for the time polled", got, len(truth))
	}
}

func TestCaseCountedOnceAsItMovesFromOpenToClosed(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	srv := newFake(t, store)
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	ctx := context.Background()
	at := func(d time.Duration) string { return t0.Add(d).Format(time.DateTime) }
	store.AddInteractions(wolkvoxtest.RawInteraction{Channel: "Email", CaseID: "77", Status: "open", DateCreation: at(-3 * time.Minute), CodAct: "10"})
	p.PollOnce(ctx)
	clock.Advance(5 * time.Minute)
	// The same case comes back closed, with a survey, in the next window.
	store.AddInteractions(wolkvoxtest.RawInteraction{Channel: "Email", CaseID: "77", Status: "close", DateCreation: at(2 * time.Minute),
		CloseDate: at(3 * time.Minute), EvaluationSurvey: "9", CodAct: "10", CodDescription: "VENTA"})
	p.PollOnce(ctx)
	clock.Advance(5 * time.Minute)
	p.PollOnce(ctx) // and nothing new
	for name, want := range map[string]float64{
		"wolkvox_chat_interactions_total":          1,
		"wolkvox_chat_interactions_closed_total":   1,
		"wolkvox_chat_survey_score":                1,
		"wolkvox_chat_resolution_duration_seconds": 1,
		"wolkvox_chat_typifications_total":         1,
		"wolkvox_agent_chat_interactions_total":    1,
		"wolkvox_agent_chat_survey_score":          1,
		"wolkvox_report_duplicate_records_total":   1,
	} {
		if got := sum(t, p, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := sum(t, p, "wolkvox_chat_typification_info", "cod_act=10", "cod_description=VENTA"); got != 1 {
		t.Errorf("typification info missing")
	}
}

func TestLabelsAndLimits(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	srv := newFake(t, store)
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	date := t0.Add(-3 * time.Minute).Format(time.DateTime)
	for i := range 40 {
		store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: string(rune('A' + i)), Date: date, TypeCall: "weird " + string(rune('A'+i)),
			SkillID: "-", OriginAgentID: "1", OriginAgentName: "ANA", DestinyAgentID: "-", Time: "bad"})
	}
	store.AddTransfers(wolkvoxtest.RawTransfer{Date: date, Time: "00:00:30", TypeCall: "transfer"}) // every other field empty
	p.PollOnce(context.Background())
	if got := sum(t, p, "wolkvox_transfers_total", "type_call=other", "skill_id=none"); got != 8 {
		t.Errorf("beyond 32 unknown type_calls: other = %v, want 8", got)
	}
	if got := sum(t, p, "wolkvox_transfers_total", "type_call=conference"); got != 0 {
		t.Errorf("conference = %v", got)
	}
	if _, ok := gather(t, p)["wolkvox_transfers_total"]; !ok {
		t.Fatal("no transfers metric")
	}
	if got := sum(t, p, "wolkvox_agent_transfers_total", "role=destination"); got != 0 {
		t.Errorf("destination '-' was counted: %v", got)
	}
	if got := sum(t, p, "wolkvox_report_invalid_fields_total", "field=time"); got != 40 {
		t.Errorf("invalid time fields = %v, want 40", got)
	}
	if got := sum(t, p, "wolkvox_agent_info", "agent_id=1", "agent_name=ANA"); got != 1 {
		t.Errorf("agent_info = %v", got)
	}
	// Every documented type_call is exported before it occurs.
	for _, tc := range wolkvox.TypeCalls {
		if !hasSeries(t, p, "wolkvox_transfers_total", "type_call="+tc) || !hasSeries(t, p, "wolkvox_window_transfers", "type_call="+tc) {
			t.Errorf("type_call %q not exported at 0", tc)
		}
	}
	for _, ch := range wolkvox.Channels {
		for _, name := range []string{"wolkvox_chat_open_interactions", "wolkvox_chat_oldest_open_age_seconds", "wolkvox_chat_interactions_archived_total"} {
			if !hasSeries(t, p, name, "channel="+ch) {
				t.Errorf("%s{channel=%q} not exported at 0", name, ch)
			}
		}
	}
}

func hasSeries(t *testing.T, p *Poller, name string, match ...string) bool {
	t.Helper()
	mf := gather(t, p)[name]
	if mf == nil {
		return false
	}
	for _, m := range mf.GetMetric() {
		ok := true
		for _, kv := range match {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName()+"="+lp.GetValue() == kv {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			return true
		}
	}
	return false
}

func TestAgentsAreForgottenAfterTheTTL(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	srv := newFake(t, store)
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.AgentTTL = time.Hour
	p := startPoller(t, cfg)
	store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: "1", Date: t0.Add(-3 * time.Minute).Format(time.DateTime), OriginAgentID: "12462", OriginAgentName: "SERGIO FLÓREZ", TypeCall: "transfer"})
	p.PollOnce(context.Background())
	if !hasSeries(t, p, "wolkvox_agent_info", "agent_id=12462") {
		t.Fatal("agent not exported")
	}
	clock.Advance(2 * time.Hour)
	p.PollOnce(context.Background())
	if hasSeries(t, p, "wolkvox_agent_info", "agent_id=12462") || hasSeries(t, p, "wolkvox_agent_transfers_total", "agent_id=12462") {
		t.Error("agent still exported after its TTL")
	}
	if got := sum(t, p, "wolkvox_transfers_total"); got != 1 {
		t.Errorf("transfers_total = %v: forgetting an agent must not touch the totals", got)
	}
}

func TestAgentMetricsCanBeTurnedOff(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.AgentMetrics = false
	p := startPoller(t, cfg)
	p.PollOnce(context.Background())
	for _, name := range []string{"wolkvox_agent_info", "wolkvox_agent_transfers_total", "wolkvox_agent_chat_interactions_total", "wolkvox_agent_chat_survey_score"} {
		if _, ok := gather(t, p)[name]; ok {
			t.Errorf("%s exported with agent metrics off", name)
		}
	}
}

func TestMetricsPassLint(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	pollEvery(context.Background(), p, clock, 2, 5*time.Minute)
	problems, err := testutil.CollectAndLint(p.Collector())
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
}

func TestReadyAfterBothReportsSucceeded(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	p := startPoller(t, testConfig(srv, clock))
	if p.Status().Ready() {
		t.Fatal("ready before any poll")
	}
	srv.FailNext(1, wolkvoxtest.Fault{Status: 500, Reports: []wolkvox.Report{wolkvox.ReportInteractions}})
	p.PollOnce(context.Background())
	if p.Status().Ready() {
		t.Fatal("ready although chat_4 failed")
	}
	p.PollOnce(context.Background())
	if !p.Status().Ready() {
		t.Fatal("not ready after both succeeded")
	}
}

func TestStateFileSurvivesARestart(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
	first := startPoller(t, cfg)
	pollEvery(context.Background(), first, clock, 3, 5*time.Minute)
	counted := sum(t, first, "wolkvox_transfers_total")
	data, err := os.ReadFile(cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	// Agent names are label values anyway; personal data is not.
	for _, secret := range []string{"cliente", "example.com", "5730", "Solicitud", "hola"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("state file holds report content %q", secret)
		}
	}
	// A restart 20 minutes later continues every counter where it stood
	// and resumes at the saved mark: no gap, and the boundary second's
	// records are not counted a second time.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Minute)
	second := startPoller(t, cfg)
	if got := sum(t, second, "wolkvox_transfers_total"); got != counted {
		t.Errorf("after the restart, before polling, transfers_total = %v, want it to continue from %v", got, counted)
	}
	second.PollOnce(context.Background())
	after := sum(t, second, "wolkvox_transfers_total")
	if want := float64(len(srv.ServedTransfers())); after != want {
		t.Errorf("transfers_total = %v after the restart, fake served %v distinct", after, want)
	}
	assertCountsMatchServed(t, second, srv)
}

func TestCorruptStateFileIsMovedAside(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"kind":"wolkvox_exporter state","version":1,"reports":{"agent_13_1":{"mark":"2026-`,
		"foreign":   `{"kind":"something else","version":1}`,
		"bad keys":  `{"kind":"wolkvox_exporter state","version":1,"reports":{"chat_4":{"mark":"2026-06-01T00:00:00Z","salt":"AAAAAAAAAAAAAAAAAAAAAA==","keys":"AAA="}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFake(t, busyTraffic())
			cfg := testConfig(srv, exportertest.NewClock(t0))
			cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(cfg.StateFile, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			p := startPoller(t, cfg)
			if got, err := os.ReadFile(cfg.StateFile + ".corrupt"); err != nil || string(got) != content {
				t.Errorf("not moved aside: %v", err)
			}
			p.PollOnce(context.Background())
			if _, err := os.Stat(cfg.StateFile); err != nil {
				t.Errorf("no fresh state written: %v", err)
			}
		})
	}
}

func TestUnwritableStatePathFailsAtStart(t *testing.T) {
	srv := newFake(t, busyTraffic())
	cfg := testConfig(srv, exportertest.NewClock(t0))
	cfg.StateFile = "/nonexistent-dir/state.json"
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded with an unwritable state path")
	}
}
