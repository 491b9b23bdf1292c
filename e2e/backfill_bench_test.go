package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// BenchmarkBackfillMonth backfills simulated days of a 500-agent
// operation (agent metrics on; 57,600 transfers and 100,800 chat cases a
// day) with the binary, at the default --window of 2h and at 24h, and
// reports the wall time, peak memory (maximum resident set), API calls and
// the blocks' size on disk. Then, for the memory a live exporter needs for
// the same operation, it starts the exporter on the backfill's state file
// (its ledger as a live exporter's after days of running) with the
// production --chat.revisit=24h, lets it catch up, revisit and follow the
// cases still open for a minute, and reports its peak memory, with
// following on and off.
// WOLKVOX_BACKFILL_DAYS sets the days (default 2; 30 for a month).
// Reproduce: WOLKVOX_BACKFILL_DAYS=2 go test ./e2e -run '^$' -bench BackfillMonth -benchtime 1x -timeout 2h
func BenchmarkBackfillMonth(b *testing.B) {
	// GNU time reports the backfill's own peak memory. The rusage Go's
	// os/exec returns does not: Go starts a child with vfork, and Linux
	// counts the parent's peak (here the fake API's, with its generated
	// days) into the child's maximum resident set at exec.
	timeBin := exportertest.RequireTool(b, "time", "time")
	if !filepath.IsAbs(timeBin) {
		b.Fatal("time must be GNU time, not a shell keyword")
	}
	dir := b.TempDir()
	bin, err := exportertest.Build(dir)
	if err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Bogota")
	traffic := &wolkvoxtest.Traffic{Seed: 8, Location: loc, TransfersPerMinute: 40, InteractionsPerMinute: 70, BodyBytes: 256, AgentCount: 500}
	api := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "tok-month", Location: loc, Data: traffic, ForgetServed: true})
	defer api.Close()
	days := 2
	if n, err := strconv.Atoi(os.Getenv("WOLKVOX_BACKFILL_DAYS")); err == nil && n > 0 {
		days = n
	}
	to := time.Now().Add(-4 * time.Hour).Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -days)
	out := filepath.Join(dir, "out")
	for _, window := range []string{"24h", "2h"} { // 2h last: its state file is the live exporter's below
		b.Run("window="+window, func(b *testing.B) {
			for b.Loop() {
				_ = os.RemoveAll(out)
				rss := filepath.Join(dir, "maxrss")
				cmd := exec.Command(timeBin, "--format=%M", "--output="+rss, bin, "backfill", "--wolkvox.url="+api.URL, "--wolkvox.operation=big", "--from="+from.Format(time.RFC3339),
					"--to="+to.Format(time.RFC3339), "--output="+out, "--label=job=wolkvox", "--label=instance=big:10049", "--window="+window, "--yes")
				cmd.Env = append(os.Environ(), "WOLKVOX_TOKEN="+api.Token())
				began := time.Now()
				log, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v\n%s", err, log)
				}
				wall := time.Since(began)
				var size int64
				_ = filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
					if err == nil && !info.IsDir() && !strings.HasSuffix(path, ".state") {
						size += info.Size()
					}
					return nil
				})
				b.ReportMetric(wall.Seconds(), "s")
				b.ReportMetric(float64(days), "days")
				kib, err := os.ReadFile(rss)
				if err != nil {
					b.Fatal(err)
				}
				peak, _ := strconv.ParseFloat(strings.TrimSpace(string(kib)), 64)
				b.ReportMetric(peak/1024, "MiB-maxrss")
				calls := 0
				for _, m := range regexp.MustCompile(`calls=(\d+)`).FindAllStringSubmatch(string(log), -1) {
					n, _ := strconv.Atoi(m[1])
					calls += n
				}
				b.ReportMetric(float64(calls), "calls")
				b.ReportMetric(float64(size)/(1<<20), "MiB-blocks")
				b.Logf("%s", strings.Join(lastLines(string(log), 3), "\n"))
			}
		})
	}
	// The live exporter with following on (the default) and off, each on
	// a copy of the backfill's state file: the same ledger, measured in
	// the same run.
	state, err := os.ReadFile(filepath.Join(out, "big.state"))
	if err != nil {
		b.Fatal(err)
	}
	for _, follow := range []string{"--chat.follow", "--no-chat.follow"} {
		b.Run("live/"+strings.TrimPrefix(follow, "--"), func(b *testing.B) {
			for b.Loop() {
				file := filepath.Join(b.TempDir(), "big.state")
				if err := os.WriteFile(file, state, 0o600); err != nil {
					b.Fatal(err)
				}
				live := exportertest.Start(b, bin, []string{"WOLKVOX_TOKEN=" + api.Token()}, "--wolkvox.url="+api.URL, "--wolkvox.operation=big",
					"--storage.state-file="+file, "--poll.interval=2s", "--chat.revisit=24h", follow, "--log.level=debug")
				time.Sleep(time.Minute)
				// The peak so far of the process's own memory, read while it
				// runs (see timeBin for why not from its rusage).
				status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", live.Cmd.Process.Pid))
				m := regexp.MustCompile(`VmHWM:\s*(\d+) kB`).FindSubmatch(status)
				live.Stop(b)
				if m == nil {
					b.Fatalf("no VmHWM in /proc status:\n%s", status)
				}
				kib, _ := strconv.ParseFloat(string(m[1]), 64)
				b.ReportMetric(kib/1024, "MiB-maxrss")
				b.ReportMetric(float64(strings.Count(live.Log(), "followed cases read again")), "follow-reads")
			}
		})
	}
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
