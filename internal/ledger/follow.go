package ledger

import (
	"math"
	"slices"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Following open cases. Under creation-date filtering a case is returned
// only for a window holding its creation: once it has left the revisit
// sweep's span, its close, survey and typification are read only if that
// window is read again on purpose. The book knows which cases are still
// awaited and when each was created, so following re-reads just the
// creation windows that hold them:
//
//   - the awaited cases are split into age tiers; a tier is read through
//     once every period, older tiers less often (followTiers);
//   - a tier's pass reads the creation seconds of its cases, merged into
//     windows of at most followRecordsPerCall records at the operation's
//     rate of new cases (well under the API's 60,000), each a call;
//   - every call is paid from a daily budget (--chat.follow.max-calls-per-
//     day, refilled evenly over the day, an hour's worth at most banked);
//     a pass the budget cannot pay for waits and its tier grows staler;
//   - a follow read counts only changes to awaited cases: every other
//     record in its windows was counted before, and is only seen again.
//
// A case's figures are then as fresh as its tier's period, plus the time
// a pass waits on the budget; wolkvox_chat_open_staleness_seconds shows
// the worst. Under close-date filtering no open case is ever returned and
// the book awaits none, so following spends nothing. Under last-change
// filtering every change comes back in a new window: following only keeps
// the open cases in the book (so the backlog is true) and reads nothing.

// followTier is an age range of awaited cases and how often it is read.
type followTier struct {
	upTo  time.Duration // cases younger than this (the last tier: the max-age)
	every time.Duration
}

// followTiers: every 2 hours up to three days (where 48- and 72-hour
// e-mail targets fall), every 6 to a week, then every 12. At 100,000
// cases a day that is about 120 + 80 + 70 calls a day, within the
// default budget of 288.
func followTiers() []followTier {
	return []followTier{
		{upTo: 3 * 24 * time.Hour, every: 2 * time.Hour},
		{upTo: 7 * 24 * time.Hour, every: 6 * time.Hour},
		{upTo: 0, every: 12 * time.Hour},
	}
}

// followRecordsPerCall is how many records a follow window is sized to
// hold at the operation's rate of new cases: a third of the cap, so that
// a busy hour does not make a window overflow and cost a split.
const followRecordsPerCall = 20_000

// FollowState is following's schedule, kept in the state file so that a
// restart neither repeats nor skips a pass.
type FollowState struct {
	Tiers []TierState `json:"tiers,omitempty"`
	// Allowance is the calls the budget allows now, as of Refilled.
	Allowance float64   `json:"allowance"`
	Refilled  time.Time `json:"refilled"`
	// RecordsPerCall is what a window is sized to hold; 0 means
	// followRecordsPerCall. A response over the API's 256 MB halves it.
	RecordsPerCall int `json:"records_per_call,omitempty"`
	// Density is the most records a second of creation time has held in
	// recent follow reads, decaying: the book knows the rate of new cases
	// of its last day only, and old windows may be denser (a busy week
	// before a quiet day), or the last day empty.
	Density float64 `json:"density,omitempty"`
}

// FollowObserved records what a follow read of w returned.
func (l *Ledger) FollowObserved(records int, w wolkvox.Window) {
	d := float64(records) / (w.End.Sub(w.Start).Seconds() + 1)
	l.Follow.Density = max(0.9*l.Follow.Density, d)
}

// minFollowRecordsPerCall is as small as windows get sized: e-mails of
// 2.5 MB each would still fit 256 MB.
const minFollowRecordsPerCall = 100

func (f *FollowState) recordsPerCall() int {
	if f.RecordsPerCall <= 0 || f.RecordsPerCall > followRecordsPerCall {
		return followRecordsPerCall
	}
	return max(f.RecordsPerCall, minFollowRecordsPerCall)
}

// FollowTooLarge records that a follow window's response was larger than
// the API sends (its e-mails are large): windows are sized for half as
// many records from now on, and it returns how many.
func (l *Ledger) FollowTooLarge() int {
	l.Follow.RecordsPerCall = max(l.Follow.recordsPerCall()/2, minFollowRecordsPerCall)
	return l.Follow.RecordsPerCall
}

// TierState is one tier's pass: when the last one ended, and, while one
// runs, when it started and the creation time it has read up to.
type TierState struct {
	Done    time.Time `json:"done"`
	Started time.Time `json:"started,omitzero"`
	Cursor  time.Time `json:"cursor,omitzero"`
}

// FollowWork is what following is to read now: one tier's windows.
type FollowWork struct {
	Tier    int
	Windows []wolkvox.Window
}

// FollowCallsPerDay is following's daily budget, 0 when it is off.
func (l *Ledger) FollowCallsPerDay() int {
	if !l.follow.Enabled {
		return 0
	}
	return l.follow.CallsPerDay
}

// MaxFollowBank bounds the budget a state file may carry, either way.
const MaxFollowBank = 100_000

// Refill adds to the budget what the day's rate has earned since it was
// last refilled, an hour's worth banked at most (and at least one call,
// so that a budget below 24 a day still pays for a call). A fresh budget
// starts with one call.
func (l *Ledger) Refill(now time.Time) {
	f := &l.Follow
	perSecond := float64(l.follow.CallsPerDay) / 86400
	limit := max(perSecond*3600, 1)
	switch {
	case f.Refilled.IsZero():
		f.Refilled, f.Allowance = now, 1
		return
	case now.Before(f.Refilled):
		f.Refilled = now // a clock stepped back earns nothing
		return
	}
	f.Allowance = min(limit, f.Allowance+now.Sub(f.Refilled).Seconds()*perSecond)
	f.Refilled = now
}

// Spend takes calls from the budget.
func (l *Ledger) Spend(calls int) { l.Follow.Allowance -= float64(calls) }

// Affordable reports whether the budget pays for another call.
func (l *Ledger) Affordable() bool { return l.Follow.Allowance >= 1 }

// FollowDue returns the tiers due at now, each with the windows of its
// pass still to read, the stalest tier first. reach is where the revisit
// sweep starts (younger cases are its to read again), origin where the
// exporter's first chat_4 window started.
func (l *Ledger) FollowDue(now, reach, origin time.Time) []FollowWork {
	if !l.follow.Enabled {
		return nil
	}
	f := &l.Follow
	tiers := followTiers()
	if len(f.Tiers) != len(tiers) {
		f.Tiers = make([]TierState, len(tiers))
	}
	var maxSpan time.Duration // the book's rate, read once a tier is due
	var out []FollowWork
	lower := reach // the tier's youngest creation time (exclusive)
	for i, t := range tiers {
		st := &f.Tiers[i]
		upTo := t.upTo
		if upTo == 0 || upTo > l.maxAge() {
			upTo = l.maxAge()
		}
		oldest := now.Add(-upTo)
		if oldest.Before(origin) {
			oldest = origin
		}
		from, to := oldest, lower
		lower = minTime(lower, oldest)
		if !to.After(from) {
			continue
		}
		if st.Started.IsZero() {
			if !st.Done.IsZero() && now.Sub(st.Done) < t.every && !now.Before(st.Done) {
				continue // not due
			}
			st.Started, st.Cursor = now, time.Time{}
		}
		if st.Cursor.After(from) {
			from = st.Cursor
		}
		if maxSpan == 0 {
			maxSpan = l.followSpan(now, origin)
		}
		out = append(out, FollowWork{Tier: i, Windows: l.followWindows(from, to, now.Unix(), maxSpan)})
	}
	// The stalest tier first, so that a budget too small for every tier
	// makes each staler in turn rather than starving the oldest.
	slices.SortStableFunc(out, func(a, b FollowWork) int { return f.Tiers[a.Tier].Done.Compare(f.Tiers[b.Tier].Done) })
	return out
}

// FollowRead records that tier's pass has read every creation second up
// to end.
func (l *Ledger) FollowRead(tier int, end time.Time) {
	l.Follow.Tiers[tier].Cursor = end.Add(time.Second)
}

// FollowDone ends tier's pass at now.
func (l *Ledger) FollowDone(tier int, now time.Time) {
	l.Follow.Tiers[tier] = TierState{Done: now}
}

// followWindows merges the creation seconds of the cases awaited in
// [from, to) into windows no longer than maxSpan.
func (l *Ledger) followWindows(from, to time.Time, now int64, maxSpan time.Duration) []wolkvox.Window {
	lo, hi := from.Unix(), to.Unix()
	var created []int64
	for _, e := range l.cases.seen {
		c := int64(e.created)
		if c >= lo && c < hi && l.held(e, now) {
			created = append(created, c)
		}
	}
	slices.Sort(created)
	var out []wolkvox.Window
	span := int64(maxSpan / time.Second)
	for i := 0; i < len(created); {
		start := created[i]
		j := i
		for j+1 < len(created) && created[j+1]-start < span {
			j++
		}
		out = append(out, wolkvox.Window{Start: time.Unix(start, 0), End: time.Unix(created[j], 0)})
		i = j + 1
	}
	return out
}

// followSpan is how long a follow window may be: the records a call is
// sized for, at the higher of the rate of new cases over the last day
// (what the book holds of it) and the density recent follow reads found,
// between a minute and the API's 31 days.
func (l *Ledger) followSpan(now, origin time.Time) time.Duration {
	period := min(24*time.Hour, now.Sub(origin))
	if period < time.Hour {
		period = time.Hour
	}
	since := now.Add(-period).Unix()
	n := 0
	for _, e := range l.cases.seen {
		if int64(e.created) >= since {
			n++
		}
	}
	span := wolkvox.DefaultMaxWindow
	density := max(float64(n)/period.Seconds(), l.Follow.Density)
	if density > 0 && !math.IsInf(density, 0) {
		span = time.Duration(float64(l.Follow.recordsPerCall()) / density * float64(time.Second)).Truncate(time.Second)
	}
	return min(max(span, time.Minute), wolkvox.DefaultMaxWindow-time.Second)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
