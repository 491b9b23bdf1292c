package supervisor

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// BenchmarkScale200Operations runs 200 quiet operations (a transfer and a
// case a minute each) in one registry, each against its own fake over
// HTTP, and reports the heap each costs once polled, a scrape of all of
// them against a prebuilt registry of the same series, and one
// operation's poll.
// Reproduce: go test ./collector -run '^$' -bench Scale200 -benchmem -count 3
func BenchmarkScale200Operations(b *testing.B) {
	const n = 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cfgs []poller.Config
	var clocks []*fakeClock
	for i := range n {
		srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: fmt.Sprintf("tok-%d", i), Location: bogota, ForgetServed: true,
			Data: &wolkvoxtest.Traffic{Seed: uint64(i), Location: bogota, TransfersPerMinute: 1, InteractionsPerMinute: 1, BodyBytes: 256}})
		b.Cleanup(srv.Close)
		clock := exportertest.NewClock(t0)
		clocks = append(clocks, clock)
		cfgs = append(cfgs, poller.Config{
			Operation: fmt.Sprintf("op-%03d", i),
			Client:    wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Retry: wolkvox.RetryPolicy{Attempts: 1}},
			Interval:  time.Hour, Delay: time.Minute, MaxCatchup: 24 * time.Hour, Revisit: 24 * time.Hour,
			AgentMetrics: true, AgentTTL: 24 * time.Hour, Clock: clock,
		})
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := New(ctx, nil, nil)
	defer r.Stop()
	if err := r.Apply(cfgs); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); len(r.NotReady()) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d operations not polled within a minute", len(r.NotReady()))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perOp := float64(after.HeapAlloc-before.HeapAlloc) / n

	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		series += len(mf.GetMetric())
	}
	// The same series, collected once: the cheapest way to serve them.
	ch := make(chan prometheus.Metric, 4*series)
	r.Collect(ch)
	close(ch)
	var copies exportertest.Prebuilt
	for m := range ch {
		copies = append(copies, m)
	}
	b.Run("heap", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(perOp/(1<<20), "MiB/operation")
		b.ReportMetric(float64(series), "series")
	})
	b.Run("scrape/collector", func(b *testing.B) { exportertest.ScrapeLoop(b, reg) })
	b.Run("scrape/prebuilt", func(b *testing.B) {
		pre := prometheus.NewRegistry()
		pre.MustRegister(copies)
		exportertest.ScrapeLoop(b, pre)
	})
	b.Run("poll", func(b *testing.B) {
		p, clock := r.running["op-000"].poller, clocks[0]
		for b.Loop() {
			clock.Advance(5 * time.Minute)
			p.PollOnce(ctx)
		}
	})
}
