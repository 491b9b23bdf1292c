package collector

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

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
	// Revisit is chat_4's trailing horizon, read again so that changes to
	// cases (closes, surveys, typifications) are counted; 0 turns it off.
	Revisit time.Duration
	// AgentMetrics enables the per-agent metrics; AgentTTL drops agents
	// not seen for that long from them.
	AgentMetrics bool
	AgentTTL     time.Duration
	// MaxSeriesPerMetric caps each metric's label combinations; 0 means
	// DefaultMaxSeriesPerMetric.
	MaxSeriesPerMetric int
	// DailyQuota, when > 0, is exported for the quota alert.
	DailyQuota float64
	// StateFile, when set, persists the ledger so a restart continues
	// every counter, neither leaving a gap nor counting a record twice.
	StateFile string
	// Operation names the operation; it is the operation label of every
	// series the poller serves. Empty: no such label.
	Operation string
	// Clock tells the time; default the system clock.
	Clock  Clock
	Logger log.Logger
}

// Poller polls the API in the background and publishes metrics.
type Poller struct {
	cfg       Config
	client    *wolkvox.Client
	plan      revisitPlan
	ledger    *ledger
	health    *health
	descs     *metricDescs
	collector *Collector
	logger    log.Logger
	lock      *os.File
	sched     schedule // when the next poll is due; not under mu (schedule.go)

	mu    sync.Mutex // one poll at a time; guards everything below
	polls int
	// unsaved is set while the ledger holds counts its state file does
	// not: they are not published until a save succeeds.
	unsaved bool
	// revisitPending is set while the last revisit failed.
	revisitPending bool
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

// New returns a Poller for cfg, which config has validated. It loads the state file, if one
// is configured; a corrupt one is moved aside and the poller starts fresh.
func New(cfg Config) (*Poller, error) { return newPoller(cfg, true) }

// newPoller is New; with loadState false, a state file is locked (when
// another poller of this process does not hold it already) but not read:
// the poller is to take over a running one's ledger (see takeOver).
func newPoller(cfg Config, loadState bool) (*Poller, error) {
	// cfg is checked by the config package, the exporter's one validator.
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = log.NewNopLogger()
	}
	constLabels := operationLabels(cfg)
	if cfg.Operation != "" {
		cfg.Logger = log.With(cfg.Logger, "operation", cfg.Operation)
	}
	plan := newRevisitPlan(cfg.Revisit, cfg.Interval)
	descs := newDescs(constLabels, nil)
	p := &Poller{
		cfg:       cfg,
		plan:      plan,
		ledger:    newLedger(cfg, plan),
		health:    newHealth(),
		descs:     descs,
		collector: newCollector(descs),
		logger:    cfg.Logger,
	}
	p.collector.health = p.health
	observe := cfg.Client.ObserveRequest
	cfg.Client.ObserveRequest = func(ri wolkvox.RequestInfo) {
		// Called on the poller's goroutine, inside a poll, as each call
		// ends: a scrape sees every call made so far.
		p.health.update(ri.Report, func(rh *reportHealth) { rh.requests[[2]string{httpCode(ri.Status), string(ri.Purpose)}]++ })
		if observe != nil {
			observe(ri)
		}
	}
	client, err := wolkvox.New(cfg.Client)
	if err != nil {
		return nil, err
	}
	p.client = client
	if cfg.StateFile != "" && loadState {
		if err := p.openState(); err != nil {
			client.Close()
			return nil, err
		}
	}
	p.publish(cfg.Clock.Now())
	return p, nil
}

// operationLabels are the constant labels of an operation's series.
func operationLabels(cfg Config) prometheus.Labels {
	if cfg.Operation == "" {
		return nil
	}
	return prometheus.Labels{"operation": cfg.Operation}
}

// adopt takes over the ledger of the poller this one replaces (same
// operation, other settings, no state file), so its counters continue and
// what was counted stays counted. Called before Run.
func (p *Poller) adopt(l *ledger) {
	fresh := p.ledger
	l.transfers.retention, l.cases.retention = fresh.transfers.retention, fresh.cases.retention
	l.agg.agentsEnabled, l.agg.agentTTL = fresh.agg.agentsEnabled, fresh.agg.agentTTL
	p.ledger = l
	p.publish(p.cfg.Clock.Now())
}

// Close lets the poller's token go and releases the state file's lock.
// Run must have returned.
func (p *Poller) Close() error {
	p.client.Close()
	if p.lock != nil {
		err := p.lock.Close()
		p.lock = nil
		return err
	}
	return nil
}

// takeOver continues old, a stopped poller of the same operation with
// other settings: its ledger (so what was counted stays counted, and
// nothing is read again from a file that may be older than memory), its
// process counters and health, its state file's lock when the path is the
// same, and what it published while its counts are not yet on disk.
func (p *Poller) takeOver(old *Poller) {
	p.adopt(old.ledger)
	p.health = old.health
	p.collector.health = old.health
	if p.cfg.StateFile != "" && p.cfg.StateFile == old.cfg.StateFile {
		p.lock, old.lock = old.lock, nil
	}
	p.unsaved = old.unsaved
	if p.unsaved {
		p.collector.snapshot.Store(old.collector.snapshot.Load())
		return
	}
	p.publish(p.cfg.Clock.Now())
}

// openState locks the state file and loads it.
func (p *Poller) openState() error {
	now := p.cfg.Clock.Now()
	lock, l, savedAt, err := openStateFile(p.cfg.StateFile, func() *ledger { return newLedger(p.cfg, p.plan) }, now, p.logger)
	if err != nil {
		return err
	}
	p.lock, p.ledger = lock, l
	if len(l.marks) == 0 {
		return nil // a fresh start
	}
	// A mark ahead of now comes from a host whose clock was ahead, or a
	// clock that stepped back. Waiting for the clock to pass it would stop
	// polling for as long, and the windows read while the clock was ahead
	// were read before the API had their records.
	end := p.end(now)
	for report, mark := range p.ledger.marks {
		if mark.After(end) {
			p.rewind(report, mark, now, "state file's window mark is in the future (a clock ahead, or stepped back)")
		}
	}
	level.Info(p.logger).Log("msg", "resuming from state file", "file", p.cfg.StateFile, "saved_at", p.format(savedAt))
	return nil
}

// Collector returns the prometheus.Collector that serves the poller's metrics.
func (p *Poller) Collector() *Collector { return p.collector }

// Status returns the latest status.
func (p *Poller) Status() *Status { return p.health.status() }

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
		p.sched.polling()
		p.PollOnce(ctx)
		t.Reset(p.cfg.Interval)
		p.sched.dueAt(time.Now().Add(p.cfg.Interval))
	}
}

// rewind handles a window mark ahead of the clock. The windows read while
// the clock was ahead were read before the API had (all) their records,
// so the next poll reads again from as far back as transfer keys are
// remembered (3 h, and no further than --poll.max-catchup): what was
// counted is recognised, what was missed is counted now. A clock ahead
// by more than that loses what lies beyond; the log says so.
func (p *Poller) rewind(report wolkvox.Report, mark, now time.Time, why string) time.Time {
	end := p.end(now)
	back := min(p.ledger.transfers.retention, p.cfg.MaxCatchup)
	resume := end.Add(-back)
	if origin := p.ledger.origins[report]; resume.Before(origin) && origin.Before(end) {
		resume = origin
	}
	level.Warn(p.logger).Log("msg", why+"; reading again from as far back as de-duplication remembers", "report", report,
		"mark", p.format(mark), "now", p.format(now), "resume_from", p.format(resume))
	p.ledger.marks[report] = resume
	if p.ledger.origins[report].After(resume) {
		p.ledger.origins[report] = resume
	}
	if report == wolkvox.ReportInteractions {
		if p.ledger.revisitCursor.After(end) {
			p.ledger.revisitCursor = time.Time{}
		}
	}
	return resume
}

// end is where a poll at now ends its new windows.
func (p *Poller) end(now time.Time) time.Time { return now.Add(-p.cfg.Delay).Truncate(time.Second) }

// format shows a time in the operation's zone, with its offset.
func (p *Poller) format(t time.Time) string {
	return t.In(p.cfg.Client.Location).Format("2006-01-02 15:04:05 -0700")
}

// PollOnce polls agent_13_1, then chat_4 and, when due, chat_4's revisit
// slice, one call at a time; saves the ledger; then publishes it.
func (p *Poller) PollOnce(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Clock.Now()
	for _, report := range wolkvox.Reports {
		if ctx.Err() != nil {
			return // shutting down: nothing new to save
		}
		p.pollReport(ctx, report, now)
	}
	// A failed revisit is tried again at the next poll, not a cadence later.
	if ctx.Err() == nil && p.plan.horizon > 0 && (p.polls%p.plan.every == 0 || p.revisitPending) {
		p.revisitPending = !p.revisit(ctx, now)
	}
	p.polls++
	if p.cfg.AgentMetrics {
		p.ledger.agg.forgetIdleAgents(now)
	}
	p.ledger.prune(p.end(now))
	if err := p.save(now); err != nil {
		// Nothing is published that is not on disk: a scrape keeps seeing
		// the last saved counts (health and the save failures are live),
		// so a restart, or a reload that restarts the poller, can never
		// show a counter falling back to them.
		p.unsaved = true
		return
	}
	p.unsaved = false
	p.publish(now)
}

// save writes the ledger before it is published, so that a crash never
// leaves a scraped value the next start does not continue from. A failed
// save is counted and logged, and returned.
func (p *Poller) save(now time.Time) error {
	if p.cfg.StateFile == "" {
		return nil
	}
	err := writeFileAtomic(p.cfg.StateFile, func(w io.Writer) error { return p.ledger.writeState(w, now) })
	p.health.mu.Lock()
	defer p.health.mu.Unlock()
	if err != nil {
		p.health.stateSaveFailures++
		level.Error(p.logger).Log("msg", "could not save state; new counts are held back from /metrics until a save succeeds", "file", p.cfg.StateFile, "err", err)
		return fmt.Errorf("saving state: %w", err)
	}
	p.health.stateLastSave = time.Now()
	return nil
}

func (p *Poller) pollReport(ctx context.Context, report wolkvox.Report, now time.Time) {
	l := p.ledger
	logger := log.With(p.logger, "report", report)
	end := p.end(now)
	mark := l.marks[report]
	if mark.IsZero() {
		mark = end.Add(-p.cfg.Interval) // the first poll covers one interval
		l.marks[report] = mark
		if l.origins[report].IsZero() {
			l.origins[report] = mark
		}
	}
	if end.Before(mark) {
		mark = p.rewind(report, mark, now, "clock is behind the last window's end (it was ahead, or stepped back)")
	}
	start := mark
	if end.Sub(start) > p.cfg.MaxCatchup {
		newStart := end.Add(-p.cfg.MaxCatchup)
		skipped := newStart.Sub(start)
		l.agg.skipped.add(skipped.Seconds(), string(report))
		level.Warn(logger).Log("msg", "outage longer than --poll.max-catchup; these records will never be counted", "skipped_from", p.format(start), "skipped_to", p.format(newStart), "skipped", skipped)
		start, l.marks[report] = newStart, newStart
	}
	window := wolkvox.Window{Start: start, End: end}
	began := time.Now()
	var stats wolkvox.FetchStats
	var err error
	switch report {
	case wolkvox.ReportTransfers:
		inWindow := map[uint64]string{}
		stats, err = p.client.FetchTransfers(ctx, wolkvox.PurposeNew, window, func(piece wolkvox.Window, recs []wolkvox.Transfer) error {
			l.agg.applyTransfers(l.transfers, recs, end, inWindow)
			l.marks[report] = piece.End
			return nil
		})
		if err == nil {
			clear(l.agg.windowTransfers)
			for _, tc := range inWindow {
				l.agg.windowTransfers[tc]++
			}
		}
	case wolkvox.ReportInteractions:
		stats, err = p.client.FetchInteractions(ctx, wolkvox.PurposeNew, window, func(piece wolkvox.Window, recs []wolkvox.Interaction) error {
			p.applyInteractions(piece, recs, end)
			l.marks[report] = piece.End
			return nil
		})
	}
	took := time.Since(began)
	p.countPoison(report, stats)
	if p.failed(report, err, took) {
		logFailure(logger, "poll failed; the next poll resumes from the last counted window", err, "window", p.formatWindow(window), "resume_from", p.format(l.marks[report]), "calls", stats.Calls)
		return
	}
	p.health.update(report, func(rh *reportHealth) {
		rh.polled, rh.up, rh.lastSuccess, rh.lastError, rh.window = true, true, now, "", window
	})
	level.Debug(logger).Log("msg", "poll succeeded", "window", p.formatWindow(window), "calls", stats.Calls, "splits", stats.Splits, "duration", took)
}

// failed records a failed fetch in the health metrics at once, and
// reports whether it failed. A fetch canceled by shutdown is no failure.
func (p *Poller) failed(report wolkvox.Report, err error, took time.Duration) bool {
	if err == nil {
		p.health.update(report, func(rh *reportHealth) { rh.pollDuration = took })
		return false
	}
	reason := wolkvox.ReasonOf(err)
	if reason == wolkvox.ReasonCanceled {
		return true
	}
	if reason == "" {
		reason = wolkvox.ReasonAPIError
	}
	p.health.update(report, func(rh *reportHealth) {
		rh.polled, rh.up, rh.pollDuration, rh.lastError = true, false, took, err.Error()
		rh.failures[reason]++
	})
	return true
}

// logFailure logs a failed fetch at error level, and one abandoned by a
// stop (shutdown, or a reload that restarts the poller) as what it is.
func logFailure(logger log.Logger, msg string, err error, kv ...any) {
	if wolkvox.ReasonOf(err) == wolkvox.ReasonCanceled {
		level.Info(logger).Log(append([]any{"msg", "call abandoned: the poller is stopping (shutdown or reload); its successor resumes from the last counted window"}, kv...)...)
		return
	}
	level.Error(logger).Log(append(append([]any{"msg", msg}, kv...), "err", err)...)
}

// applyInteractions counts a chat_4 piece and weighs it as evidence of
// the API's filter date, logging the verdict when it changes.
func (p *Poller) applyInteractions(piece wolkvox.Window, recs []wolkvox.Interaction, seenAt time.Time) {
	l := p.ledger
	l.agg.applyInteractions(l.cases, recs, seenAt)
	l.filter.observe(recs, piece.Start, piece.End, p.cfg.Client.Location)
	if v := l.filter.verdict(); v != l.filterLogged {
		l.filterLogged = v
		level.Info(p.logger).Log("msg", "chat_4 filters on "+v+", judging by its responses; please report what your operation shows (README: How chat numbers are counted)", "report", wolkvox.ReportInteractions, "filter", v)
	}
	if l.filter.contradictory() && !l.contradictionLogged {
		l.contradictionLogged = true
		level.Warn(p.logger).Log("msg", "chat_4's dates match no filter date for the windows asked; is --wolkvox.timezone the operation's zone?", "report", wolkvox.ReportInteractions)
	}
}

// revisit reads chat_4's next slice of the trailing horizon.
func (p *Poller) revisit(ctx context.Context, now time.Time) (ok bool) {
	l := p.ledger
	mark := l.marks[wolkvox.ReportInteractions]
	start, end, ok := p.plan.next(l.revisitCursor, mark, l.origins[wolkvox.ReportInteractions])
	if !ok || end.Before(start) {
		return true
	}
	began := time.Now()
	seenAt := p.end(now)
	var err error
	// Around the seconds already known to hold a poison record: reading
	// them again would only isolate them again, at a dozen calls each.
	for _, window := range p.withoutPoison(wolkvox.ReportInteractions, wolkvox.Window{Start: start, End: end}) {
		var stats wolkvox.FetchStats
		stats, err = p.client.FetchInteractions(ctx, wolkvox.PurposeRevisit, window, func(piece wolkvox.Window, recs []wolkvox.Interaction) error {
			p.applyInteractions(piece, recs, seenAt)
			l.revisitCursor = p.plan.advance(piece.End, mark, l.origins[wolkvox.ReportInteractions])
			return nil
		})
		p.countPoison(wolkvox.ReportInteractions, stats)
		if err != nil {
			if p.failed(wolkvox.ReportInteractions, err, time.Since(began)) {
				logFailure(p.logger, "revisit failed; the next poll resumes from the last counted slice", err, "report", wolkvox.ReportInteractions,
					"window", p.formatWindow(window), "calls", stats.Calls)
			}
			return false
		}
		l.revisitCursor = p.plan.advance(window.End, mark, l.origins[wolkvox.ReportInteractions])
	}
	return true
}

// withoutPoison cuts w around the seconds of report known to hold a
// poison record.
func (p *Poller) withoutPoison(report wolkvox.Report, w wolkvox.Window) []wolkvox.Window {
	var cuts []time.Time
	for key := range p.ledger.poisoned {
		r, at, _ := strings.Cut(key, "@")
		sec, err := strconv.ParseInt(at, 10, 64)
		if err != nil || r != string(report) {
			continue
		}
		if t := time.Unix(sec, 0); !t.Before(w.Start) && !t.After(w.End) {
			cuts = append(cuts, t)
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	var out []wolkvox.Window
	start := w.Start
	for _, c := range cuts {
		if c.After(start) {
			out = append(out, wolkvox.Window{Start: start, End: c.Add(-time.Second)})
		}
		start = c.Add(time.Second)
	}
	if !start.After(w.End) {
		out = append(out, wolkvox.Window{Start: start, End: w.End})
	}
	return out
}

// countPoison counts and logs the seconds a fetch gave up on because a
// record in them broke every response that held it.
func (p *Poller) countPoison(report wolkvox.Report, stats wolkvox.FetchStats) {
	for _, w := range stats.Skipped {
		// A revisit sweep, or the next window on a boundary second, finds
		// the same second again: it is counted and logged once.
		key := string(report) + "@" + strconv.FormatInt(w.Start.Unix(), 10)
		if _, seen := p.ledger.poisoned[key]; seen {
			continue
		}
		p.ledger.poisoned[key] = w.End.Unix()
		p.ledger.agg.poisoned.add(w.End.Sub(w.Start).Seconds()+1, string(report))
		level.Error(p.logger).Log("msg", "skipped a second whose records the API cannot send intact (a broken record); everything else of the window was counted", "report", report, "skipped", p.formatWindow(w))
	}
}

func (p *Poller) formatWindow(w wolkvox.Window) string {
	return p.format(w.Start) + " .. " + p.format(w.End)
}

// publish renders the ledger and swaps the snapshot in.
func (p *Poller) publish(now time.Time) {
	p.collector.publish(p.ledger.render(now, renderSettings{interval: p.cfg.Interval, revisit: p.cfg.Revisit, dailyQuota: p.cfg.DailyQuota}, p.descs))
}

// Endpoint returns the API URL the poller calls. It holds no secret.
func (p *Poller) Endpoint() string { return p.client.Endpoint() }
