package poller

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

var bogota = exportertest.Bogota()

// t0 is when the tests' fake clock starts.
var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, bogota)

// fakeClock is the tests' clock, moved by hand.
type fakeClock = exportertest.Clock

func newFake(t *testing.T, data wolkvoxtest.Dataset) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, TB: t})
	t.Cleanup(srv.Close)
	return srv
}

func testConfig(srv *wolkvoxtest.Server, clock Clock) Config {
	return Config{
		Client: wolkvox.Config{
			BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Timeout: 5 * time.Second,
			Retry: wolkvox.RetryPolicy{Attempts: 1},
		},
		Interval:     5 * time.Minute,
		Delay:        time.Minute,
		MaxCatchup:   24 * time.Hour,
		AgentMetrics: true,
		AgentTTL:     24 * time.Hour,
		Clock:        clock,
	}
}

func startPoller(t *testing.T, cfg Config) *Poller {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// gather returns the poller's metrics as families by name.
func gather(t testing.TB, p *Poller) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// sum adds the values of name's series whose labels include match
// ("k=v" pairs). For a histogram or summary it adds the sample counts.
func sum(t testing.TB, p *Poller, name string, match ...string) float64 {
	t.Helper()
	mf := gather(t, p)[name]
	if mf == nil {
		return 0
	}
	var total float64
next:
	for _, m := range mf.GetMetric() {
		for _, kv := range match {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		case m.Summary != nil:
			total += float64(m.GetSummary().GetSampleCount())
		}
	}
	return total
}

// assertCountsMatchServed compares the exported counters with the fake's
// record of every distinct record it delivered in a complete response.
func assertCountsMatchServed(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
	t.Helper()
	served := srv.ServedTransfers()
	byType := map[string]float64{}
	for _, r := range served {
		byType[orNone(strings.TrimSpace(r.TypeCall))]++
	}
	if got := sum(t, p, "wolkvox_transfers_total"); got != float64(len(served)) {
		t.Errorf("wolkvox_transfers_total = %v, fake served %d distinct transfers", got, len(served))
	}
	for tc, n := range byType {
		if got := sum(t, p, "wolkvox_transfers_total", "type_call="+tc); got != n {
			t.Errorf("wolkvox_transfers_total{type_call=%q} = %v, fake served %v", tc, got, n)
		}
	}
	cases := srv.ServedInteractions()
	if got := sum(t, p, "wolkvox_chat_interactions_total"); got != float64(len(cases)) {
		t.Errorf("wolkvox_chat_interactions_total = %v, fake served %d distinct cases", got, len(cases))
	}
	if len(served) == 0 || len(cases) == 0 {
		t.Errorf("the test served nothing: %d transfers, %d cases", len(served), len(cases))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
