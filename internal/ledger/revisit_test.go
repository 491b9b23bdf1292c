package ledger

import (
	"testing"
	"time"
)

// The sweep, driven as the poller drives it, reads every filed date again
// after any change up to the horizon after it, for plans with one revisit
// call per poll and with several polls between calls (the production
// plan). The cost is the README's.
func TestRevisitSweepCoversTheHorizon(t *testing.T) {
	for _, tc := range []struct {
		horizon, interval time.Duration
		every             int
		perDay            float64
	}{
		{24 * time.Hour, 5 * time.Minute, 3, 96},
		{48 * time.Hour, 5 * time.Minute, 6, 48},
		{12 * time.Hour, 5 * time.Minute, 2, 144},
		{3 * time.Minute, 5 * time.Second, 1, 17280},
		{30 * time.Minute, 15 * time.Second, 1, 5760},
	} {
		plan := NewRevisitPlan(tc.horizon, tc.interval)
		if plan.every != tc.every || plan.CallsPerDay(tc.interval) != tc.perDay {
			t.Errorf("%v/%v: every %d, %v calls a day; want %d and %v", tc.horizon, tc.interval, plan.every, plan.CallsPerDay(tc.interval), tc.every, tc.perDay)
		}
		type read struct{ at, start, end time.Time }
		var reads []read
		origin := t0
		var cursor time.Time
		steps := int(4 * (tc.horizon + plan.period) / tc.interval)
		for i := range steps {
			now := t0.Add(time.Duration(i) * tc.interval)
			mark := now // the new windows reach now
			if i%plan.every == 0 {
				start, end, ok := plan.Next(cursor, mark, origin)
				if ok && !end.Before(start) {
					reads = append(reads, read{now, start, end})
					cursor = plan.Advance(end, mark, origin)
				}
			}
		}
		// A case filed at f changes at f+horizon (the latest change the
		// README promises): some read after the change covers f.
		last := t0.Add(time.Duration(steps) * tc.interval)
		for f := t0; f.Add(tc.horizon + 2*plan.period).Before(last); f = f.Add(tc.interval / 3) {
			change := f.Add(tc.horizon)
			covered := false
			for _, r := range reads {
				if !r.at.Before(change) && !f.Before(r.start) && !f.After(r.end) {
					covered = true
					break
				}
			}
			if !covered {
				t.Errorf("%v/%v: a case filed at +%v and changed %v later is never read again", tc.horizon, tc.interval, f.Sub(t0), tc.horizon)
				break
			}
		}
	}
}
