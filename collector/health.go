package collector

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Purposes of an API call, the purpose label of wolkvox_api_requests_total.
const (
	purposeNew     = string(wolkvox.PurposeNew)
	purposeRevisit = string(wolkvox.PurposeRevisit)
	purposeFollow  = string(wolkvox.PurposeFollow)
)

// Health is what the exporter knows of its own polling. Unlike the data
// counters, it is published as it happens, call by call, so that a scrape
// during a long poll (retries and backoff can take minutes) shows the
// calls made so far and a failure at once. It lives as long as the
// process: these counters restart at 0, as any process's counters do,
// because a value restored from a file could be lower than one already
// scraped, which Prometheus would read as a reset and count twice.
type Health struct {
	mu      sync.Mutex
	reports map[wolkvox.Report]*reportHealth
	order   []wolkvox.Report      // the two reports, then the snapshots read
	invalid map[[2]string]float64 // snapshot report, field
	// overflow counts what snapshots dropped past their caps, by family.
	overflow map[string]float64

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

// NewHealth returns the health of an operation that has not polled yet:
// its two reports, and the real-time snapshots it reads, if any.
func NewHealth(snapshots ...wolkvox.Report) *Health {
	h := &Health{reports: map[wolkvox.Report]*reportHealth{}, invalid: map[[2]string]float64{}, overflow: map[string]float64{}}
	h.order = append(slices.Clone(wolkvox.Reports), snapshots...)
	for _, r := range h.order {
		h.reports[r] = &reportHealth{failures: map[wolkvox.Reason]float64{}, requests: map[[2]string]float64{}}
	}
	return h
}

// WithSnapshots returns h reading exactly the snapshots given: a poller
// that continues another (a reload that turns real time on or off) keeps
// its counters, gains the new reports and drops those no longer read,
// whose report_up would otherwise stand frozen (and keep an alert firing).
func (h *Health) WithSnapshots(snapshots ...wolkvox.Report) *Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	order := slices.Clone(wolkvox.Reports)
	for _, r := range h.order {
		if slices.Contains(wolkvox.SnapshotReports, r) && !slices.Contains(snapshots, r) {
			delete(h.reports, r)
		}
	}
	for _, r := range snapshots {
		order = append(order, r)
		if h.reports[r] == nil {
			h.reports[r] = &reportHealth{failures: map[wolkvox.Reason]float64{}, requests: map[[2]string]float64{}}
		}
	}
	h.order = order
	return h
}

// SnapshotOverflow counts what a snapshot dropped past its cap, under the
// family it would have been in (wolkvox_series_overflow_total).
func (h *Health) SnapshotOverflow(family string, n int) {
	if n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.overflow[family] += float64(n)
}

// SnapshotInvalid counts the fields of a snapshot that could not be used.
func (h *Health) SnapshotInvalid(report wolkvox.Report, invalid wolkvox.InvalidFields) {
	if invalid == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	invalid.Each(func(f wolkvox.Field) { h.invalid[[2]string{string(report), f.String()}]++ })
}

func (h *Health) update(report wolkvox.Report, fn func(*reportHealth)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rh := h.reports[report]; rh != nil {
		fn(rh)
	}
}

// CountRequest counts one call to the API as it ends: every call spends a
// token, whatever it returns. status 0 means no response.
func (h *Health) CountRequest(report wolkvox.Report, status int, purpose wolkvox.Purpose) {
	code := "none"
	if status != 0 {
		code = strconv.Itoa(status)
	}
	h.update(report, func(rh *reportHealth) { rh.requests[[2]string{code, string(purpose)}]++ })
}

// PollSucceeded records a poll of report at now that read window whole.
func (h *Health) PollSucceeded(report wolkvox.Report, now time.Time, window wolkvox.Window) {
	h.update(report, func(rh *reportHealth) {
		rh.polled, rh.up, rh.lastSuccess, rh.lastError, rh.window = true, true, now, "", window
	})
}

// PollTook records how long a successful fetch took.
func (h *Health) PollTook(report wolkvox.Report, took time.Duration) {
	h.update(report, func(rh *reportHealth) { rh.pollDuration = took })
}

// PollFailed records a failed fetch at once, by reason.
func (h *Health) PollFailed(report wolkvox.Report, reason wolkvox.Reason, err error, took time.Duration) {
	h.update(report, func(rh *reportHealth) {
		rh.polled, rh.up, rh.pollDuration, rh.lastError = true, false, took, err.Error()
		rh.failures[reason]++
	})
}

// SaveFailed counts a failed write of the state file.
func (h *Health) SaveFailed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stateSaveFailures++
}

// Saved records a successful write of the state file at t.
func (h *Health) Saved(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stateLastSave = t
}

// collect renders the health metrics. It runs per scrape; there are a few
// dozen of them.
func (h *Health) collect(ch chan<- prometheus.Metric, d *Descs) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, report := range h.order {
		rh, r := h.reports[report], string(report)
		if rh.polled {
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.ReportUp), prometheus.GaugeValue, Bool(rh.up), r)
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.PollDuration), prometheus.GaugeValue, rh.pollDuration.Seconds(), r)
		}
		if !rh.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.LastSuccess), prometheus.GaugeValue, Unix(rh.lastSuccess), r)
		}
		if !rh.window.End.IsZero() {
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.WindowStart), prometheus.GaugeValue, Unix(rh.window.Start), r)
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.WindowEnd), prometheus.GaugeValue, Unix(rh.window.End), r)
		}
		reasons, purpose := wolkvox.Reasons, purposeNew
		if slices.Contains(wolkvox.SnapshotReports, report) {
			reasons = append(slices.Clone(wolkvox.Reasons), wolkvox.SnapshotReasons...)
			purpose = string(wolkvox.PurposeSnapshot)
			if report == wolkvox.ReportTokenInfo {
				purpose = string(wolkvox.PurposeQuota)
			}
		}
		for _, reason := range reasons {
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.PollFailures), prometheus.CounterValue, rh.failures[reason], r, string(reason))
		}
		requests := map[[2]string]float64{{"200", purpose}: 0}
		if report == wolkvox.ReportInteractions {
			requests[[2]string{"200", purposeRevisit}] = 0
			requests[[2]string{"200", purposeFollow}] = 0
		}
		for k, v := range rh.requests {
			requests[k] = v
		}
		for k, v := range requests {
			ch <- prometheus.MustNewConstMetric(d.Of(ledger.APIRequests), prometheus.CounterValue, v, r, k[0], k[1])
		}
	}
	for k, v := range h.invalid {
		ch <- prometheus.MustNewConstMetric(d.Of(ledger.SnapshotInvalidFields), prometheus.CounterValue, v, k[0], k[1])
	}
	for family, v := range h.overflow {
		ch <- prometheus.MustNewConstMetric(d.Of(ledger.SeriesOverflow), prometheus.CounterValue, v, family)
	}
	ch <- prometheus.MustNewConstMetric(d.Of(ledger.StateSaveFailures), prometheus.CounterValue, h.stateSaveFailures)
	if !h.stateLastSave.IsZero() {
		ch <- prometheus.MustNewConstMetric(d.Of(ledger.StateLastSave), prometheus.GaugeValue, Unix(h.stateLastSave))
	}
}

// Status copies what the landing page and /-/ready show.
func (h *Health) Status() *Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &Status{}
	for _, report := range h.order {
		rh := h.reports[report]
		st.Reports = append(st.Reports, ReportStatus{
			Report: report, Polled: rh.polled, Up: rh.up, LastSuccess: rh.lastSuccess, Window: rh.window, LastError: rh.lastError,
		})
	}
	return st
}

// ReportStatus is what the landing page shows of one report.
type ReportStatus struct {
	Report      wolkvox.Report
	Polled      bool
	Up          bool
	LastSuccess time.Time
	Window      wolkvox.Window
	LastError   string
}

// Status is a copy of the poller's state for the landing page and /-/ready.
type Status struct {
	Reports []ReportStatus
}

// Ready reports whether both reports have been polled successfully once.
// Real-time snapshots do not count: a refused skill_id=all is a
// configuration to fix, shown as report_up 0, not a reason to stop serving.
func (s *Status) Ready() bool {
	for _, r := range s.Reports {
		if slices.Contains(wolkvox.Reports, r.Report) && r.LastSuccess.IsZero() {
			return false
		}
	}
	return len(s.Reports) > 0
}

// reads reports whether h reads report.
func (h *Health) reads(report wolkvox.Report) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reports[report] != nil
}
