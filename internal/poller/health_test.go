package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// A scrape during a poll that retries (backoff can take minutes when the
// API fails) shows every call made so far, and up turns 0 as soon as a
// report's poll fails, while the other report is still being polled.
func TestHealthIsPublishedAsCallsEnd(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	backoff := make(chan struct{})
	proceed := make(chan struct{})
	cfg.Client.Retry = wolkvox.RetryPolicy{Attempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error {
		backoff <- struct{}{}
		<-proceed
		return nil
	}}
	p := startPoller(t, cfg)
	p.PollOnce(context.Background()) // both reports up
	if up := sum(t, p, "wolkvox_report_up"); up != 2 {
		t.Fatalf("up = %v after a good poll", up)
	}
	srv.FailAll(wolkvoxtest.Fault{Status: 502, Body: "<html>bad gateway</html>"})
	done := make(chan struct{})
	go func() { p.PollOnce(context.Background()); close(done) }()

	calls := func(report wolkvox.Report) float64 {
		return sum(t, p, "wolkvox_api_requests_total", "report="+string(report), "code=502")
	}
	for i := 1; i <= 2; i++ { // agent_13_1's first and second calls failed
		<-backoff
		if got := calls(wolkvox.ReportTransfers); got != float64(i) {
			t.Errorf("during agent_13_1's backoff %d: %v calls with 502 scraped, the fake answered %d", i, got, i)
		}
		proceed <- struct{}{}
	}
	<-backoff // chat_4's first backoff: agent_13_1 has failed by now
	if up := sum(t, p, "wolkvox_report_up", "report=agent_13_1"); up != 0 {
		t.Errorf("agent_13_1 up = %v while chat_4 is still being polled, after agent_13_1 failed", up)
	}
	if got := sum(t, p, "wolkvox_report_poll_failures_total", "report=agent_13_1", "reason=http_5xx"); got != 1 {
		t.Errorf("agent_13_1 failures = %v, want 1", got)
	}
	if got, want := calls(wolkvox.ReportTransfers)+calls(wolkvox.ReportInteractions), float64(len(srv.Requests())-2); got != want {
		t.Errorf("%v failed calls scraped, the fake answered %v", got, want)
	}
	proceed <- struct{}{}
	<-backoff
	proceed <- struct{}{}
	<-done
}

// Label combinations are capped per metric, not only per label: 3,000
// agents each with every type_call would make 48,000 agent series; with a
// cap of 1,000 the rest count under an all-"other" series, the overflow
// is counted, and the "other" agent carries no real agent's name.
func TestSeriesPerMetricAreCapped(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	srv := newFake(t, store)
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.MaxSeriesPerMetric = 1000
	p := startPoller(t, cfg)
	date := t0.Add(-3 * time.Minute).Format(time.DateTime)
	var recs []wolkvoxtest.RawTransfer
	for i := range 3000 {
		for j, tc := range []string{"transfer", "conference", "inbound", "outbound_ma"} {
			id := strconv.Itoa(100000 + i)
			recs = append(recs, wolkvoxtest.RawTransfer{ConnIDTransfer: id + "." + strconv.Itoa(j), Date: date, TypeCall: tc,
				OriginAgentID: id, OriginAgentName: "AGENT " + id, DestinyAgentID: "-", SkillID: strconv.Itoa(i % 900)})
		}
	}
	store.AddTransfers(recs...)
	p.PollOnce(context.Background())
	mfs := gather(t, p)
	if n := len(mfs["wolkvox_agent_transfers_total"].GetMetric()); n > 1000 {
		t.Errorf("%d agent_transfers series, want at most the cap of 1000", n)
	}
	if n := len(mfs["wolkvox_transfers_total"].GetMetric()); n > 1000+8 {
		t.Errorf("%d transfers series, want at most the cap and the zeros of known type_calls", n)
	}
	if got := sum(t, p, "wolkvox_agent_transfers_total"); got != 12000 {
		t.Errorf("agent legs = %v, want all 12000 counted, overflow included", got)
	}
	if got := sum(t, p, "wolkvox_series_overflow_total", "metric=wolkvox_agent_transfers_total"); got != 12000-999 {
		t.Errorf("overflow = %v, want %v", got, 12000-999)
	}
	for _, m := range mfs["wolkvox_agent_info"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "agent_id" && l.GetValue() == "other" {
				t.Errorf("agent_info{agent_id=\"other\"} carries a name: %v", m.GetLabel())
			}
		}
	}
}

// A poison record in the middle of a busy window: the report stays up,
// everything else is counted once, and exactly the poison's second is
// counted as skipped.
func TestPoisonRecordIsCountedAsSkipped(t *testing.T) {
	clock := exportertest.NewClock(t0)
	store := &wolkvoxtest.Store{Location: bogota}
	second := t0.Add(-3 * time.Minute).Format(time.DateTime)
	store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: "poison", Date: second, TypeCall: "transfer",
		Override: map[string]string{"origin_agent_name": "\"TAB\tINSIDE\""}})
	srv := newFake(t, wolkvoxtest.Merge{busyTraffic(), store})
	p := startPoller(t, testConfig(srv, clock))
	p.PollOnce(context.Background())
	if got := sum(t, p, "wolkvox_report_poison_skipped_seconds_total", "report=agent_13_1"); got != 1 {
		t.Errorf("poison skipped seconds = %v, want 1", got)
	}
	if up := sum(t, p, "wolkvox_report_up"); up != 2 {
		t.Errorf("report_up sum = %v with a poison record", up)
	}
	var lost float64 // the poison second's healthy records go with it
	for _, r := range busyTraffic().Transfers(t0.Add(-6*time.Minute), t0.Add(-time.Minute)) {
		if r.Date == second {
			lost++
		}
	}
	// The fake cannot tell that a response with the poison was unusable:
	// it counts the poison and its second's records as delivered.
	served := float64(len(srv.ServedTransfers()))
	if got, want := sum(t, p, "wolkvox_transfers_total"), served-lost-1; got != want || served == 0 {
		t.Errorf("transfers_total = %v, want the %v distinct the fake served less the poison's second (%v and the poison)", got, want, lost)
	}
}

// A poison record in chat_4 is found by the new window, then lies in the
// revisit horizon for a while: each sweep reads around it rather than
// isolating it again, and it is counted once.
func TestPoisonCaseIsIsolatedOnceWhileRevisited(t *testing.T) {
	clock := exportertest.NewClock(t0)
	store := &wolkvoxtest.Store{Location: bogota}
	store.AddInteractions(wolkvoxtest.RawInteraction{CaseID: "poison", Channel: "Email", Status: "open",
		DateCreation: t0.Add(20 * time.Second).Format(time.DateTime), Override: map[string]string{"subject": "\"TAB\tINSIDE\""}})
	srv := lifecycleFake(t, clock, wolkvoxtest.Merge{&wolkvoxtest.Lifecycles{Location: bogota, PerMinute: 30, Seed: 9}, store})
	p := startPoller(t, lifecycleConfig(srv, clock))
	const polls = 60
	pollEvery(context.Background(), p, clock, polls, lifeInterval)
	if got := sum(t, p, "wolkvox_report_poison_skipped_seconds_total", "report=chat_4"); got != 1 {
		t.Errorf("poison skipped seconds = %v, want the one second, once", got)
	}
	// One revisit call a poll, and a few more where a slice is cut around
	// the poison; isolating it again at every sweep would cost a dozen
	// calls a sweep (15 sweeps here).
	if got := sum(t, p, "wolkvox_api_requests_total", "purpose=revisit"); got > polls+30 {
		t.Errorf("%v revisit calls in %d polls: the poison is isolated again and again", got, polls)
	}
	if up := sum(t, p, "wolkvox_report_up", "report=chat_4"); up != 1 {
		t.Errorf("chat_4 up = %v", up)
	}
}
