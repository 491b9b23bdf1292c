package wolkvox

import "time"

// WallClock returns t's wall-clock reading in loc as a time in UTC, so that
// readings compare as the API compares its zone-less dates. Where clocks go
// back, two instants an hour apart have one reading.
func WallClock(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
}
