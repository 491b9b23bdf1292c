package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, append(args, "--config.check")...).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// The shipped example checks clean once its token files exist, and every
// kind of mistake is one line naming its operation.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("examples/wolkvox.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("/run/secrets/bogota", writeFile(t, filepath.Join(dir, "bogota"), "tok-bogota\n"),
		"/run/secrets/lima", writeFile(t, filepath.Join(dir, "lima"), "\ufefftok-lima")).Replace(string(example))
	if code, out := runCheck(t, "--config.file="+writeFile(t, filepath.Join(dir, "good.yml"), cfg)); code != 0 || !strings.Contains(out, "2 operation(s)") {
		t.Errorf("the example: exit %d\n%s", code, out)
	}

	same := writeFile(t, filepath.Join(dir, "same"), "tok-bogota")
	bad := fmt.Sprintf(`operations:
  - name: one
    server: "0002"
    token_file: %[1]s/bogota
    timezone: America/Bogota
    colour: blue
`, dir)
	if code, out := runCheck(t, "--config.file="+writeFile(t, filepath.Join(dir, "unknown.yml"), bad)); code != 2 || !strings.Contains(out, "colour") {
		t.Errorf("an unknown key: exit %d\n%s", code, out)
	}
	bad = fmt.Sprintf(`operations:
  - name: one
    server: "0002"
    token_file: %[1]s/bogota
    timezone: America/Bogota
  - name: one
    server: "0003"
    token_file: %[1]s/lima
    timezone: America/Bogota
  - name: two
    server: "0004"
    token_file: %[2]s
    timezone: America/Bogota
  - name: three
    server: "0005"
    token_file: %[1]s/missing
    timezone: America/Bogota
  - name: four
    server: "0006"
    token_file: %[1]s/four
    timezone: Mars/Olympus
`, dir, same)
	writeFile(t, filepath.Join(dir, "four"), "tok-four")
	code, out := runCheck(t, "--config.file="+writeFile(t, filepath.Join(dir, "bad.yml"), bad))
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"operation one: the name is used twice", "operation two: has the same token as operation one",
		"operation three: cannot read token file", `operation four: unknown timezone "Mars/Olympus"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
	if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; lines != 4 {
		t.Errorf("%d lines, want one per problem (4):\n%s", lines, out)
	}
	if strings.Contains(out, "tok-") {
		t.Errorf("a token shows in the output:\n%s", out)
	}
}

func opFile(t *testing.T, dir string, ops map[string]*wolkvoxtest.Server, tokens map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("defaults:\n  interval: 1s\n  delay: 0s\n  chat_revisit: 0s\noperations:\n")
	for name, srv := range ops {
		tf := writeFile(t, filepath.Join(dir, name+".token"), tokens[name])
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    token_file: %s\n    timezone: America/Bogota\n", name, srv.URL, tf)
	}
	return writeFile(t, filepath.Join(dir, "wolkvox.yml"), b.String())
}

// Two operations from a file; a SIGHUP reload that rotates one's token,
// removes the other (and its state) and adds a third; an invalid file
// that leaves everything running.
func TestReloadBySIGHUPAndLifecycle(t *testing.T) {
	dir := t.TempDir()
	loc, _ := time.LoadLocation("America/Bogota")
	newSrv := func(token string) *wolkvoxtest.Server {
		srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: loc, TB: t,
			Data: &wolkvoxtest.Traffic{Seed: 3, Location: loc, TransfersPerMinute: 600, InteractionsPerMinute: 30, BodyBytes: 64}})
		t.Cleanup(srv.Close)
		return srv
	}
	a, b, c := newSrv("tok-a1"), newSrv("tok-b"), newSrv("tok-c")
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	file := opFile(t, dir, map[string]*wolkvoxtest.Server{"alpha": a, "beta": b}, map[string]string{"alpha": "tok-a1", "beta": "tok-b"})
	p := exportertest.Start(t, binary, nil, "--config.file="+file, "--storage.state-dir="+state, "--web.enable-lifecycle")
	transfers := func(op string) float64 {
		_, body, _ := p.Get("/metrics")
		v, _ := exportertest.MetricValue(body, `wolkvox_transfers_total{operation="`+op+`",`)
		return v
	}
	p.WaitFor(t, "/-/ready", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	p.WaitFor(t, "/metrics", 20*time.Second, func(int, string) bool { return transfers("alpha") > 0 && transfers("beta") > 0 })
	if _, err := os.Stat(filepath.Join(state, "beta.state")); err != nil {
		t.Fatalf("no state file for beta: %v", err)
	}

	// Rotate alpha's token: the new one is issued while the old still
	// works; drop beta, add gamma; reload; then the old token is revoked.
	a.SetToken("tok-a2", "tok-a1")
	opFile(t, dir, map[string]*wolkvoxtest.Server{"alpha": a, "gamma": c}, map[string]string{"alpha": "tok-a2", "gamma": "tok-c"})
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.Log(), "configuration reloaded") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	a.SetToken("tok-a2")
	revoked := time.Now()
	before := transfers("alpha")
	p.WaitFor(t, "/metrics", 20*time.Second, func(_ int, body string) bool {
		v, _ := exportertest.MetricValue(body, `wolkvox_transfers_total{operation="gamma",`)
		return v > 0 && transfers("alpha") > before && !strings.Contains(body, `operation="beta"`)
	})
	if got := transfers("alpha"); got < before {
		t.Errorf("alpha's counter went back from %v to %v across the reload", before, got)
	}
	if _, err := os.Stat(filepath.Join(state, "beta.state")); !os.IsNotExist(err) {
		t.Errorf("beta left the config but its state file stays: %v", err)
	}
	_, body, _ := p.Get("/metrics")
	if v, _ := exportertest.MetricValue(body, "wolkvox_exporter_config_last_reload_successful"); v != 1 {
		t.Errorf("last reload successful = %v", v)
	}
	for _, r := range a.Requests() {
		if r.Status == 403 && r.Time.After(revoked) {
			t.Errorf("alpha was called with the revoked token after the reload (%v)", r.Time)
		}
	}
	if !strings.Contains(p.Log(), "token rotated") {
		t.Error("the rotation was not done in place")
	}

	// An invalid file: the reload fails, everything keeps running.
	writeFile(t, file, "operations: [{name: alpha, colour: blue}]\n")
	resp, err := httpPost("http://" + p.Addr + "/-/reload")
	if err != nil || resp != 500 {
		t.Errorf("POST /-/reload of a bad file: %v %v, want 500", resp, err)
	}
	_, body, _ = p.Get("/metrics")
	if v, _ := exportertest.MetricValue(body, "wolkvox_exporter_config_last_reload_successful"); v != 0 {
		t.Errorf("last reload successful = %v after a bad file", v)
	}
	after := transfers("gamma")
	p.WaitFor(t, "/metrics", 20*time.Second, func(int, string) bool { return transfers("gamma") > after })
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func httpPost(url string) (int, error) {
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// An operation whose settings plan more calls a day than its quota is
// refused by --config.check, with one line naming it and the numbers;
// with real time off, the same quota is enough.
func TestConfigCheckRefusesAPlanOverQuota(t *testing.T) {
	dir := t.TempDir()
	token := writeFile(t, filepath.Join(dir, "token"), "tok-plan")
	file := func(realtime string) string {
		return writeFile(t, filepath.Join(dir, "wolkvox.yml"), fmt.Sprintf(`operations:
  - {name: small, server: "0002", token_file: %s, timezone: America/Bogota, daily_quota: 1000, realtime_interval: %s}
`, token, realtime))
	}
	// 576 new windows + 96 revisits + 288 following's budget + 576
	// snapshots + 24 token_info.
	code, out := runCheck(t, "--config.file="+file("5m"))
	if code != 2 || !strings.Contains(out, "operation small: its settings plan 1560 calls a day, more than its daily_quota of 1000") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("a plan over quota: exit %d\n%s", code, out)
	}
	code, out = runCheck(t, "--config.file="+file("0s"))
	if code != 0 || !strings.Contains(out, "operation small plans 984 calls a day: 576 new windows, 96 revisits, up to 288 following open cases, 24 real time (98% of daily_quota 1000)") {
		t.Errorf("real time off, 984 calls a day: exit %d\n%s", code, out)
	}
}

// An operation's timeout_codes reach its counting: a close with one of
// them counts under closed_by="timeout" (the setting was read, checked,
// and dropped on the way to the poller; found by a hostile review).
func TestTimeoutCodesReachTheCounts(t *testing.T) {
	dir := t.TempDir()
	loc, _ := time.LoadLocation("America/Bogota")
	now := time.Now()
	store := &wolkvoxtest.Store{Location: loc}
	store.AddInteractions(wolkvoxtest.RawInteraction{CaseID: "c1", Channel: "Email", Status: "close", CodAct: "CIERRE_AUTO",
		DateCreation: now.Add(-20 * time.Minute).In(loc).Format(time.DateTime), CloseDate: now.Add(-10 * time.Minute).In(loc).Format(time.DateTime)})
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, Data: store, TB: t})
	t.Cleanup(srv.Close)
	token := writeFile(t, filepath.Join(dir, "token"), srv.Token())
	cfg := writeFile(t, filepath.Join(dir, "wolkvox.yml"), fmt.Sprintf(`defaults: {interval: 1h, max_catchup: 1h, delay: 0s, chat_revisit: 0s, realtime_interval: 0s, quota_interval: 0s}
operations:
  - {name: op, url: %q, token_file: %q, timezone: America/Bogota, timeout_codes: [CIERRE_AUTO]}
`, srv.URL, token))
	p := exportertest.Start(t, binary, nil, "--config.file="+cfg)
	p.WaitFor(t, "/metrics", 20*time.Second, func(_ int, body string) bool {
		v, _ := exportertest.MetricValue(body, `wolkvox_chat_interactions_closed_total{channel="Email",closed_by="timeout",`)
		return v == 1
	})
	p.Stop(t)
}
