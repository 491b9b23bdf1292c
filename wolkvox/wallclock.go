package wolkvox

import "time"

// WallClock returns t's wall-clock reading in loc as a time in UTC, so that
// readings compare as the API compares its zone-less dates. Where clocks go
// back, two instants an hour apart have one reading.
func WallClock(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
}

// clocksBackWithin returns the last instant within w at which clocks go
// back, if there is one. The API selects by wall clock, and across that
// instant the wall clock repeats an hour, so no one range of readings is
// w: [start, end] would miss the rest of the hour's first time round, and
// ends before it starts when end falls early in the second. Each side of
// the change on its own is a proper range.
func clocksBackWithin(w Window, loc *time.Location) (time.Time, bool) {
	for end := w.End; ; {
		change, _ := end.In(loc).ZoneBounds()
		if !change.After(w.Start) {
			return time.Time{}, false
		}
		_, before := change.Add(-time.Second).In(loc).Zone()
		if _, after := change.In(loc).Zone(); after < before {
			return change, true
		}
		end = change.Add(-time.Second)
	}
}
