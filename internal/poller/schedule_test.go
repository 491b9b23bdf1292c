package poller

import (
	"testing"
	"time"
)

// The planned spend is the README's "Cost" table: 2 calls per poll, plus
// one revisit call every `every` polls.
func TestPlannedCallsPerDay(t *testing.T) {
	for _, c := range []struct {
		interval, horizon time.Duration
		want              float64
	}{
		{5 * time.Minute, 0, 576},                          // revisiting off
		{5 * time.Minute, 24 * time.Hour, 576 + 96},        // the defaults: 672 in all
		{5 * time.Minute, 48 * time.Hour, 576 + 48},        // every 6 polls
		{5 * time.Minute, 16 * time.Hour, 576 + 144},       // round(2h/1h) = 2
		{5 * time.Minute, 12 * time.Hour, 576 + 144},       // round(1.5h/1h) = 2
		{5 * time.Minute, 8 * time.Hour, 576 + 288},        // one every poll
		{5 * time.Minute, 1 * time.Hour, 576 + 288},        // horizon/8 below one interval
		{time.Minute, 24 * time.Hour, 2880 + 96},           // every = round(3h/12m) = 15
		{10 * time.Minute, 24 * time.Hour, 288 + 72},       // every = round(3h/2h) = 2 (1.5 rounds up)
		{15 * time.Second, 30 * time.Minute, 11520 + 5760}, // the demo: a revisit every poll
		{0, 24 * time.Hour, 0},                             // no interval: nothing planned
	} {
		got := PlannedCallsPerDay(Config{Interval: c.interval, Revisit: c.horizon})
		if got != c.want {
			t.Errorf("interval %v, horizon %v: %v calls a day, want %v", c.interval, c.horizon, got, c.want)
		}
	}
}
