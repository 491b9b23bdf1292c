package backfill

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Days cuts [from, to] at the operation's midnights.
func Days(from, to time.Time, loc *time.Location) []time.Time {
	var ends []time.Time
	for t := from; t.Before(to); {
		next := nextMidnight(t, loc)
		if next.After(to) {
			next = to
		}
		ends = append(ends, next)
		t = next
	}
	return ends
}

// nextMidnight returns the first instant of the local day after t's. Where
// clocks jump forward at midnight (America/Santiago in September), 00:00
// does not exist and time.Date gives the hour before it, on t's own day:
// the day then begins at the first minute that reads as the next date.
func nextMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	want := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC) // the next date, normalised
	for i := 0; i < 24*60 && !sameDate(next.In(loc), want); i++ {
		next = next.Add(time.Minute)
	}
	return next
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// EstimateCalls counts the windows of (from, to], cut at the operation's
// midnights (the checkpoints), one call per report each.
func EstimateCalls(from, to time.Time, loc *time.Location, window time.Duration) int {
	n, start := 0, from
	for _, end := range Days(from, to, loc) {
		n += int((end.Sub(start) + window - 1) / window)
		start = end
	}
	return n * len(wolkvox.Reports)
}
