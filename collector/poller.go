package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Config configures a Poller.
type Config struct {
	// Client configures the API client; the poller adds ObserveRequest.
	Client wolkvox.Config
	// Interval between polls; the vendor suggests 5 minutes.
	Interval time.Duration
	// Delay keeps windows this far behind now, for rows that land late.
	Delay time.Duration
	// MaxCatchup bounds how far back a poll after an outage reaches.
	MaxCatchup time.Duration
	// AgentMetrics enables the per-agent metrics; AgentTTL drops agents
	// not seen for that long from them.
	AgentMetrics bool
	AgentTTL     time.Duration
	// DailyQuota, when > 0, is exported for the quota alert.
	DailyQuota float64
	// StateFile, when set, persists windows and de-duplication keys so a
	// restart neither leaves a gap nor counts a record twice.
	StateFile string
	// Clock tells the time; default the system clock.
	Clock  Clock
	Logger log.Logger
}

// Dedupe memory: transfers repeat on a window boundary, and up to about an
// hour later when clocks go back (the API selects by wall clock, so windows
// after the change serve the repeated hour's first time round again). Cases
// repeat as they move from open to close, which can take a day.
const (
	transferKeyRetention = 3 * time.Hour
	caseKeyRetention     = 48 * time.Hour
	maxDedupeKeys        = 2_000_000
)

// Poller polls the API in the background and publishes metrics.
type Poller struct {
	cfg       Config
	client    *wolkvox.Client
	agg       *Aggregate
	dedupe    map[wolkvox.Report]*dedupe
	collector *Collector
	logger    log.Logger

	mu     sync.Mutex // one poll at a time
	status atomic.Pointer[Status]
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

// Ready reports whether every report has been polled successfully once.
func (s *Status) Ready() bool {
	for _, r := range s.Reports {
		if r.LastSuccess.IsZero() {
			return false
		}
	}
	return len(s.Reports) > 0
}

// New validates cfg and returns a Poller. It loads the state file, if one
// is configured; a corrupt one is moved aside and the poller starts fresh.
func New(cfg Config) (*Poller, error) {
	if cfg.Interval <= 0 {
		return nil, errors.New("poll interval must be positive")
	}
	if cfg.Delay < 0 {
		return nil, fmt.Errorf("poll delay must not be negative, not %v", cfg.Delay)
	}
	if cfg.MaxCatchup < cfg.Interval {
		return nil, fmt.Errorf("max catch-up (%v) must be at least one poll interval (%v)", cfg.MaxCatchup, cfg.Interval)
	}
	if cfg.AgentMetrics && cfg.AgentTTL <= 0 {
		return nil, fmt.Errorf("agent TTL must be positive, not %v", cfg.AgentTTL)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = log.NewNopLogger()
	}
	p := &Poller{
		cfg:       cfg,
		agg:       NewAggregate(cfg.AgentMetrics, cfg.AgentTTL),
		collector: NewCollector(),
		logger:    cfg.Logger,
		dedupe: map[wolkvox.Report]*dedupe{
			wolkvox.ReportTransfers:    newDedupe(max(transferKeyRetention, 3*cfg.Interval), maxDedupeKeys),
			wolkvox.ReportInteractions: newDedupe(max(caseKeyRetention, 3*cfg.Interval), maxDedupeKeys),
		},
	}
	observe := cfg.Client.ObserveRequest
	cfg.Client.ObserveRequest = func(ri wolkvox.RequestInfo) {
		// Called on the poller's goroutine, inside a poll.
		p.agg.reports[ri.Report].requests[httpCode(ri.Status)]++
		if observe != nil {
			observe(ri)
		}
	}
	client, err := wolkvox.New(cfg.Client)
	if err != nil {
		return nil, err
	}
	p.client = client
	if cfg.StateFile != "" {
		if err := p.loadState(); err != nil {
			return nil, err
		}
	}
	p.publish()
	return p, nil
}

// Collector returns the prometheus.Collector that serves the poller's metrics.
func (p *Poller) Collector() *Collector { return p.collector }

// Status returns the latest status.
func (p *Poller) Status() *Status { return p.status.Load() }

// Run polls now and then every interval until ctx is done. It can be
// called again after it returns; the counts carry on.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.PollOnce(ctx)
		t.Reset(p.cfg.Interval)
	}
}

// PollOnce polls agent_13_1 and then chat_4, one after the other, and
// publishes the result as one snapshot.
func (p *Poller) PollOnce(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, report := range wolkvox.Reports {
		if ctx.Err() != nil {
			break
		}
		p.pollReport(ctx, report)
	}
	now := p.cfg.Clock.Now()
	if p.cfg.AgentMetrics {
		p.agg.forgetIdleAgents(now)
	}
	p.publish()
	if p.cfg.StateFile != "" {
		if err := p.saveState(); err != nil {
			level.Error(p.logger).Log("msg", "could not save state; a restart may re-fetch or miss this poll's windows", "file", p.cfg.StateFile, "err", err)
		}
	}
}

func (p *Poller) pollReport(ctx context.Context, report wolkvox.Report) {
	rs, d := p.agg.reports[report], p.dedupe[report]
	logger := log.With(p.logger, "report", report)
	now := p.cfg.Clock.Now()
	end := now.Add(-p.cfg.Delay).Truncate(time.Second)
	if rs.mark.IsZero() {
		rs.mark = end.Add(-p.cfg.Interval) // the first poll covers one interval
	}
	if end.Before(rs.mark) {
		// The clock went backwards: wait until it passes the mark again
		// rather than fetch, and count, a window twice.
		level.Warn(logger).Log("msg", "clock is behind the last window's end; skipping this poll", "now", now, "window_end", rs.mark)
		return
	}
	start := rs.mark
	if end.Sub(start) > p.cfg.MaxCatchup {
		newStart := end.Add(-p.cfg.MaxCatchup)
		skipped := newStart.Sub(start)
		rs.skippedSeconds += skipped.Seconds()
		level.Warn(logger).Log("msg", "outage longer than --poll.max-catchup; these records will never be counted", "skipped_from", start, "skipped_to", newStart, "skipped", skipped)
		start, rs.mark = newStart, newStart
	}
	window := wolkvox.Window{Start: start, End: end}
	tally := newWindowTally()
	inWindow := map[uint64]bool{}
	began := time.Now()
	var stats wolkvox.FetchStats
	var err error
	switch report {
	case wolkvox.ReportTransfers:
		stats, err = p.client.FetchTransfers(ctx, window, func(piece wolkvox.Window, recs []wolkvox.Transfer) error {
			p.agg.applyTransfers(d, recs, piece.End, tally, inWindow)
			rs.mark = piece.End
			return nil
		})
	case wolkvox.ReportInteractions:
		stats, err = p.client.FetchInteractions(ctx, window, func(piece wolkvox.Window, recs []wolkvox.Interaction) error {
			p.agg.applyInteractions(d, recs, piece.End, tally, inWindow)
			rs.mark = piece.End
			return nil
		})
	}
	rs.polled = true
	rs.pollDuration = time.Since(began)
	if err != nil {
		reason := wolkvox.ReasonOf(err)
		if reason == wolkvox.ReasonCanceled {
			return // shutting down; not the API's failure
		}
		if reason == "" {
			reason = wolkvox.ReasonAPIError
		}
		rs.up = false
		rs.failures[reason]++
		rs.lastError = err.Error()
		level.Error(logger).Log("msg", "poll failed; the next poll resumes from the last counted window", "window", window, "resume_from", rs.mark, "calls", stats.Calls, "err", err)
		return
	}
	rs.up = true
	rs.lastSuccess = now
	rs.lastError = ""
	rs.window = window
	rs.windowTransfers, rs.windowChats, rs.windowSurvey = tally.transfers, tally.chats, tally.survey
	d.prune(end)
	level.Debug(logger).Log("msg", "poll succeeded", "window", window, "records", len(inWindow), "calls", stats.Calls, "splits", stats.Splits, "duration", rs.pollDuration)
}

// publish renders the aggregate and swaps the snapshot and status in.
func (p *Poller) publish() {
	p.collector.publish(p.agg.render(p.cfg.Interval, p.cfg.DailyQuota))
	st := &Status{}
	for _, report := range wolkvox.Reports {
		rs := p.agg.reports[report]
		st.Reports = append(st.Reports, ReportStatus{
			Report: report, Polled: rs.polled, Up: rs.up, LastSuccess: rs.lastSuccess, Window: rs.window, LastError: rs.lastError,
		})
	}
	p.status.Store(st)
}

// Endpoint returns the API URL the poller calls. It holds no secret.
func (p *Poller) Endpoint() string { return p.client.Endpoint() }
