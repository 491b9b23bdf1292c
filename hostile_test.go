package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// busyFake is a fake API with steady traffic that fails the test on any
// overlap of two calls with one token.
func busyFake(t *testing.T, token string) *wolkvoxtest.Server {
	t.Helper()
	loc, _ := time.LoadLocation("America/Bogota")
	traffic := &wolkvoxtest.Traffic{Seed: 5, Location: loc, TransfersPerMinute: 600, InteractionsPerMinute: 60, BodyBytes: 32}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: loc, TB: t, Data: traffic,
		Realtime: &wolkvoxtest.Realtime{Seed: 5, Location: loc, Traffic: traffic}})
	t.Cleanup(srv.Close)
	return srv
}

// runFor runs the binary to its end, within a deadline, and returns its
// exit code and output.
func runFor(t *testing.T, d time.Duration, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(t), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%v did not end within %v:\n%s", args, d, out)
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// A second exporter, or a backfill, with a token an exporter on this host
// already uses exits 2 with one clear line and writes nothing: the API
// forbids two calls at once with one token.
func TestSecondProcessWithOneTokenExits2(t *testing.T) {
	srv := busyFake(t, "")
	tmp := t.TempDir() // one TMPDIR: two processes of one host
	env := []string{"WOLKVOX_TOKEN=" + srv.Token(), "TMPDIR=" + tmp}
	p := exportertest.Start(t, binary, env, "--wolkvox.url="+srv.URL, "--poll.interval=1s", "--poll.delay=0s")
	p.WaitFor(t, "/-/ready", 20*time.Second, func(s int, _ string) bool { return s == 200 })

	const want = "another process on this host is using the same token"
	port := exportertest.FreePort(t)
	code, out := runFor(t, 20*time.Second, env, "--wolkvox.url="+srv.URL, "--web.listen-address=127.0.0.1:"+fmt.Sprint(port))
	if code != 2 || !strings.Contains(out, want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("a second exporter: exit %d, want 2 and one line saying %q:\n%s", code, want, out)
	}
	output := filepath.Join(t.TempDir(), "out")
	code, out = runFor(t, 20*time.Second, env, "backfill", "--wolkvox.url="+srv.URL, "--wolkvox.operation=op",
		"--from=2026-11-01", "--to=2026-11-02", "--output="+output, "--yes")
	if code != 2 || !strings.Contains(out, want) {
		t.Errorf("a backfill: exit %d, want 2 and a line saying %q:\n%s", code, want, out)
	}
	if entries, _ := os.ReadDir(output); len(entries) != 0 {
		t.Errorf("the refused backfill wrote %d entries in its output", len(entries))
	}
	if strings.Contains(out, srv.Token()) || strings.Contains(p.Log(), srv.Token()) {
		t.Error("the token shows in a log")
	}
	if n := srv.Overlaps(); n != 0 {
		t.Errorf("%d overlapping calls", n)
	}
	if code := p.Stop(t); code != 0 {
		t.Errorf("the first exporter exited %d", code)
	}
}

// A token file that never ends or never opens, put in place by a bad
// deploy: the reload answers at once with the reason, the metrics say it
// failed, and every operation keeps polling. A FIFO used to hang the
// reload (and every later one) for ever; /dev/zero killed the exporter.
func TestReloadSurvivesHostileTokenFiles(t *testing.T) {
	dir := t.TempDir()
	srv := busyFake(t, "tok-hostile")
	good := writeFile(t, filepath.Join(dir, "token"), "tok-hostile")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	config := func(tokenFile string) string {
		return writeFile(t, filepath.Join(dir, "wolkvox.yml"), fmt.Sprintf("defaults: {interval: 1s, delay: 0s, chat_revisit: 0s}\noperations:\n  - {name: alpha, url: %q, token_file: %q, timezone: America/Bogota}\n", srv.URL, tokenFile))
	}
	p := exportertest.Start(t, binary, nil, "--config.file="+config(good), "--web.enable-lifecycle")
	p.WaitFor(t, "/-/ready", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	for _, bad := range []string{fifo, "/dev/zero", dir} {
		config(bad)
		done := make(chan int, 1)
		go func() { code, _ := httpPost("http://" + p.Addr + "/-/reload"); done <- code }()
		select {
		case code := <-done:
			if code != 500 {
				t.Errorf("reload with token file %s: HTTP %d, want 500", bad, code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reload with token file %s hangs", bad)
		}
		_, body, err := p.Get("/metrics")
		if err != nil {
			t.Fatalf("after a reload with token file %s the exporter is gone: %v", bad, err)
		}
		if v, _ := exportertest.MetricValue(body, "wolkvox_exporter_config_last_reload_successful"); v != 0 {
			t.Errorf("token file %s: last reload successful = %v", bad, v)
		}
		if v, _ := exportertest.MetricValue(body, "wolkvox_exporter_operations"); v != 1 {
			t.Errorf("token file %s: %v operations after the failed reload", bad, v)
		}
		if !strings.Contains(p.Log(), bad) {
			t.Errorf("the log does not name %s", bad)
		}
	}
	calls := len(srv.Requests())
	p.WaitFor(t, "/metrics", 10*time.Second, func(int, string) bool { return len(srv.Requests()) > calls })
	config(good)
	if code, err := httpPost("http://" + p.Addr + "/-/reload"); code != 200 {
		t.Errorf("reload once mended: %d %v", code, err)
	}
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A state file that is a FIFO stops a start at once (it used to hang it,
// deaf to SIGTERM), and --config.check agrees with a start about a state
// directory that does not exist.
func TestBadStatePathsFailCheckAndStartAlike(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "state")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"WOLKVOX_TOKEN=x"}
	for _, args := range [][]string{
		{"--wolkvox.server=0002", "--storage.state-file=" + fifo},
		{"--wolkvox.server=0002", "--storage.state-dir=/nonexistent"},
	} {
		check, checkOut := runFor(t, 10*time.Second, env, append(args, "--config.check")...)
		start, startOut := runFor(t, 10*time.Second, env, append(args, "--web.listen-address=127.0.0.1:0")...)
		if check != 2 || start != 2 {
			t.Errorf("%v: --config.check exits %d, a start %d; want 2 and 2\n%s\n%s", args, check, start, checkOut, startOut)
		}
	}
}

// counterWatch scrapes the exporter and fails the test on any counter
// series (histogram buckets, sums and counts included) that decreases.
type counterWatch struct {
	mu   sync.Mutex
	last map[string]float64
	errs []string
	n    int
}

func (w *counterWatch) scrape(t *testing.T, p *exportertest.Process) {
	t.Helper()
	_, body, err := p.Get("/metrics")
	if err != nil {
		return
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Errorf("unparseable scrape: %v", err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]float64{}
	}
	w.n++
	seen := func(key string, v float64) {
		if prev, ok := w.last[key]; ok && v < prev && len(w.errs) < 10 {
			w.errs = append(w.errs, fmt.Sprintf("%s fell from %v to %v", key, prev, v))
		}
		w.last[key] = v
	}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "wolkvox_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				seen(key, m.GetCounter().GetValue())
			case m.Histogram != nil:
				seen(key+"_count", float64(m.GetHistogram().GetSampleCount()))
				for _, b := range m.GetHistogram().GetBucket() {
					seen(fmt.Sprintf("%s_bucket{le=%v}", key, b.GetUpperBound()), float64(b.GetCumulativeCount()))
				}
			}
		}
	}
}

func (w *counterWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.errs {
		t.Error(e)
	}
	if w.n < 10 {
		t.Errorf("only %d scrapes", w.n)
	}
}

// A full disk (a small tmpfs the test fills): saves fail, and /metrics
// holds the last saved counts back, so that a reload that restarts the
// operation never shows a counter falling (it used to reload the stale
// state file: records_total went 18 -> 2). Once there is room again the
// counts move on.
func TestFullDiskNeverMakesACounterFall(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("WOLKVOX_REQUIRE_TOOLS") != "" {
			t.Fatal("mounting a tmpfs needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "state")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	srv := busyFake(t, "tok-disk")
	tokenFile := writeFile(t, filepath.Join(dir, "token"), "tok-disk")
	config := func(interval string) string {
		return writeFile(t, filepath.Join(dir, "wolkvox.yml"), fmt.Sprintf("defaults: {interval: %s, delay: 0s, chat_revisit: 0s}\noperations:\n  - {name: alpha, url: %q, token_file: %q, timezone: America/Bogota}\n", interval, srv.URL, tokenFile))
	}
	p := exportertest.Start(t, binary, nil, "--config.file="+config("1s"), "--storage.state-dir="+mnt, "--web.enable-lifecycle")
	var w counterWatch
	metric := func(name string) float64 {
		_, body, _ := p.Get("/metrics")
		v, _ := exportertest.MetricValue(body, name)
		return v
	}
	p.WaitFor(t, "/metrics", 20*time.Second, func(int, string) bool {
		w.scrape(t, p)
		return metric(`wolkvox_report_records_total{operation="alpha",`) > 0
	})
	// Fill the disk.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = filler.Write(make([]byte, 2<<20)) // fails once full: that is the point
	filler.Close()
	p.WaitFor(t, "/metrics", 20*time.Second, func(int, string) bool {
		w.scrape(t, p)
		return metric("wolkvox_exporter_state_save_failures_total") >= 2
	})
	held := metric(`wolkvox_report_records_total{operation="alpha",report="agent_13_1"}`)
	config("2s")
	if code, err := httpPost("http://" + p.Addr + "/-/reload"); code != 200 {
		t.Errorf("reload: %d %v\n%s", code, err, p.Log())
	}
	for range 20 {
		w.scrape(t, p)
		time.Sleep(100 * time.Millisecond)
	}
	if got := metric(`wolkvox_report_records_total{operation="alpha",report="agent_13_1"}`); got != held {
		t.Errorf("records_total moved from %v to %v with the disk full", held, got)
	}
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	p.WaitFor(t, "/metrics", 20*time.Second, func(int, string) bool {
		w.scrape(t, p)
		return metric(`wolkvox_report_records_total{operation="alpha",report="agent_13_1"}`) > held
	})
	w.check(t)
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A reload storm: 60 reloads that swap tokens among three operations,
// restart some (a changed interval) and now and then fail (a bad file),
// while scrapes run. No token's calls overlap at the fake (TB: t), no
// counter ever falls, and the operations never fall below three.
func TestReloadStorm(t *testing.T) {
	dir := t.TempDir()
	tokens := []string{"tok-storm-1", "tok-storm-2", "tok-storm-3"}
	srv := busyFake(t, tokens[0])
	srv.SetToken(tokens[0], tokens[1:]...)
	srv.FailAll(wolkvoxtest.Fault{Latency: 30 * time.Millisecond}) // calls in flight a while
	names := []string{"alpha", "beta", "gamma"}
	files := make([]string, 3)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("token-%d", i))
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(round int, broken bool) string {
		var b bytes.Buffer
		b.WriteString("defaults: {delay: 0s, chat_revisit: 0s}\noperations:\n")
		for i, name := range names {
			// Token files are rewritten: the round's permutation.
			writeFile(t, files[i], tokens[(i+round)%3])
			interval := model.Duration(time.Second)
			if round%4 == 0 && i == round%3 {
				interval = model.Duration(1500 * time.Millisecond)
			}
			fmt.Fprintf(&b, "  - {name: %s, url: %q, token_file: %q, timezone: America/Bogota, interval: %s}\n", name, srv.URL, files[i], interval)
		}
		if broken {
			b.WriteString("  - {name: delta, colour: blue}\n")
		}
		return writeFile(t, filepath.Join(dir, "wolkvox.yml"), b.String())
	}
	p := exportertest.Start(t, binary, nil, "--config.file="+write(0, false), "--storage.state-dir="+state, "--web.enable-lifecycle")
	p.WaitFor(t, "/-/ready", 30*time.Second, func(s int, _ string) bool { return s == 200 })
	var w counterWatch
	stop := make(chan struct{})
	var scrapes sync.WaitGroup
	scrapes.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.scrape(t, p)
			time.Sleep(20 * time.Millisecond)
		}
	})
	for round := 1; round <= 60; round++ {
		broken := round%10 == 5
		write(round, broken)
		code, err := httpPost("http://" + p.Addr + "/-/reload")
		if want := map[bool]int{false: 200, true: 500}[broken]; code != want {
			t.Errorf("round %d: reload HTTP %d %v, want %d", round, code, err, want)
		}
		_, body, _ := p.Get("/metrics")
		if v, _ := exportertest.MetricValue(body, "wolkvox_exporter_operations"); v != 3 {
			t.Errorf("round %d: %v operations", round, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	scrapes.Wait()
	w.check(t)
	if n := srv.Overlaps(); n != 0 {
		t.Errorf("%d calls overlapped another with one token", n)
	}
	kinds := map[wolkvox.Report]int{}
	for _, r := range srv.Requests() {
		kinds[r.Report]++
	}
	// Each restart abandons a call, and that token's next call waits the
	// hang-up pause (a second): a storm leaves room for a few dozen calls.
	if n := len(srv.Requests()); n < 20 || kinds[wolkvox.ReportTransfers] == 0 || kinds[wolkvox.ReportSkills] == 0 || kinds[wolkvox.ReportTokenInfo] == 0 {
		t.Errorf("%d calls (%v): the storm did not exercise every kind of call", n, kinds)
	}
	if strings.Contains(p.Log(), "level=error") && strings.Contains(p.Log(), "context canceled") {
		t.Error("a call abandoned by a reload is logged as an error")
	}
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}
