package collector

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// repeatStart handles clocks going back (the end of daylight saving time)
// between a window's start and end. The API dates records by wall-clock time
// and selects them by it, so after the change it serves an hour that it has
// served before, now holding the records of both times round. The window
// must then start no later, on the wall clock, than that hour: at the
// change itself. Records of the first time round come back with it, and
// de-duplication drops them; transfer keys are kept long enough for that.
//
// It returns the start to ask from: start, or the instant of the change
// when that is earlier on the wall clock. Without a change back in between,
// it returns start.
func repeatStart(start, end time.Time, loc *time.Location) time.Time {
	_, before := start.In(loc).Zone()
	_, after := end.In(loc).Zone()
	if after >= before {
		return start
	}
	change, _ := end.In(loc).ZoneBounds()
	if !change.After(start) || !wolkvox.WallClock(change, loc).Before(wolkvox.WallClock(start, loc)) {
		return start
	}
	return change
}
