package wolkvoxtest

import (
	"testing"
	"time"
)

func TestRepeatingSpike(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	traffic := &Traffic{Seed: 1}
	traffic.AddSpike(Spike{Start: start, End: start.Add(2 * time.Minute), Every: 10 * time.Minute, TypeCall: "transfer", SkillID: "101", PerMinute: 5})
	for minute, want := range map[int]int{-1: 0, 0: 5, 1: 5, 2: 0, 9: 0, 10: 5, 11: 5, 12: 0, 600: 5, 605: 0} {
		from := start.Add(time.Duration(minute) * time.Minute)
		got := traffic.Transfers(from, from.Add(59*time.Second))
		if len(got) != want {
			t.Errorf("minute %d: %d records, want %d", minute, len(got), want)
		}
		for _, r := range got {
			if r.SkillID != "101" || r.TypeCall != "transfer" {
				t.Errorf("minute %d: record %+v is not the spike's", minute, r)
			}
		}
	}
}
