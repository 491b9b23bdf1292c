package collector

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector serves an operation's latest published snapshot and its live
// health. It implements prometheus.Collector.
type Collector struct {
	snapshot atomic.Pointer[[]prometheus.Metric]
	descs    *Descs
	health   atomic.Pointer[Health]
}

// NewCollector returns a collector of descs with nothing to serve yet
// but health.
func NewCollector(descs *Descs, health *Health) *Collector {
	c := &Collector{descs: descs}
	c.health.Store(health)
	return c
}

// Publish swaps in a new snapshot. A scrape sees the old one or the new
// one, never half of either.
func (c *Collector) Publish(metrics []prometheus.Metric) { c.snapshot.Store(&metrics) }

// TakeOver serves what old serves, its health and its snapshot, for a
// poller that continues another (a reload) and has nothing saved of its
// own yet.
func (c *Collector) TakeOver(old *Collector, snapshot bool) {
	c.health.Store(old.health.Load())
	if snapshot {
		c.snapshot.Store(old.snapshot.Load())
	}
}

// Health returns the health the collector serves.
func (c *Collector) Health() *Health { return c.health.Load() }

// Describe sends every descriptor the collector may serve.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs.all {
		ch <- d
	}
}

// Collect sends the latest snapshot and the live health.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if p := c.snapshot.Load(); p != nil {
		for _, m := range *p {
			ch <- m
		}
	}
	if h := c.health.Load(); h != nil {
		h.collect(ch, c.descs)
	}
}
