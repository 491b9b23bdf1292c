package collector

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Collector serves an operation's latest published snapshot and its live
// health. It implements prometheus.Collector.
type Collector struct {
	snapshot atomic.Pointer[[]prometheus.Metric]
	descs    *Descs
	health   atomic.Pointer[Health]

	// now tells the time a snapshot's freshness is judged by.
	now       func() time.Time
	mu        sync.Mutex
	snapshots map[wolkvox.Report]snapshotSet
}

// NewCollector returns a collector of descs with nothing to serve yet
// but health.
func NewCollector(descs *Descs, health *Health) *Collector {
	c := &Collector{descs: descs, now: time.Now, snapshots: map[wolkvox.Report]snapshotSet{}}
	c.health.Store(health)
	return c
}

// SetClock makes now the clock snapshots' freshness is judged by.
func (c *Collector) SetClock(now func() time.Time) { c.now = now }

// PublishSnapshot serves a real-time snapshot's metrics until until:
// a snapshot describes one moment, and a stale one must leave /metrics
// (a gap on a dashboard, and the failure alert) rather than show a queue
// frozen at its last value. nil metrics withdraw it at once.
func (c *Collector) PublishSnapshot(report wolkvox.Report, metrics []prometheus.Metric, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if metrics == nil {
		delete(c.snapshots, report)
		return
	}
	c.snapshots[report] = snapshotSet{metrics: metrics, until: until}
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
	old.mu.Lock()
	defer old.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.health.Load()
	for r, s := range old.snapshots {
		if h.reads(r) {
			c.snapshots[r] = s
		}
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
	now := c.now()
	c.mu.Lock()
	var fresh []snapshotSet
	for _, s := range c.snapshots {
		if now.Before(s.until) {
			fresh = append(fresh, s)
		}
	}
	c.mu.Unlock()
	for _, s := range fresh {
		for _, m := range s.metrics {
			ch <- m
		}
	}
}
