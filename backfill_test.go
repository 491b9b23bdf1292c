package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestBackfillWarnsWhenADayOutspendsTheQuota: an interrupted day is read
// again whole, so a day that costs more calls than the quota never ends.
func TestBackfillWarnsWhenADayOutspendsTheQuota(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		window string
		warn   bool
	}{{"10m", true}, {"2h", false}} {
		cmd := exec.Command(binary, "backfill", "--wolkvox.server=0002", "--wolkvox.daily-quota=100", "--from=2026-11-01", "--to=2026-11-03",
			"--output="+filepath.Join(dir, "out"), "--window="+tc.window, "--dry-run")
		cmd.Env = append(cleanEnv(t), "WOLKVOX_TOKEN=x")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("--window=%s: %v\n%s", tc.window, err, out)
		}
		if got := strings.Contains(string(out), "more than its daily quota of 100"); got != tc.warn {
			t.Errorf("--window=%s: warned %v, want %v:\n%s", tc.window, got, tc.warn, out)
		}
	}
}

// A dry run reads a state file read-only: a corrupt one stays where it
// is, no lock file appears, nothing is removed (it used to be moved aside
// by the estimate, which built a whole poller).
func TestDryRunChangesNothingOnDisk(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(out, "0002.state")
	if err := os.WriteFile(state, []byte("not a state file"), 0o600); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, ".0002.state.tmp-123")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "backfill", "--wolkvox.server=0002", "--from=2026-11-01", "--to=2026-11-02", "--output="+out, "--dry-run")
	cmd.Env = append(cleanEnv(t), "WOLKVOX_TOKEN=x")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dry run: %v\n%s", err, b)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, err := os.ReadFile(state); err != nil || string(got) != "not a state file" || len(names) != 2 {
		t.Errorf("the dry run changed the output directory: %v (state: %v)", names, err)
	}
}
