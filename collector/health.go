package collector

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Purposes of an API call, the purpose label of wolkvox_api_requests_total.
const (
	purposeNew     = string(wolkvox.PurposeNew)
	purposeRevisit = string(wolkvox.PurposeRevisit)
)

// health is what the exporter knows of its own polling. Unlike the data
// counters, it is published as it happens, call by call, so that a scrape
// during a long poll (retries and backoff can take minutes) shows the
// calls made so far and a failure at once. It lives as long as the
// process: these counters restart at 0, as any process's counters do,
// because a value restored from a file could be lower than one already
// scraped, which Prometheus would read as a reset and count twice.
type health struct {
	mu      sync.Mutex
	reports map[wolkvox.Report]*reportHealth

	stateSaveFailures float64
	stateLastSave     time.Time
}

type reportHealth struct {
	polled       bool // at least one poll finished, successfully or not
	up           bool
	lastSuccess  time.Time
	pollDuration time.Duration
	lastError    string
	window       wolkvox.Window // the latest complete new window
	failures     map[wolkvox.Reason]float64
	requests     map[[2]string]float64 // code, purpose
}

func newHealth() *health {
	h := &health{reports: map[wolkvox.Report]*reportHealth{}}
	for _, r := range wolkvox.Reports {
		h.reports[r] = &reportHealth{failures: map[wolkvox.Reason]float64{}, requests: map[[2]string]float64{}}
	}
	return h
}

func (h *health) update(report wolkvox.Report, fn func(*reportHealth)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn(h.reports[report])
}

// collect renders the health metrics. It runs per scrape; there are a few
// dozen of them.
func (h *health) collect(ch chan<- prometheus.Metric, descs *metricDescs) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, report := range wolkvox.Reports {
		rh, r := h.reports[report], string(report)
		if rh.polled {
			ch <- prometheus.MustNewConstMetric(descs.up, prometheus.GaugeValue, boolValue(rh.up), r)
			ch <- prometheus.MustNewConstMetric(descs.pollDuration, prometheus.GaugeValue, rh.pollDuration.Seconds(), r)
		}
		if !rh.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descs.lastSuccess, prometheus.GaugeValue, unix(rh.lastSuccess), r)
		}
		if !rh.window.End.IsZero() {
			ch <- prometheus.MustNewConstMetric(descs.windowStart, prometheus.GaugeValue, unix(rh.window.Start), r)
			ch <- prometheus.MustNewConstMetric(descs.windowEnd, prometheus.GaugeValue, unix(rh.window.End), r)
		}
		for _, reason := range wolkvox.Reasons {
			ch <- prometheus.MustNewConstMetric(descs.pollFailures, prometheus.CounterValue, rh.failures[reason], r, string(reason))
		}
		requests := map[[2]string]float64{{"200", purposeNew}: 0}
		if report == wolkvox.ReportInteractions {
			requests[[2]string{"200", purposeRevisit}] = 0
		}
		for k, v := range rh.requests {
			requests[k] = v
		}
		for k, v := range requests {
			ch <- prometheus.MustNewConstMetric(descs.requests, prometheus.CounterValue, v, r, k[0], k[1])
		}
	}
	ch <- prometheus.MustNewConstMetric(descs.stateSaveFailures, prometheus.CounterValue, h.stateSaveFailures)
	if !h.stateLastSave.IsZero() {
		ch <- prometheus.MustNewConstMetric(descs.stateLastSave, prometheus.GaugeValue, unix(h.stateLastSave))
	}
}

// status copies what the landing page and /-/ready show.
func (h *health) status() *Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &Status{}
	for _, report := range wolkvox.Reports {
		rh := h.reports[report]
		st.Reports = append(st.Reports, ReportStatus{
			Report: report, Polled: rh.polled, Up: rh.up, LastSuccess: rh.lastSuccess, Window: rh.window, LastError: rh.lastError,
		})
	}
	return st
}
