package ledger

import (
	"math"
	"time"
)

// Revisiting chat_4. Cases change after they are first read: closed hours
// later, surveyed after the close, typified late. Which date chat_4
// filters on is undocumented, so the exporter re-reads the trailing
// horizon, whatever the filter: under every plausible one, a change made
// within the horizon of the date the API files the case under is read
// again and counted once (the case book remembers what was counted).
//
// The horizon is swept from its old end to its new end in slices, one
// slice every few polls, so the cost is small and the same every day:
//
//   - a sweep takes period P = horizon/8 (at least one poll interval);
//   - it makes about revisitSlices calls, one every `every` polls, where
//     every = round(P / (revisitSlices × interval)), at least 1;
//   - it covers span R = horizon + P behind the new windows, so that a
//     change up to the horizon after the filed date is read by a sweep
//     that starts after it, before the date leaves the span.
//
// With the defaults (24 h, 5 m): P = 3 h, one call every 3 polls (15 m),
// 96 calls a day. The schedule depends only on the horizon and the
// interval; TestRevisitSweepCoversTheHorizon drives it through plans with
// one call per poll and with several polls between calls.
const revisitSlices = 12

// RevisitPlan is the sweep schedule derived from the horizon and interval.
type RevisitPlan struct {
	horizon time.Duration // 0: revisiting is off
	period  time.Duration // P: one whole sweep
	span    time.Duration // R = horizon + P: how far behind the new windows a sweep starts
	every   int           // polls between revisit calls
	slice   time.Duration // how far the cursor moves per call
}

func NewRevisitPlan(horizon, interval time.Duration) RevisitPlan {
	if horizon <= 0 {
		return RevisitPlan{}
	}
	period := max(horizon/8, interval)
	every := max(1, int(math.Round(float64(period)/float64(revisitSlices*interval))))
	calls := max(1, int(period/(time.Duration(every)*interval))) // per sweep
	span := horizon + period
	// The new windows move on by every×interval between calls; the cursor
	// must gain span on them in one sweep's calls.
	slice := span/time.Duration(calls) + time.Duration(every)*interval
	return RevisitPlan{horizon: horizon, period: period, span: span, every: every, slice: slice.Truncate(time.Second)}
}

// callsPerDay is what the plan costs in tokens a day, splits and retries
// aside.
func (p RevisitPlan) CallsPerDay(interval time.Duration) float64 {
	if p.horizon <= 0 {
		return 0
	}
	return float64(24*time.Hour) / float64(time.Duration(p.every)*interval)
}

// next returns the window the next revisit call reads, given the cursor,
// the start of the new windows (mark) and the start of the first window
// the exporter ever read (origin), and whether one is due. The cursor never
// lags more than the span behind mark: what a lagging cursor would have
// read has left the horizon. It never reaches before origin: cases filed
// before the exporter first polled were never its to count, and counting
// a horizon of them at start would show as a burst.
func (p RevisitPlan) Next(cursor, mark, origin time.Time) (start, end time.Time, ok bool) {
	if p.horizon <= 0 || mark.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	oldest := p.oldest(mark, origin)
	if cursor.Before(oldest) || !cursor.Before(mark) {
		cursor = oldest // a new sweep
	}
	end = cursor.Add(p.slice - time.Second)
	if !end.Before(mark) {
		end = mark.Add(-time.Second)
	}
	return cursor, end, true
}

// advance returns the cursor after a successful read of [start, end]:
// the next second, or, once the sweep has reached the new windows, a new
// sweep from the span's old end.
func (p RevisitPlan) Advance(end, mark, origin time.Time) time.Time {
	next := end.Add(time.Second)
	if !next.Before(mark) {
		return p.oldest(mark, origin)
	}
	return next
}

func (p RevisitPlan) oldest(mark, origin time.Time) time.Time {
	oldest := mark.Add(-p.span)
	if oldest.Before(origin) && origin.Before(mark) {
		return origin
	}
	return oldest
}
