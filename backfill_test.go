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

// A backfill that ends longer ago than --poll.max-catchup says, before it
// spends anything, that the live exporter will read the gap all the same,
// and what lies beyond the API's 31 days it never can.
func TestBackfillWarnsOfTheGapToNow(t *testing.T) {
	dir := t.TempDir()
	to := time.Now().Add(-50 * time.Hour)
	run := func(to time.Time) string {
		cmd := exec.Command(binary, "backfill", "--wolkvox.server=0002", "--from="+to.Add(-24*time.Hour).Format(time.RFC3339), "--to="+to.Format(time.RFC3339),
			"--output="+filepath.Join(dir, "out"), "--dry-run")
		cmd.Env = append(cleanEnv(t), "WOLKVOX_TOKEN=x")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, b)
		}
		return string(b)
	}
	if out := run(to); !strings.Contains(out, "more than --poll.max-catchup (24h0m0s): the live exporter started on this backfill's state file reads that gap on its first poll") || strings.Contains(out, "never read") {
		t.Errorf("a gap of 50h:\n%s", out)
	}
	if out := run(time.Now().Add(-40 * 24 * time.Hour)); !strings.Contains(out, "it reads only the last 31 days of it") {
		t.Errorf("a gap of 40 days:\n%s", out)
	}
	if out := run(time.Now().Add(-5 * time.Hour)); strings.Contains(out, "max-catchup") {
		t.Errorf("a gap of 5h, within the catch-up:\n%s", out)
	}
}
