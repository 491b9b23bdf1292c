package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wolkvox-exporter-bin")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if binary, err = exportertest.Build(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func TestBinaryAgainstFakeAPI(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(srv.Token()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := exportertest.Start(t, binary, nil, "--wolkvox.url="+srv.URL, "--wolkvox.token-file="+tokenFile, "--poll.interval=2s", "--poll.delay=0s")
	if status, _, err := p.Get("/-/healthy"); err == nil && status != 200 {
		t.Errorf("healthy: %d", status)
	}
	p.WaitFor(t, "/-/ready", 20*time.Second, func(status int, _ string) bool { return status == 200 })
	metrics := p.WaitFor(t, "/metrics", 20*time.Second, func(_ int, body string) bool {
		v, _ := exportertest.MetricValue(body, "wolkvox_transfers_total")
		return v > 0
	})
	got, _ := exportertest.MetricValue(metrics, "wolkvox_transfers_total")
	if want := len(srv.ServedTransfers()); got > float64(want) {
		t.Errorf("transfers_total %v; fake served %d", got, want)
	}
	for _, want := range []string{`wolkvox_exporter_build_info{`, `version="0.0.0-test"`, `wolkvox_report_up{operation="127.0.0.1",report="chat_4"} 1`, "process_start_time_seconds"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The exposition passes promtool's lint (exit 3 on findings).
	promtool := exportertest.RequireTool(t, "promtool", "prometheus")
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(metrics)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	_, page, _ := p.Get("/")
	if !strings.Contains(page, "agent_13_1") || !strings.Contains(page, "/metrics") {
		t.Errorf("landing page lacks the reports or the metrics link")
	}
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	if strings.Contains(p.Log(), srv.Token()) {
		t.Error("the token appears in the log")
	}
	if strings.Contains(p.Log(), "panic") {
		t.Errorf("log shows a panic")
	}
}

func TestDemoShowsCountersWithin30s(t *testing.T) {
	p := exportertest.Start(t, binary, nil, "--demo")
	p.WaitFor(t, "/metrics", 30*time.Second, func(status int, body string) bool {
		tr, _ := exportertest.MetricValue(body, "wolkvox_transfers_total")
		ch, _ := exportertest.MetricValue(body, "wolkvox_chat_interactions_total")
		return status == 200 && tr > 0 && ch > 0
	})
	if _, page, _ := p.Get("/"); !strings.Contains(page, "DEMO MODE") {
		t.Error("landing page does not say it is demo data")
	}
	if !strings.Contains(p.Log(), "DEMO MODE") {
		t.Error("log does not say it is demo data")
	}
	p.Stop(t)
}

func TestBadConfigurationExits2BeforeListening(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return "--wolkvox.token-file=" + path
	}
	badWebConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(badWebConfig, []byte("tls_server_config:\n  cert_file: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		env    []string
		args   []string
		want   string
		absent string // a secret the line must not show
	}{
		"no token":         {args: []string{"--wolkvox.server=0002"}, want: "no token"},
		"unreadable token": {args: []string{"--wolkvox.server=0002", "--wolkvox.token-file=" + filepath.Join(dir, "missing")}, want: "--wolkvox.token-file: cannot read token file"},
		"empty token file": {args: []string{"--wolkvox.server=0002", "--wolkvox.token-file=" + empty}, want: "is empty"},
		"unknown zone":     {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.timezone=Mars/Olympus"}, want: `--wolkvox.timezone: unknown timezone "Mars/Olympus"`},
		"bad url":          {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.url=ftp://x"}, want: "not an http(s) URL"},
		"no server":        {env: []string{"WOLKVOX_TOKEN=x"}, want: "neither --wolkvox.server nor --wolkvox.url"},
		"bad flag":         {args: []string{"--poll.interval=soon"}, want: "error"},
		"unknown flag":     {args: []string{"--wolkvox.token=abc"}, want: "unknown long flag"},
		"bad state path":   {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--storage.state-file=/nonexistent/dir/state"}, want: "not writable"},
		// Values kingpin parses but the exporter cannot use.
		"zero interval":       {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--poll.interval=0s"}, want: "--poll.interval must be between 1s and 31d, not 0s"},
		"negative interval":   {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--poll.interval=-5m"}, want: "--poll.interval must be between 1s and 31d"},
		"negative delay":      {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--poll.delay=-1m"}, want: "--poll.delay must be between 0s and 31d"},
		"catch-up too short":  {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--poll.max-catchup=1m"}, want: "--poll.max-catchup (1m) must be at least one --poll.interval (5m)"},
		"zero timeout":        {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.timeout=0s"}, want: "--wolkvox.timeout must be between 1s and 10m"},
		"negative quota":      {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.daily-quota=-3"}, want: "--wolkvox.daily-quota must be 0"},
		"zero agent TTL":      {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--collector.agents.ttl=0s"}, want: "--collector.agents.ttl must be between 1m and 31d, not 0s"},
		"tiny agent TTL":      {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--collector.agents.ttl=1ns"}, want: "--collector.agents.ttl must be between 1m and 31d"},
		"metrics on reload":   {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.telemetry-path=/-/reload"}, want: "is taken"},
		"metrics with space":  {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.telemetry-path=/a b"}, want: "must be a plain path"},
		"metrics wildcard":    {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.telemetry-path=/m/{x}"}, want: "must be a plain path"},
		"relative metrics":    {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.telemetry-path=metrics"}, want: "must start with /"},
		"empty zone":          {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.timezone="}, want: "--wolkvox.timezone: no timezone"},
		"bad web config":      {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.config.file=" + badWebConfig}, want: "--web.config.file " + badWebConfig},
		"missing web config":  {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.config.file=" + filepath.Join(dir, "missing.yml")}, want: "no such file"},
		"metrics on /-/ready": {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--web.telemetry-path=/-/ready"}, want: "is taken"},
		"Local zone":          {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.timezone=Local"}, want: `--wolkvox.timezone: timezone "Local" does not name`},
		"Factory zone":        {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--wolkvox.timezone=Factory"}, want: `--wolkvox.timezone: timezone "Factory" does not name`},
		"negative revisit":    {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--chat.revisit=-1h"}, want: "--chat.revisit must be 0 (off) or between 1s and 31d"},
		"zero series cap":     {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.server=0002", "--collector.max-series-per-metric=0"}, want: "--collector.max-series-per-metric must be positive"},
		// The backfill's own values.
		"backfill zero window":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--window=0s"), want: "--window must be between --step and 24h"},
		"backfill long window":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--window=25h"), want: "--window must be between --step and 24h"},
		"backfill long step":      {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--step=6m"), want: "--step must be between 1s and 5m"},
		"backfill tiny step":      {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--step=1ms"), want: "--step must be between 1s and 5m (Prometheus's lookback), not 1ms"},
		"backfill tiny window":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--step=1s", "--window=1ns"), want: "--window must be between --step and 24h"},
		"backfill prometheus 4":   {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--prometheus.major=4"), want: "--prometheus.major must be 2 or 3"},
		"backfill label taken":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=operation=evil"), want: "--label operation: the exporter's series already carry this label"},
		"backfill label bucket":   {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=le=1"), want: "--label le: the exporter's series already carry"},
		"backfill label agent":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=agent_id=1"), want: "--label agent_id: the exporter's series already carry"},
		"backfill label invalid":  {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=bad name=x"), want: `--label "bad name": not a valid label name`},
		"backfill label reserved": {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=__name__=x"), want: "--label __name__: names starting with __"},
		"backfill label empty":    {env: []string{"WOLKVOX_TOKEN=x"}, args: backfillArgs(dir, "--label=job="), want: "--label job: an empty value"},
		"backfill from after to":  {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"backfill", "--wolkvox.server=0002", "--from=2026-11-03", "--to=2026-11-02", "--output=" + filepath.Join(dir, "out"), "--dry-run"}, want: "is not before --to"},
		// A token that cannot be a header value; the line never shows it.
		"token with NUL":     {args: []string{"--wolkvox.server=0002", tokenFile("nul", "abc\x00tok-secret")}, want: "nul: token contains control character 0x00", absent: "secret"},
		"token with ESC":     {args: []string{"--wolkvox.server=0002", tokenFile("esc", "\x1b[31mtok-secret")}, want: "esc: token contains control character 0x1b", absent: "secret"},
		"token on two lines": {args: []string{"--wolkvox.server=0002", tokenFile("lines", "tok-secret\nsecond-secret\n")}, want: "lines: token contains a line break", absent: "secret"},
		"token not ASCII":    {args: []string{"--wolkvox.server=0002", tokenFile("accent", "tók-secret")}, want: "accent: token contains a non-ASCII byte", absent: "secret"},
		"token file UTF-16":  {args: []string{"--wolkvox.server=0002", tokenFile("utf16", "\xff\xfet\x00o\x00k\x00")}, want: "utf16 is UTF-16 text"},
		"env token with BEL": {env: []string{"WOLKVOX_TOKEN=tok\x07secret"}, args: []string{"--wolkvox.server=0002"}, want: "WOLKVOX_TOKEN: token contains control character 0x07", absent: "secret"},
		"env token with DEL": {env: []string{"WOLKVOX_TOKEN=tok\x7fsecret"}, args: []string{"--wolkvox.server=0002"}, want: "WOLKVOX_TOKEN: token contains control character 0x7f", absent: "secret"},
		// A URL is quoted with its password and query hidden.
		"url with a query":     {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.url=https://u:hunter2-pw@example.com/?key=q-secret"}, want: "has a query or fragment", absent: "secret"},
		"url with a fragment":  {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.url=https://example.com/#x"}, want: "has a query or fragment"},
		"password, bad scheme": {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.url=ftp://u:hunter2-pw@example.com"}, want: `"ftp://u:xxxxx@example.com" is not an http(s) URL`, absent: "hunter2"},
		"password, bad url":    {env: []string{"WOLKVOX_TOKEN=x"}, args: []string{"--wolkvox.url=http://u:hunter2-pw@example.com:port/"}, want: "is not an http(s) URL", absent: "hunter2"},
	} {
		t.Run(name, func(t *testing.T) {
			port := exportertest.FreePort(t)
			// An exporter that accepts the configuration would run until killed.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, append(tc.args, "--web.listen-address=127.0.0.1:"+strconv.Itoa(port))...)
			cmd.Env = append(cleanEnv(t), tc.env...)
			out, err := cmd.CombinedOutput()
			exit, ok := err.(*exec.ExitError)
			if !ok || exit.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2; output:\n%s", err, out)
			}
			// One clear line: a panic also exits 2, with a stack.
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) || !strings.HasPrefix(lines[0], "wolkvox_exporter: error: ") {
				t.Errorf("output is not one error line with %q:\n%s", tc.want, out)
			}
			if tc.absent != "" && strings.Contains(string(out), tc.absent) {
				t.Errorf("the output shows %q:\n%s", tc.absent, out)
			}
			if strings.Contains(string(out), "Listening on") {
				t.Error("it listened before failing")
			}
		})
	}
}

// backfillArgs are a dry-run backfill of a day into dir, and extra flags.
func backfillArgs(dir string, extra ...string) []string {
	return append([]string{"backfill", "--wolkvox.server=0002", "--from=2026-11-01", "--to=2026-11-02", "--output=" + filepath.Join(dir, "out"), "--dry-run"}, extra...)
}

// TestURLPasswordNeverLogged: a password in --wolkvox.url shows as xxxxx
// in the startup line, the only line that names the URL.
func TestURLPasswordNeverLogged(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	withPassword := strings.Replace(srv.URL, "http://", "http://exporter:hunter2-pw@", 1)
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + srv.Token()}, "--wolkvox.url="+withPassword, "--poll.interval=1h")
	p.WaitFor(t, "/-/ready", 20*time.Second, func(status int, _ string) bool { return status == 200 })
	p.Stop(t)
	if log := p.Log(); strings.Contains(log, "hunter2") || !strings.Contains(log, "exporter:xxxxx@") {
		t.Errorf("the log shows the password, or not the redacted URL:\n%s", log)
	}
}

func cleanEnv(t *testing.T) []string {
	// A temporary directory of its own: the exporter keeps its host-wide
	// token locks there, and tests run side by side with one token.
	env := []string{"TMPDIR=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WOLKVOX_") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// The landing page shows each report's window in the operation's zone,
// with its offset, and links no pprof page the exporter does not serve.
func TestLandingPage(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + srv.Token()}, "--wolkvox.url="+srv.URL, "--wolkvox.timezone=America/Bogota")
	p.WaitFor(t, "/-/ready", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	_, body, err := p.Get("/")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "debug/pprof") {
		t.Error("the landing page links pprof, which is not served")
	}
	if !strings.Contains(body, " -0500 .. ") || !strings.Contains(body, "-05:00") {
		t.Errorf("windows and times are not shown in the operation's zone with its offset:\n%s", body)
	}
	p.Stop(t)
}

// Idle keep-alive connections and slow clients are let go: every timeout
// of the server is set (100 idle connections were held for ever).
func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v, want a bound under 5 minutes", name, d)
		}
	}
}

// --demo takes --poll.interval and --poll.delay when they are given, and
// says which values it uses.
func TestDemoHonoursPollFlags(t *testing.T) {
	p := exportertest.Start(t, binary, nil, "--demo", "--poll.interval=7s", "--poll.delay=2s")
	p.WaitFor(t, "/-/healthy", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Log(), "DEMO MODE") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if log := p.Log(); !strings.Contains(log, "interval=7s") || !strings.Contains(log, "delay=2s") {
		t.Errorf("the demo did not use the given interval and delay:\n%s", log)
	}
	p.Stop(t)
}

// The project says its license, and ships it.
func TestLicense(t *testing.T) {
	license, err := os.ReadFile("LICENSE")
	if err != nil || !strings.Contains(string(license), "Apache License") || !strings.Contains(string(license), "Version 2.0, January 2004") {
		t.Errorf("LICENSE is not the Apache License 2.0: %v", err)
	}
	readme, _ := os.ReadFile("README.md")
	if !strings.Contains(string(readme), "Apache License 2.0") {
		t.Error("the README does not name the license")
	}
}

// Every wolkvox_* name the dashboard and the alert rules read is on
// /metrics within 150 s of starting --demo: the demo's first poll reads the
// last hours of history, closes, surveys and typifications included, so
// every panel has data at once.
func TestDemoServesEveryNameTheDashboardAndRulesRead(t *testing.T) {
	var sources []byte
	for _, f := range []string{"dashboards/wolkvox-overview.json", "alerts/wolkvox.rules.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, b...)
	}
	// Metric names, not the parts of recording rules' names
	// (job_instance:wolkvox_window:seconds) nor words of the prose; a name
	// the catalogue lacks is TestDashboard's to catch.
	known := collector.MetricNames()
	wanted := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[^:a-z0-9_])(wolkvox_[a-z0-9_]+)`).FindAllStringSubmatch(string(sources), -1) {
		if _, ok := known[m[1]]; ok {
			wanted[m[1]] = true
		}
	}
	if len(wanted) < 30 {
		t.Fatalf("only %d names found in the dashboard and rules", len(wanted))
	}
	p := exportertest.Start(t, binary, nil, "--demo")
	began := time.Now()
	var missing []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("missing: %v", missing)
		}
	})
	p.WaitFor(t, "/metrics", 150*time.Second, func(_ int, body string) bool {
		missing = missing[:0]
		for name := range wanted {
			if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(body) {
				missing = append(missing, name)
			}
		}
		return len(missing) == 0
	})
	t.Logf("every one of %d names on /metrics after %v", len(wanted), time.Since(began).Round(time.Second))
}
