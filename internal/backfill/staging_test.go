package backfill

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

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
		ends := Days(from, to, loc)
		if len(ends) != len(tc.want) {
			t.Fatalf("Days(%s, %s) = %v, want %v", tc.from, tc.to, ends, tc.want)
		}
		for i, w := range tc.want {
			if got := ends[i].In(loc).Format(time.RFC3339); got != w {
				t.Errorf("day %d ends at %s, want %s", i, got, w)
			}
		}
	}
}

// TestSettleStagingFinishesACommittedDay: a crash after a day's checkpoint
// was saved and before its blocks were moved leaves them staged; the next
// run moves them. Without the saved checkpoint they are thrown away, and
// the day is written again. Before, the blocks were moved first, and a
// crash before the checkpoint wrote the day twice, with values that differ
// where the API's cases changed in between (counter resets in Prometheus).
func TestSettleStagingFinishesACommittedDay(t *testing.T) {
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("-05", -5*3600))
	const block = "01KAB0000000000000000000ZZ"
	for _, tc := range []struct {
		name      string
		mark      time.Time
		marker    bool
		wantMoved bool
	}{
		{"checkpoint saved", end, true, true},
		{"checkpoint not saved", end.Add(-24 * time.Hour), true, false},
		{"day not finished", end, false, false},
		{"fresh state", time.Time{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			staging := filepath.Join(dir, "op.staging")
			for _, d := range []string{block, block + ".tmp-for-creation"} {
				if err := os.MkdirAll(filepath.Join(staging, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.marker {
				if err := writeSynced(filepath.Join(staging, dayDoneFile), end.Format(time.RFC3339Nano)); err != nil {
					t.Fatal(err)
				}
			}
			moved, err := settleStaging(staging, dir, tc.mark)
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(filepath.Join(dir, block))
			if got := statErr == nil; got != tc.wantMoved || (moved == 1) != tc.wantMoved {
				t.Errorf("block moved: %v (%d reported), want %v", got, moved, tc.wantMoved)
			}
			if entries, _ := os.ReadDir(staging); len(entries) != 0 {
				t.Errorf("staging still holds %v", entries)
			}
			if _, err := os.Stat(filepath.Join(dir, block+".tmp-for-creation")); err == nil {
				t.Error("a block in the making was moved")
			}
		})
	}
}

// TestAFailedMoveKeepsACommittedDay: when moving a day's blocks fails
// after its checkpoint was saved, the run's end must leave them staged for
// the next run to move. It removed them, and the next run, its checkpoint
// past that day, skipped it: a day lost for good.
func TestAFailedMoveKeepsACommittedDay(t *testing.T) {
	const block = "01KAB0000000000000000000ZZ"
	for _, marked := range []bool{true, false} {
		staging := filepath.Join(t.TempDir(), "op.staging")
		if err := os.MkdirAll(filepath.Join(staging, block), 0o755); err != nil {
			t.Fatal(err)
		}
		if marked {
			if err := writeSynced(filepath.Join(staging, dayDoneFile), "2026-11-20T00:00:00-05:00"); err != nil {
				t.Fatal(err)
			}
		}
		discardStaging(staging)
		_, err := os.Stat(filepath.Join(staging, block))
		if kept := err == nil; kept != marked {
			t.Errorf("day marked complete %v: its block kept %v", marked, kept)
		}
	}
}
