package collector

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// renderSettings are the configured values the snapshot exports.
type renderSettings struct {
	interval, revisit time.Duration
	dailyQuota        float64
}

// emitter receives the metrics the ledger is made of: constant metrics
// for a scrape, or timestamped samples for a backfill. labels are the
// values of the descriptor's variable labels, in order.
type emitter interface {
	value(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string)
	histogram(d *prometheus.Desc, h *histogram, labels []string) // a summary when h has no buckets
}

// constMetrics collects constant metrics, for a scrape's snapshot.
type constMetrics []prometheus.Metric

func (c *constMetrics) value(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	*c = append(*c, prometheus.MustNewConstMetric(d, t, v, labels...))
}

func (c *constMetrics) histogram(d *prometheus.Desc, h *histogram, labels []string) {
	if h.bounds == nil {
		*c = append(*c, prometheus.MustNewConstSummary(d, h.count, h.sum, nil, labels...))
		return
	}
	*c = append(*c, prometheus.MustNewConstHistogram(d, h.count, h.sum, h.cumulative(), labels...))
}

// render turns the ledger into constant metrics. It runs once per poll,
// after the state is saved, not per scrape, so a scrape only replays the
// slice.
func (l *ledger) render(now time.Time, set renderSettings, descs *metricDescs) []prometheus.Metric {
	var out constMetrics
	l.emit(now, set, descs, &out)
	return out
}

// emit sends every metric of the ledger to e. Known label values (the
// documented type_calls and channels) are sent at 0 before they first
// occur, so that rate() sees the first increase.
func (l *ledger) emit(now time.Time, set renderSettings, descs *metricDescs, e emitter) {
	a := l.agg
	counters := func(d *prometheus.Desc, f *counterFamily) {
		for k, v := range f.values {
			e.value(d, prometheus.CounterValue, v, splitLabels(k))
		}
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		e.value(d, prometheus.GaugeValue, v, labels)
	}
	histograms := func(d *prometheus.Desc, f *histogramFamily) {
		for k, h := range f.values {
			e.histogram(d, h, splitLabels(k))
		}
	}

	// Transfers: every documented type_call at 0 for every skill seen.
	skills := map[string]bool{noneLabel: true}
	for k := range a.transfers.values {
		skills[splitLabels(k)[1]] = true
	}
	// The zeros count against the series cap too.
	series := len(a.transfers.values)
	for skill := range skills {
		for _, tc := range wolkvox.TypeCalls {
			if _, ok := a.transfers.values[joinLabels([]string{tc, skill})]; !ok && series < a.transfers.max {
				e.value(descs.data["transfers"], prometheus.CounterValue, 0, []string{tc, skill})
				series++
			}
		}
	}
	// Every family of counted data (catalogue.go).
	for _, f := range dataFamilies() {
		if f.counter != nil {
			counters(descs.data[f.key], f.counter(a))
		} else {
			histograms(descs.data[f.key], f.histogram(a))
		}
	}
	for id, seen := range a.agents {
		if seen.name != "" && id != otherLabel {
			gauge(descs.agentInfo, 1, id, seen.name)
		}
	}
	for code, description := range a.typificationInfo {
		gauge(descs.typificationInfo, 1, code, description)
	}
	open, oldest := l.backlog(now, set.revisit)
	for k, v := range open {
		gauge(descs.openChats, v, k.channel, k.skill)
	}
	for ch, age := range oldest {
		gauge(descs.oldestOpen, age, ch)
	}
	verdict := l.filter.verdict()
	for _, f := range filterLabels {
		gauge(descs.filterInfo, boolValue(f == verdict), f)
	}

	// The latest agent_13_1 window.
	for _, tc := range wolkvox.TypeCalls {
		gauge(descs.windowTransfers, a.windowTransfers[tc], tc)
	}
	for tc, v := range a.windowTransfers {
		if !a.typeCalls.known[tc] {
			gauge(descs.windowTransfers, v, tc)
		}
	}
	for name, f := range a.families() {
		e.value(descs.seriesOverflow, prometheus.CounterValue, f.overflow, []string{name})
	}

	gauge(descs.pollInterval, set.interval.Seconds())
	gauge(descs.revisitHorizon, set.revisit.Seconds())
	if set.dailyQuota > 0 {
		gauge(descs.dailyQuota, set.dailyQuota)
	}
}

type chatKey struct{ channel, skill string }

// backlog counts the cases seen open and not since seen closed or
// archived, created within the horizon, and the age of the oldest by
// channel. Without a horizon (revisiting off) a day is used, so that cases
// whose close is never read leave the gauge.
func (l *ledger) backlog(now time.Time, horizon time.Duration) (map[chatKey]float64, map[string]float64) {
	if horizon <= 0 {
		horizon = 24 * time.Hour
	}
	since := now.Add(-horizon).Unix()
	open := map[chatKey]float64{}
	oldest := map[string]float64{}
	for _, ch := range wolkvox.Channels {
		open[chatKey{ch, noneLabel}] = 0
		oldest[ch] = 0
	}
	for _, e := range l.cases.seen {
		if !e.open() || e.created == 0 || e.created < since {
			continue
		}
		open[chatKey{e.channel, e.skill}]++
		if age := float64(now.Unix() - e.created); age > oldest[e.channel] {
			oldest[e.channel] = age
		}
	}
	return open, oldest
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// httpCode is the api_requests_total code label of one call.
func httpCode(status int) string {
	if status == 0 {
		return noneLabel
	}
	return strconv.Itoa(status)
}
