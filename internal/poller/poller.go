package poller

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

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/state"
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
	// Realtime configures the real-time snapshots and token_info.
	Realtime Realtime
	// TimeoutCodes are the cod_act prefixes of closes by the platform's
	// timeout; nil: ledger.DefaultTimeoutCodes.
	TimeoutCodes []string
	// Follow keeps chat_4 cases open beyond the revisit horizon in the
	// book, and re-reads the windows that hold them (ledger/follow.go).
	Follow ledger.FollowSettings
	// OpenTarget is the age by which an open case should be closed: the
	// wolkvox_chat_open_past_target_interactions gauge and its alert.
	OpenTarget time.Duration
	// FirstWindow is how far back a fresh start's first poll reads;
	// default one interval. The demo reads its last hours at once, so that
	// every panel has data from the first poll.
	FirstWindow time.Duration
	// Clock tells the time; default the system clock.
	Clock  Clock
	Logger log.Logger
}

// Poller polls the API in the background and publishes metrics.
type Poller struct {
	cfg       Config
	client    *wolkvox.Client
	plan      ledger.RevisitPlan
	ledger    *ledger.Ledger
	descs     *collector.Descs
	collector *collector.Collector
	logger    log.Logger
	lock      *os.File
	sched     schedule // when the next poll is due; not under mu (schedule.go)
	// snapshots is the real-time schedule; only the snapshots' goroutine
	// touches it.
	snapshots snapshotSchedule

	mu    sync.Mutex // one poll at a time; guards everything below
	polls int
	// unsaved is set while the ledger holds counts its state file does
	// not: they are not published until a save succeeds.
	unsaved bool
	// revisitPending is set while the last revisit failed.
	revisitPending bool
	// followIdleLogged is the filter verdict for which following last
	// said it has nothing to read, so that it says so once.
	followIdleLogged string
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
	plan := ledger.NewRevisitPlan(cfg.Revisit, cfg.Interval)
	descs := collector.NewDescs(constLabels)
	p := &Poller{
		cfg:       cfg,
		plan:      plan,
		ledger:    ledger.New(cfg.LedgerSettings()),
		descs:     descs,
		collector: collector.NewCollector(descs, collector.NewHealth(cfg.Realtime.reports()...)),
		logger:    cfg.Logger,
	}
	observe := cfg.Client.ObserveRequest
	cfg.Client.ObserveRequest = func(ri wolkvox.RequestInfo) {
		// Called on the poller's goroutine, inside a poll, as each call
		// ends: a scrape sees every call made so far.
		p.health().CountRequest(ri.Report, ri.Status, ri.Purpose)
		if observe != nil {
			observe(ri)
		}
	}
	client, err := wolkvox.New(cfg.Client)
	if err != nil {
		return nil, err
	}
	p.client = client
	p.collector.SetClock(cfg.Clock.Now)
	if cfg.StateFile != "" && loadState {
		if err := p.openState(); err != nil {
			client.Close()
			return nil, err
		}
	}
	p.publish(cfg.Clock.Now())
	return p, nil
}

// RenderSettings are the configured values the ledger's rendering exports.
func (cfg Config) RenderSettings() ledger.RenderSettings {
	follow := 0
	if cfg.Follow.Enabled {
		follow = cfg.Follow.CallsPerDay
	}
	return ledger.RenderSettings{Interval: cfg.Interval, Revisit: cfg.Revisit, DailyQuota: cfg.DailyQuota, PlannedCalls: PlannedCallsPerDay(cfg),
		OpenTarget: cfg.OpenTarget, FollowCallsPerDay: follow}
}

// health is the operation's live health, which the collector serves.
func (p *Poller) health() *collector.Health { return p.collector.Health() }

// LedgerSettings are what the ledger keeps and for how long.
func (cfg Config) LedgerSettings() ledger.Settings {
	return ledger.Settings{AgentMetrics: cfg.AgentMetrics, AgentTTL: cfg.AgentTTL, MaxSeriesPerMetric: cfg.MaxSeriesPerMetric,
		Interval: cfg.Interval, Revisit: cfg.Revisit, TimeoutCodes: cfg.TimeoutCodes, Follow: cfg.Follow}
}

// operationLabels are the constant labels of an operation's series.
func operationLabels(cfg Config) prometheus.Labels {
	if cfg.Operation == "" {
		return nil
	}
	return prometheus.Labels{"operation": cfg.Operation}
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

// NewSuccessor prepares a poller for cfg that is to continue prev, a
// running poller of the same operation with other settings: everything
// that can fail is done here, while prev still runs, and nothing of prev
// is touched. Its state file is not read (prev's memory is never behind
// it); a state file at another path than prev's is locked now, prev's own
// is taken over with TakeOver once prev has stopped.
func NewSuccessor(cfg Config, prev *Poller) (*Poller, error) {
	sameFile := cfg.StateFile != "" && cfg.StateFile == prev.cfg.StateFile
	p, err := newPoller(cfg, false)
	if err != nil {
		return nil, err
	}
	if cfg.StateFile != "" && !sameFile {
		if p.lock, err = state.Lock(cfg.StateFile, p.logger); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// TakeOver continues prev, stopped, from NewSuccessor: its ledger (so
// what was counted stays counted), its process counters and health, its
// state file's lock when the path is the same, and what it published
// while its counts are not yet on disk. It cannot fail. Called before Run.
func (p *Poller) TakeOver(prev *Poller) {
	prev.ledger.Retune(p.cfg.LedgerSettings())
	p.ledger = prev.ledger
	prev.collector.Health().WithSnapshots(p.cfg.Realtime.reports()...)
	if p.cfg.StateFile != "" && p.cfg.StateFile == prev.cfg.StateFile {
		p.lock, prev.lock = prev.lock, nil
	}
	p.unsaved = prev.unsaved
	p.collector.TakeOver(prev.collector, p.unsaved)
	if !p.unsaved {
		p.publish(p.cfg.Clock.Now())
	}
}

// SetToken hands the poller a new token (a rotation without a restart).
func (p *Poller) SetToken(token string) error { return p.client.SetToken(token) }

// Config is the poller's configuration.
func (p *Poller) Config() Config { return p.cfg }

// openState locks the state file and loads it.
func (p *Poller) openState() error {
	now := p.cfg.Clock.Now()
	lock, l, savedAt, err := state.Open(p.cfg.StateFile, func() *ledger.Ledger { return ledger.New(p.cfg.LedgerSettings()) }, now, p.logger)
	if err != nil {
		return err
	}
	p.lock, p.ledger = lock, l
	if len(l.Marks) == 0 {
		return nil // a fresh start
	}
	// A mark ahead of now comes from a host whose clock was ahead, or a
	// clock that stepped back. Waiting for the clock to pass it would stop
	// polling for as long, and the windows read while the clock was ahead
	// were read before the API had their records.
	end := p.end(now)
	for report, mark := range p.ledger.Marks {
		if mark.After(end) {
			p.rewind(report, mark, now, "state file's window mark is in the future (a clock ahead, or stepped back)")
		}
	}
	level.Info(p.logger).Log("msg", "resuming from state file", "file", p.cfg.StateFile, "saved_at", p.format(savedAt))
	return nil
}

// Collector returns the prometheus.Collector that serves the poller's metrics.
func (p *Poller) Collector() *collector.Collector { return p.collector }

// Status returns the latest status.
func (p *Poller) Status() *collector.Status { return p.health().Status() }

// Run polls now and then every interval until ctx is done. It can be
// called again after it returns; the counts carry on.
func (p *Poller) Run(ctx context.Context) {
	if p.cfg.Realtime.enabled() {
		// Its own goroutine, so that a long catch-up of the reports never
		// lets a snapshot go stale; the token gate keeps their calls apart.
		var snapshots sync.WaitGroup
		snapshots.Go(func() { p.runSnapshots(ctx) })
		defer snapshots.Wait()
	}
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
	back := min(p.ledger.TransferKeyRetention(), p.cfg.MaxCatchup)
	resume := end.Add(-back)
	if origin := p.ledger.Origins[report]; resume.Before(origin) && origin.Before(end) {
		resume = origin
	}
	level.Warn(p.logger).Log("msg", why+"; reading again from as far back as de-duplication remembers", "report", report,
		"mark", p.format(mark), "now", p.format(now), "resume_from", p.format(resume))
	p.ledger.Marks[report] = resume
	if p.ledger.Origins[report].After(resume) {
		p.ledger.Origins[report] = resume
	}
	if report == wolkvox.ReportInteractions {
		if p.ledger.RevisitCursor.After(end) {
			p.ledger.RevisitCursor = time.Time{}
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
	if ctx.Err() == nil && p.plan.Horizon() > 0 && (p.polls%p.plan.Every() == 0 || p.revisitPending) {
		p.revisitPending = !p.revisit(ctx, now)
	}
	if ctx.Err() == nil {
		p.follow(ctx, now)
	}
	p.polls++
	if p.health().Status().Ready() {
		p.ledger.Backfilled = false // read on from the backfill's end: live now
	}
	p.ledger.ForgetIdleAgents(now)
	gaveUp := p.ledger.GivenUp
	p.ledger.Prune(p.end(now))
	if n := p.ledger.GivenUp - gaveUp; n > 0 {
		// Each case is given up once, so each is in one such line.
		level.Warn(p.logger).Log("msg", "gave up following chat_4 cases still open at the follow max-age (--chat.follow.max-age, chat_follow_max_age); they are no longer shown open, and a later close is not counted", "report", wolkvox.ReportInteractions,
			"cases", n, "max_age", p.cfg.Follow.MaxAge)
	}
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
	err := state.WriteAtomic(p.cfg.StateFile, func(w io.Writer) error { return p.ledger.Encode(w, now) })
	if err != nil {
		p.health().SaveFailed()
		level.Error(p.logger).Log("msg", "could not save state; new counts are held back from /metrics until a save succeeds", "file", p.cfg.StateFile, "err", err)
		return fmt.Errorf("saving state: %w", err)
	}
	p.health().Saved(time.Now())
	return nil
}

func (p *Poller) pollReport(ctx context.Context, report wolkvox.Report, now time.Time) {
	l := p.ledger
	logger := log.With(p.logger, "report", report)
	end := p.end(now)
	mark := l.Marks[report]
	if mark.IsZero() {
		first := p.cfg.Interval // the first poll covers one interval
		if p.cfg.FirstWindow > 0 {
			first = p.cfg.FirstWindow
		}
		mark = end.Add(-first)
		l.Marks[report] = mark
		if l.Origins[report].IsZero() {
			l.Origins[report] = mark
		}
	}
	if end.Before(mark) {
		mark = p.rewind(report, mark, now, "clock is behind the last window's end (it was ahead, or stepped back)")
	}
	start := mark
	catchup := p.cfg.MaxCatchup
	if l.Backfilled {
		// A backfill's end: read on from it, as far as the API serves.
		catchup = max(catchup, wolkvox.DefaultMaxWindow)
	}
	if end.Sub(start) > catchup {
		newStart := end.Add(-catchup)
		skipped := newStart.Sub(start)
		l.AddSkipped(skipped.Seconds(), report)
		level.Warn(logger).Log("msg", "outage longer than --poll.max-catchup; these records will never be counted", "skipped_from", p.format(start), "skipped_to", p.format(newStart), "skipped", skipped)
		start, l.Marks[report] = newStart, newStart
	}
	window := wolkvox.Window{Start: start, End: end}
	began := time.Now()
	var stats wolkvox.FetchStats
	var err error
	switch report {
	case wolkvox.ReportTransfers:
		inWindow := map[uint64]string{}
		stats, err = p.client.FetchTransfers(ctx, wolkvox.PurposeNew, window, func(piece wolkvox.Window, recs []wolkvox.Transfer) error {
			l.ApplyTransfers(recs, end, inWindow)
			l.Marks[report] = piece.End
			return nil
		})
		if err == nil {
			l.SetWindowTransfers(inWindow)
		}
	case wolkvox.ReportInteractions:
		stats, err = p.client.FetchInteractions(ctx, wolkvox.PurposeNew, window, func(piece wolkvox.Window, recs []wolkvox.Interaction) error {
			p.applyInteractions(piece, recs, end)
			l.Marks[report] = piece.End
			return nil
		})
	}
	took := time.Since(began)
	p.countPoison(report, stats)
	if p.failed(report, err, took) {
		logFailure(logger, "poll failed; the next poll resumes from the last counted window", err, "window", p.formatWindow(window), "resume_from", p.format(l.Marks[report]), "calls", stats.Calls)
		return
	}
	p.health().PollSucceeded(report, now, window)
	level.Debug(logger).Log("msg", "poll succeeded", "window", p.formatWindow(window), "calls", stats.Calls, "splits", stats.Splits, "duration", took)
}

// failed records a failed fetch in the health metrics at once, and
// reports whether it failed. A fetch canceled by shutdown is no failure.
func (p *Poller) failed(report wolkvox.Report, err error, took time.Duration) bool {
	if err == nil {
		p.health().PollTook(report, took)
		return false
	}
	reason := wolkvox.ReasonOf(err)
	if reason == wolkvox.ReasonCanceled {
		return true
	}
	if reason == "" {
		reason = wolkvox.ReasonAPIError
	}
	p.health().PollFailed(report, reason, err, took)
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
	p.observe(piece, recs, seenAt, false)
}

// observe is applyInteractions; followed counts only the changes to the
// cases following awaits (ledger.ApplyFollowed).
func (p *Poller) observe(piece wolkvox.Window, recs []wolkvox.Interaction, seenAt time.Time, followed bool) {
	l := p.ledger
	if followed {
		l.ApplyFollowed(recs, seenAt)
	} else {
		l.ApplyInteractions(recs, seenAt)
	}
	l.Filter.Observe(recs, piece.Start, piece.End, p.cfg.Client.Location)
	if v := l.Filter.Verdict(); v != l.FilterLogged {
		l.FilterLogged = v
		level.Info(p.logger).Log("msg", "chat_4 filters on "+v+", judging by its responses; please report what your operation shows (README: How chat numbers are counted)", "report", wolkvox.ReportInteractions, "filter", v)
	}
	if l.Filter.Contradictory() && !l.ContradictionLogged {
		l.ContradictionLogged = true
		level.Warn(p.logger).Log("msg", "chat_4's dates match no filter date for the windows asked; is --wolkvox.timezone the operation's zone?", "report", wolkvox.ReportInteractions)
	}
}

// revisit reads chat_4's next slice of the trailing horizon.
func (p *Poller) revisit(ctx context.Context, now time.Time) (ok bool) {
	l := p.ledger
	mark := l.Marks[wolkvox.ReportInteractions]
	start, end, ok := p.plan.Next(l.RevisitCursor, mark, l.Origins[wolkvox.ReportInteractions])
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
			l.RevisitCursor = p.plan.Advance(piece.End, mark, l.Origins[wolkvox.ReportInteractions])
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
		l.RevisitCursor = p.plan.Advance(window.End, mark, l.Origins[wolkvox.ReportInteractions])
	}
	return true
}

// withoutPoison cuts w around the seconds of report known to hold a
// poison record.
func (p *Poller) withoutPoison(report wolkvox.Report, w wolkvox.Window) []wolkvox.Window {
	var cuts []time.Time
	for key := range p.ledger.Poisoned {
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
		if _, seen := p.ledger.Poisoned[key]; seen {
			continue
		}
		p.ledger.Poisoned[key] = w.End.Unix()
		p.ledger.AddPoisoned(w.End.Sub(w.Start).Seconds()+1, report)
		level.Error(p.logger).Log("msg", "skipped a second whose records the API cannot send intact (a broken record); everything else of the window was counted", "report", report, "skipped", p.formatWindow(w))
	}
}

func (p *Poller) formatWindow(w wolkvox.Window) string {
	return p.format(w.Start) + " .. " + p.format(w.End)
}

// publish renders the ledger and swaps the snapshot in.
func (p *Poller) publish(now time.Time) {
	p.collector.Publish(collector.Render(p.ledger, now, p.cfg.RenderSettings(), p.descs))
}

// Endpoint returns the API URL the poller calls. It holds no secret.
func (p *Poller) Endpoint() string { return p.client.Endpoint() }
