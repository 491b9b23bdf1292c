package collector

import "time"

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
	if !change.After(start) || !wallClock(change, loc).Before(wallClock(start, loc)) {
		return start
	}
	return change
}

// wallClock returns t's wall-clock reading in loc as a time in UTC, so that
// readings compare as the API compares its zone-less dates.
func wallClock(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
}
