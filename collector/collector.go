package collector

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector serves the latest snapshot the poller rendered. It implements
// prometheus.Collector.
type Collector struct {
	snapshot atomic.Pointer[[]prometheus.Metric]
	health   *health // live per call; nil in tests of the snapshot alone
}

// NewCollector returns a collector with nothing to serve yet.
func NewCollector() *Collector { return &Collector{} }

// publish swaps in a new snapshot. A scrape sees the old one or the new
// one, never half of either.
func (c *Collector) publish(metrics []prometheus.Metric) { c.snapshot.Store(&metrics) }

// Describe sends every descriptor the collector may serve.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, e := range catalogue {
		ch <- e.desc
	}
}

// Collect sends the latest snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if p := c.snapshot.Load(); p != nil {
		for _, m := range *p {
			ch <- m
		}
	}
	if c.health != nil {
		c.health.collect(ch)
	}
}
