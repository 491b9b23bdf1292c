package main

import (
	"testing"
	"time"
)

// TestDaysCutAtEachMidnightThroughDaylightSaving: where 00:00 does not
// exist (America/Santiago, 2025-09-07, clocks jump to 01:00), the day
// begins at 01:00; before the fix the cut never advanced and the backfill,
// even --dry-run, ran out of memory. A fall-back day lasts 25 hours.
func TestDaysCutAtEachMidnightThroughDaylightSaving(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"2025-09-05T00:00:00-04:00", "2025-09-09T00:00:00-03:00", []string{
			"2025-09-06T00:00:00-04:00", "2025-09-07T01:00:00-03:00", "2025-09-08T00:00:00-03:00", "2025-09-09T00:00:00-03:00"}},
		{"2026-04-04T00:00:00-03:00", "2026-04-06T00:00:00-04:00", []string{
			"2026-04-05T00:00:00-04:00", "2026-04-06T00:00:00-04:00"}},
	} {
		from, _ := time.Parse(time.RFC3339, tc.from)
		to, _ := time.Parse(time.RFC3339, tc.to)
		ends := days(from, to, loc)
		if len(ends) != len(tc.want) {
			t.Fatalf("days(%s, %s) = %v, want %v", tc.from, tc.to, ends, tc.want)
		}
		for i, w := range tc.want {
			if got := ends[i].In(loc).Format(time.RFC3339); got != w {
				t.Errorf("day %d ends at %s, want %s", i, got, w)
			}
		}
	}
}
