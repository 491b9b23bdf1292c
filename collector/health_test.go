package collector

import (
	"context"
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
	clock := &fakeClock{t: t0}
	cfg := testConfig(srv, clock)
	backoff := make(chan struct{})
	proceed := make(chan struct{})
	cfg.Client.Retry = wolkvox.RetryPolicy{Attempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error {
		backoff <- struct{}{}
		<-proceed
		return nil
	}}
	p := newPoller(t, cfg)
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
