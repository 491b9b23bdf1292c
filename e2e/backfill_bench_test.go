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
// operation (agent metrics on) with the binary and promtool, and reports
// its wall time, peak memory (maximum resident set), API calls and the
// blocks' size on disk. WOLKVOX_BACKFILL_DAYS sets the days (default 2;
// 30 for a month, which takes most of an hour on 2 cores).
// Reproduce: WOLKVOX_BACKFILL_DAYS=2 go test ./e2e -run '^$' -bench BackfillMonth -benchtime 1x -timeout 2h
func BenchmarkBackfillMonth(b *testing.B) {
	promtool := exportertest.RequireTool(b, "promtool", "prometheus")
	dir := b.TempDir()
	bin, err := exportertest.Build(dir)
	if err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Bogota")
	traffic := &wolkvoxtest.Traffic{Seed: 8, Location: loc, TransfersPerMinute: 40, InteractionsPerMinute: 30, BodyBytes: 256, AgentCount: 500}
	api := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "tok-month", Location: loc, Data: traffic, ForgetServed: true})
	defer api.Close()
	days := 2
	if n, err := strconv.Atoi(os.Getenv("WOLKVOX_BACKFILL_DAYS")); err == nil && n > 0 {
		days = n
	}
	to := time.Now().Add(-4 * time.Hour).Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -days)
	for b.Loop() {
		out := filepath.Join(dir, "out")
		_ = os.RemoveAll(out)
		cmd := exec.Command(bin, "backfill", "--wolkvox.url="+api.URL, "--wolkvox.operation=big", "--from="+from.Format(time.RFC3339),
			"--to="+to.Format(time.RFC3339), "--output="+out, "--label=job=wolkvox", "--label=instance=big:10049", "--promtool="+promtool, "--yes")
		cmd.Env = append(os.Environ(), "WOLKVOX_TOKEN="+api.Token())
		began := time.Now()
		log, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, log)
		}
		wall := time.Since(began)
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
		var size int64
		_ = filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && !strings.HasSuffix(path, ".state") {
				size += info.Size()
			}
			return nil
		})
		b.ReportMetric(wall.Seconds(), "s")
		b.ReportMetric(float64(days), "days")
		b.ReportMetric(float64(rss)/1024, "MiB-maxrss")
		calls := 0
		for _, m := range regexp.MustCompile(`calls=(\d+)`).FindAllStringSubmatch(string(log), -1) {
			n, _ := strconv.Atoi(m[1])
			calls += n
		}
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(float64(size)/(1<<20), "MiB-blocks")
		b.Logf("%s", strings.Join(lastLines(string(log), 3), "\n"))
	}
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
