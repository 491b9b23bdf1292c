// Package backfill replays an operation's history through the live
// ledger into Prometheus blocks, joined to the live exporter's counters.
package backfill

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/go-kit/log"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/blocks"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/state"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Backfill replays an operation's history through the same ledger the
// live poller uses, and hands what a scrape every step would have seen to
// a BlockSink, which writes Prometheus blocks. Each increment lands at the
// time its record says it happened (a transfer's date; a case's creation,
// and its close, survey and typification at the close date), not when it
// was fetched. Its state file is the live exporter's: started on it, the
// exporter continues every counter from the backfilled value and reads on
// from the backfill's end.
type Backfill struct {
	cfg    poller.Config
	client *wolkvox.Client
	ledger *ledger.Ledger
	lock   *os.File
	opts   Options
	rec    *sampleRecorder
}

// Options are how a backfill reads and writes.
type Options struct {
	// Labels are added to every series (job and instance), so backfilled
	// series are the live scrape's.
	Labels map[string]string
	// Step is the spacing of the samples: under Prometheus's 5-minute
	// lookback.
	Step time.Duration
	// Window is the span of history each API call reads. Memory holds one
	// window's records (plus the closes still to come of cases opened in
	// earlier windows of the day), so it bounds memory; each window costs
	// a call per report.
	Window time.Duration
	// PrometheusMajor is the major version of the Prometheus that loads the
	// blocks: 3 normalises a classic histogram's le label as it ingests a
	// scrape ("5.0"); 2 keeps a text scrape's ("5"). The backfilled series
	// must be written the same way, or they are other series.
	PrometheusMajor int
}

// Label is one label of a backfilled series: the block writer's.
type Label = blocks.Label

// BlockSink writes a backfill's samples as Prometheus blocks.
type BlockSink interface {
	// Append adds one sample. lbls are sorted by name, __name__ included;
	// ref is 0, or what Append returned for the same series since the last
	// Flush.
	Append(ref uint64, lbls []Label, t int64, v float64) (uint64, error)
	// Flush writes the samples appended since the last Flush as one block.
	Flush(ctx context.Context) error
}

// DayStats says what one day of backfill cost and held.
type DayStats struct {
	Calls, Records int
	Series         int
}

// New returns a backfill for cfg, whose StateFile must be set: it
// is the checkpoint and the live exporter's starting point.
func New(cfg poller.Config, opts Options) (*Backfill, error) {
	switch {
	case cfg.StateFile == "":
		return nil, errors.New("backfill needs a state file")
	case opts.Step <= 0 || opts.Window < opts.Step:
		return nil, fmt.Errorf("backfill step %v and window %v: the step must be positive and the window at least a step", opts.Step, opts.Window)
	case opts.PrometheusMajor != 2 && opts.PrometheusMajor != 3:
		return nil, fmt.Errorf("prometheus major version %d: 2 or 3", opts.PrometheusMajor)
	}
	if cfg.Logger == nil {
		cfg.Logger = log.NewNopLogger()
	}
	client, err := wolkvox.New(cfg.Client)
	if err != nil {
		return nil, err
	}
	lock, l, _, err := state.Open(cfg.StateFile, func() *ledger.Ledger { return ledger.New(cfg.LedgerSettings()) }, time.Now(), cfg.Logger)
	if err != nil {
		client.Close()
		return nil, err
	}
	return &Backfill{cfg: cfg, client: client, ledger: l, lock: lock,
		opts: opts, rec: newSampleRecorder(cfg.Operation, opts.Labels, opts.PrometheusMajor)}, nil
}

// Close lets the token and the state file go.
func (b *Backfill) Close() error {
	b.client.Close()
	return b.lock.Close()
}

// ReadCheckpoint reads cfg's state file read-only (no lock, nothing moved
// aside or removed) and returns where a backfill on it resumes: what Mark
// would say. A missing file is the zero time. For the estimate and
// --dry-run, which must change nothing on disk.
func ReadCheckpoint(cfg poller.Config) (time.Time, error) {
	l, _, err := state.ReadOnly(cfg.StateFile, func() *ledger.Ledger { return ledger.New(cfg.LedgerSettings()) }, time.Now())
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return l.Checkpoint(), nil
}

// Mark returns where the backfill has got to for both reports (the
// earlier), or the zero time when it has not started.
func (b *Backfill) Mark() time.Time { return b.ledger.Checkpoint() }

// Origin returns where the state file's history starts: a backfill's
// --from, or the first window of a live exporter that ran first.
func (b *Backfill) Origin() time.Time {
	t, c := b.ledger.Origins[wolkvox.ReportTransfers], b.ledger.Origins[wolkvox.ReportInteractions]
	if c.Before(t) {
		return c
	}
	return t
}

// Start sets where a fresh backfill begins: from is the first second read.
func (b *Backfill) Start(from time.Time) {
	for _, r := range wolkvox.Reports {
		b.ledger.Marks[r] = from.Add(-time.Second)
		b.ledger.Origins[r] = from
	}
}

// Day backfills (mark, end]: it reads both reports a window at a time,
// replays their records at their own times, writes a sample of every
// series every step to sink, and flushes a block at each of Prometheus's
// 2-hour boundaries. A failure returns at once; the blocks flushed so far
// are the caller's to throw away, as nothing moves the checkpoint until
// Commit.
func (b *Backfill) Day(ctx context.Context, end time.Time, sink BlockSink) (DayStats, error) {
	var st DayStats
	l := b.ledger
	step := b.opts.Step
	start := b.Mark()
	fetched := start // every record of (start, fetched] is in hand
	var pending eventQueue
	fetch := func() error {
		to := fetched.Add(b.opts.Window)
		if to.After(end) {
			to = end
		}
		window := wolkvox.Window{Start: fetched.Add(time.Second), End: to}
		calls, records, err := b.fetch(ctx, window, &pending)
		st.Calls += calls
		st.Records += records
		if err != nil {
			return err
		}
		fetched = to
		return nil
	}

	b.rec.begin(sink)
	// Samples every step, and one at the end, where the checkpoint is,
	// when it falls between steps.
	first := start.Truncate(step).Add(step)
	if first.After(end) {
		first = end
	}
	blockEnd := first.Truncate(block).Add(block)
	for t := first; ; {
		// A block is [start, end): a sample on the boundary is the next
		// block's, or the block would hold that one instant of the next.
		if !t.Before(blockEnd) {
			if err := b.rec.flush(ctx); err != nil {
				return st, err
			}
			blockEnd = t.Truncate(block).Add(block)
			// Forget keys as live does each poll, not only at the day's
			// end: the ledger then holds what live holds (two days of
			// cases), not three.
			l.Prune(t)
		}
		final := !t.Before(end)
		for fetched.Before(t) && fetched.Before(end) {
			if err := fetch(); err != nil {
				return st, err
			}
		}
		// At the end, everything left is due, what is dated after it (a
		// close still to come, a clock ahead) included: the checkpoint
		// cannot carry it over, and the end's sample must show it.
		for pending.Len() > 0 && (final || !pending.peek().at.After(t)) {
			b.apply(heap.Pop(&pending).(event), t)
		}
		l.ForgetIdleAgents(t)
		b.rec.at = t.UnixMilli()
		l.Emit(t, b.cfg.RenderSettings(), b.rec)
		if b.rec.err != nil {
			return st, b.rec.err
		}
		if final {
			break
		}
		// A day holds thousands of steps between fetches and flushes:
		// SIGTERM must not wait for the next of those.
		if err := ctx.Err(); err != nil {
			return st, &wolkvox.Error{Reason: wolkvox.ReasonCanceled, Err: err}
		}
		if t = t.Add(step); t.After(end) {
			t = end
		}
	}
	if err := b.rec.flush(ctx); err != nil {
		return st, err
	}
	st.Series = b.rec.series
	return st, nil
}

// fetch reads window of both reports into pending, each record copied out
// of its response so the response can go.
func (b *Backfill) fetch(ctx context.Context, window wolkvox.Window, pending *eventQueue) (calls, records int, err error) {
	stats, err := b.client.FetchTransfers(ctx, wolkvox.PurposeNew, window, func(_ wolkvox.Window, recs []wolkvox.Transfer) error {
		for i := range recs {
			t := recs[i]
			pending.push(event{at: orTime(t.Date, window.End), transfer: &t})
		}
		records += len(recs)
		return nil
	})
	calls = stats.Calls
	if err != nil {
		return calls, records, err
	}
	stats, err = b.client.FetchInteractions(ctx, wolkvox.PurposeNew, window, func(_ wolkvox.Window, recs []wolkvox.Interaction) error {
		for i := range recs {
			c := recs[i]
			for _, e := range caseEvents(&c, window.End) {
				pending.push(e)
			}
		}
		records += len(recs)
		return nil
	})
	return calls + stats.Calls, records, err
}

// block is the span of one block: Prometheus's block length, and its
// alignment, so no block written overlaps another.
const block = 2 * time.Hour

// Commit records that everything up to end is written: the checkpoint,
// and the live exporter's starting point. Call it once the day's output
// is safely on disk.
func (b *Backfill) Commit(end time.Time) error {
	l := b.ledger
	for _, r := range wolkvox.Reports {
		l.Marks[r] = end
	}
	l.Backfilled = true
	l.Prune(end)
	if err := state.WriteAtomic(b.cfg.StateFile, func(w io.Writer) error { return l.Encode(w, end) }); err != nil {
		return fmt.Errorf("saving the checkpoint: %w", err)
	}
	return nil
}

func (b *Backfill) apply(e event, seen time.Time) {
	l := b.ledger
	if e.transfer != nil {
		l.ApplyTransfers([]wolkvox.Transfer{*e.transfer}, seen, map[uint64]string{})
		return
	}
	l.ApplyInteractions([]wolkvox.Interaction{*e.interaction}, seen)
}

func orTime(t, fallback time.Time) time.Time {
	if t.IsZero() {
		return fallback
	}
	return t
}

// caseEvents splits a case, read as it stands now, into what happened
// when: created (open, as it was then), and closed with its survey and
// typification at the close date. A case archived without a close, or
// still open, is one event at its creation, as it stands.
func caseEvents(c *wolkvox.Interaction, fallback time.Time) []event {
	created := orTime(c.Created, fallback)
	if c.Status != "close" || c.Closed.IsZero() {
		return []event{{at: created, interaction: c}}
	}
	open := *c
	open.Status, open.Closed, open.HasSurvey, open.Survey, open.CodAct, open.CodDescription = "open", time.Time{}, false, 0, "", ""
	open.Invalid = 0 // counted once, with the full record
	return []event{{at: created, interaction: &open}, {at: c.Closed, interaction: c}}
}

// event is one record to apply at a time.
type event struct {
	at          time.Time
	seq         uint64 // arrival order, for records of the same second
	transfer    *wolkvox.Transfer
	interaction *wolkvox.Interaction
}

// eventQueue holds the records fetched and not yet due, earliest first
// and, within a second, in the order they came: a case's open before its
// close.
type eventQueue struct {
	events []event
	seq    uint64
}

func (q *eventQueue) push(e event) {
	q.seq++
	e.seq = q.seq
	heap.Push(q, e)
}

func (q *eventQueue) peek() *event { return &q.events[0] }

func (q *eventQueue) Len() int { return len(q.events) }
func (q *eventQueue) Less(i, j int) bool {
	a, b := &q.events[i], &q.events[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}
func (q *eventQueue) Swap(i, j int) { q.events[i], q.events[j] = q.events[j], q.events[i] }
func (q *eventQueue) Push(x any)    { q.events = append(q.events, x.(event)) }
func (q *eventQueue) Pop() any {
	n := len(q.events) - 1
	e := q.events[n]
	q.events[n] = event{}
	q.events = q.events[:n]
	return e
}
