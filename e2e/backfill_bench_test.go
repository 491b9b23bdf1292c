package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
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
// production --chat.revisit=24h, lets it catch up and revisit for a
// minute, and reports its peak memory.
// WOLKVOX_BACKFILL_DAYS sets the days (default 2; 30 for a month).
// Reproduce: WOLKVOX_BACKFILL_DAYS=2 go test ./e2e -run '^$' -bench BackfillMonth -benchtime 1x -timeout 2h
func BenchmarkBackfillMonth(b *testing.B) {
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
				cmd := exec.Command(bin, "backfill", "--wolkvox.url="+api.URL, "--wolkvox.operation=big", "--from="+from.Format(time.RFC3339),
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
				b.ReportMetric(maxRSS(cmd.ProcessState), "MiB-maxrss")
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
	b.Run("live", func(b *testing.B) {
		for b.Loop() {
			live := exportertest.Start(b, bin, []string{"WOLKVOX_TOKEN=" + api.Token()}, "--wolkvox.url="+api.URL, "--wolkvox.operation=big",
				"--storage.state-file="+filepath.Join(out, "big.state"), "--poll.interval=2s", "--chat.revisit=24h")
			time.Sleep(time.Minute)
			live.Stop(b)
			b.ReportMetric(maxRSS(live.Cmd.ProcessState), "MiB-maxrss")
			b.ReportMetric(float64(strings.Count(live.Log(), "\n")), "log-lines")
		}
	})
}

// maxRSS reads a finished process's peak resident memory, in MiB.
func maxRSS(st *os.ProcessState) float64 {
	return float64(st.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
