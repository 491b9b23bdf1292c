package collector

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector serves the latest snapshot the poller rendered. It implements
// prometheus.Collector.
type Collector struct {
	snapshot atomic.Pointer[[]prometheus.Metric]
	descs    *metricDescs
	health   *health // live per call; nil in tests of the snapshot alone
}

// newCollector returns a collector of descs with nothing to serve yet.
func newCollector(descs *metricDescs) *Collector { return &Collector{descs: descs} }

// publish swaps in a new snapshot. A scrape sees the old one or the new
// one, never half of either.
func (c *Collector) publish(metrics []prometheus.Metric) { c.snapshot.Store(&metrics) }

// Describe sends every descriptor the collector may serve.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs.all {
		ch <- d
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
		c.health.collect(ch, c.descs)
	}
}
