package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
)

// Render turns a ledger into constant metrics. It runs once per poll,
// after the state is saved, not per scrape, so a scrape only replays the
// slice.
func Render(l *ledger.Ledger, now time.Time, set ledger.RenderSettings, d *Descs) []prometheus.Metric {
	out := constMetrics{descs: d}
	l.Emit(now, set, &out)
	return out.metrics
}

// constMetrics is the ledger.Sink of a scrape's snapshot.
type constMetrics struct {
	descs   *Descs
	metrics []prometheus.Metric
}

func (c *constMetrics) Value(f *ledger.Family, v float64, labels []string) {
	t := prometheus.GaugeValue
	if f.Kind == ledger.KindCounter {
		t = prometheus.CounterValue
	}
	c.metrics = append(c.metrics, prometheus.MustNewConstMetric(c.descs.Of(f.Name), t, v, labels...))
}

func (c *constMetrics) Histogram(f *ledger.Family, h *ledger.Histogram, labels []string) {
	d := c.descs.Of(f.Name)
	if h.Bounds() == nil {
		c.metrics = append(c.metrics, prometheus.MustNewConstSummary(d, h.Count(), h.Sum(), nil, labels...))
		return
	}
	c.metrics = append(c.metrics, prometheus.MustNewConstHistogram(d, h.Count(), h.Sum(), h.Cumulative(), labels...))
}

// Unix is t as Prometheus's timestamps in seconds.
func Unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Bool is b as a gauge's value.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
