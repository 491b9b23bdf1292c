package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// TestSimulatedDaysAt100kCasesADay runs three days of a large operation
// (100,000 chat_4 cases a day, living their lives) on a fake clock, with
// the production settings (5m polls, 1m delay, 24h revisit horizon), an
// API that fails now and then, and a state file. Counts stay exact where
// the README promises exactness and within its bounds elsewhere, and the
// calls per failure-free day are the README's figure. Peak heap and the
// state file's size are logged for docs/benchmarks.md.
func TestSimulatedDaysAt100kCasesADay(t *testing.T) {
	const days = 3
	perDay := 100_000
	if raceEnabled {
		perDay = 20_000 // the same run, a fifth of the traffic: race is slow
	}
	clock := exportertest.NewClock(t0)
	traffic := &wolkvoxtest.Traffic{Seed: 42, Location: bogota, InteractionsPerMinute: perDay / (24 * 60), BodyBytes: 16}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: traffic, Now: clock.Now, ForgetServed: true, TB: t})
	t.Cleanup(srv.Close)
	cfg := testConfig(srv, clock)
	cfg.Revisit = 24 * time.Hour
	cfg.AgentMetrics = true
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	p := startPoller(t, cfg)

	calls := func(purpose string) float64 { return sum(t, p, "wolkvox_api_requests_total", "purpose="+purpose) }
	var peakHeap uint64
	var ms runtime.MemStats
	var lastEnd time.Time
	var dayCalls [2]float64 // new, revisit: on the last, failure-free day
	steps := int(days * 24 * time.Hour / cfg.Interval)
	for i := range steps {
		if i == steps-int(24*time.Hour/cfg.Interval) {
			dayCalls = [2]float64{calls(string(wolkvox.PurposeNew)), calls(string(wolkvox.PurposeRevisit))}
		}
		// Failures on the first two days: a 5xx now and then (retried by
		// the next poll), a long outage of an hour on the second.
		switch {
		case i%97 == 13 && i < steps/3*2:
			srv.FailNext(1, wolkvoxtest.Fault{Status: 502, Body: "<html>bad gateway</html>"})
		case i == steps/2:
			srv.FailAll(wolkvoxtest.Fault{Status: 503})
		case i == steps/2+12:
			srv.Heal()
		}
		p.PollOnce(context.Background())
		lastEnd = clock.Now().Add(-cfg.Delay)
		if i%24 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
		}
		clock.Advance(cfg.Interval)
	}
	dayCalls = [2]float64{calls(string(wolkvox.PurposeNew)) - dayCalls[0], calls(string(wolkvox.PurposeRevisit)) - dayCalls[1]}

	origin := t0.Add(-cfg.Delay - cfg.Interval)
	cases := traffic.Cases(origin, lastEnd)
	plan := ledger.NewRevisitPlan(cfg.Revisit, cfg.Interval)
	lo := countable(cases, wolkvoxtest.FilterCreation, cfg.Revisit)
	hi := countable(cases, wolkvoxtest.FilterCreation, plan.Span())
	// Cases too young for their changes to be due yet are not settled:
	// bound them by the truth at the end instead.
	got := exported(t, p)
	if got.cases != lo.cases {
		t.Errorf("chat_interactions_total = %v, want exactly the %v cases created", got.cases, lo.cases)
	}
	young := countable(traffic.Cases(lastEnd.Add(-plan.Span()), lastEnd), wolkvoxtest.FilterCreation, plan.Span())
	settledLo := truth{closed: lo.closed - young.closed, archived: lo.archived - young.archived, surveyed: lo.surveyed - young.surveyed, typified: lo.typified - young.typified}
	if got.exceeds(hi) || got.closed < settledLo.closed || got.archived < settledLo.archived || got.surveyed < settledLo.surveyed || got.typified < settledLo.typified {
		t.Errorf("exported %v\nwant at least %v (settled cases)\nand at most  %v", got, settledLo, hi)
	}
	if up := sum(t, p, "wolkvox_report_up"); up != 2 {
		t.Errorf("report_up = %v at the end", up)
	}
	// The README's figures for the defaults, written out: not the formula
	// the code uses, which would agree with itself.
	if dayCalls[0] != 576 || dayCalls[1] != 96 {
		t.Errorf("calls on the failure-free last day: %v new, %v revisit; the README says 576 and 96", dayCalls[0], dayCalls[1])
	}
	info, err := os.Stat(cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	p.save(clock.Now())
	saveTook := time.Since(started)
	t.Logf("%d days at %d cases a day: peak heap %.1f MiB, the fake's generated cases included; state file %.1f MiB (%d case entries), one save %v; calls on the last day: %v new, %v revisit; exported %v",
		days, perDay, float64(peakHeap)/(1<<20), float64(info.Size())/(1<<20), p.ledger.CaseEntries(), saveTook.Round(time.Millisecond),
		dayCalls[0], dayCalls[1], got)
	_ = wolkvox.ReportInteractions
}
