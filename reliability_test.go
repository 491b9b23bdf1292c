package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

func fakeAPI(t *testing.T, token string) (*wolkvoxtest.Server, *wolkvoxtest.Traffic) {
	t.Helper()
	loc, _ := time.LoadLocation("America/Bogota")
	// About ten transfers a second, so that one-second windows hold some.
	traffic := &wolkvoxtest.Traffic{Seed: 21, Location: loc, TransfersPerMinute: 600, InteractionsPerMinute: 60, BodyBytes: 128}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: loc, Data: traffic, TB: t})
	t.Cleanup(srv.Close)
	return srv, traffic
}

func transfersIn(t *testing.T, p *exportertest.Process) float64 {
	t.Helper()
	_, body, err := p.Get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := exportertest.MetricValue(body, "wolkvox_transfers_total")
	return v
}

// freeze makes every call fail and waits until a poll has failed, so that
// neither the fake's record nor the exporter's counters move any more.
func freeze(t *testing.T, srv *wolkvoxtest.Server, p *exportertest.Process) {
	t.Helper()
	srv.FailAll(wolkvoxtest.Fault{Status: 400, Body: "frozen"}) // not retried
	p.WaitFor(t, "/metrics", 20*time.Second, func(_ int, body string) bool {
		v, _ := exportertest.MetricValue(body, `wolkvox_report_poll_failures_total{operation="127.0.0.1",reason="bad_request",report="chat_4"}`)
		return v > 0
	})
}

func TestSIGTERMDuringAPoll(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	srv.FailAll(wolkvoxtest.Fault{Latency: 30 * time.Second})
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + srv.Token()}, "--wolkvox.url="+srv.URL)
	deadline := time.Now().Add(10 * time.Second)
	for srv.InFlight() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.InFlight() == 0 {
		t.Fatal("no poll in flight")
	}
	start := time.Now()
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a poll in flight", d)
	}
	if strings.Contains(p.Log(), "panic") {
		t.Errorf("panic in the log:\n%s", p.Log())
	}
}

// TestStateFileSurvivesKill9 kills the exporter at arbitrary moments,
// while chat_4 is revisited on every poll, and restarts it on its state
// file: every counter continues where it stood (no reset, no step back),
// and in the end equals what the fake served, nothing lost or doubled.
func TestStateFileSurvivesKill9(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	state := filepath.Join(t.TempDir(), "state")
	// A 20 s horizon polled every second revisits on every poll.
	args := []string{"--wolkvox.url=" + srv.URL, "--poll.interval=1s", "--poll.delay=0s", "--chat.revisit=20s", "--storage.state-file=" + state}
	env := []string{"WOLKVOX_TOKEN=" + srv.Token()}

	counted := func(_ int, body string) bool {
		v, _ := exportertest.MetricValue(body, "wolkvox_transfers_total")
		return v > 0
	}
	chats := func(p *exportertest.Process) float64 {
		_, body, err := p.Get("/metrics")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := exportertest.MetricValue(body, "wolkvox_chat_interactions_total")
		return v
	}
	var last float64
	for run := range 3 {
		p := exportertest.Start(t, binary, env, args...)
		p.WaitFor(t, "/metrics", 20*time.Second, counted)
		if got := transfersIn(t, p); got < last {
			t.Fatalf("run %d starts at transfers_total %v, below the %v scraped before the kill", run, got, last)
		}
		if run > 0 && !strings.Contains(p.Log(), "resuming from state file") {
			t.Errorf("the restart did not resume from the state file:\n%s", p.Log())
		}
		// Kill at a moment that is not a poll boundary.
		time.Sleep(time.Duration(1500+700*run) * time.Millisecond)
		last = transfersIn(t, p)
		p.Kill(t)
	}
	final := exportertest.Start(t, binary, env, args...)
	final.WaitFor(t, "/metrics", 20*time.Second, counted)
	freeze(t, srv, final)
	got := transfersIn(t, final)
	if served := float64(len(srv.ServedTransfers())); got != served || got < last {
		t.Errorf("transfers_total %v after three kills, fake served %v distinct (last scraped before a kill: %v)", got, served, last)
	}
	if got, served := chats(final), float64(len(srv.ServedInteractions())); got != served {
		t.Errorf("chat_interactions_total %v after three kills, fake served %v distinct cases", got, served)
	}
	final.Stop(t)
}

// SIGHUP's default action kills a process without a word; there is no
// configuration to reload, so the exporter logs it and carries on.
func TestSIGHUPIsLoggedAndIgnored(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + srv.Token()}, "--wolkvox.url="+srv.URL)
	p.WaitFor(t, "/-/healthy", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Log(), "SIGHUP") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.Log(), "SIGHUP received and ignored") {
		t.Errorf("no log line for SIGHUP:\n%s", p.Log())
	}
	if status, _, err := p.Get("/-/healthy"); err != nil || status != 200 {
		t.Fatalf("after SIGHUP: %d, %v", status, err)
	}
	if code := p.Stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestRestartWithoutStateFile shows what a restart costs without the file:
// the first poll covers one interval, so the time the exporter was down,
// beyond one interval, is never fetched.
func TestRestartWithoutStateFile(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + srv.Token()}, "--wolkvox.url="+srv.URL, "--poll.interval=30s", "--poll.delay=0s")
	p.WaitFor(t, "/-/ready", 20*time.Second, func(s int, _ string) bool { return s == 200 })
	first := map[wolkvox.Report]bool{}
	for _, r := range srv.Requests() {
		if first[r.Report] || !slices.Contains(wolkvox.Reports, r.Report) {
			continue // chat_4's revisit of what came before; snapshots, which have no window
		}
		first[r.Report] = true
		if d := r.End.Sub(r.Start); d != 30*time.Second {
			t.Errorf("first %s window after a fresh start covers %v, want one interval", r.Report, d)
		}
	}
	p.Stop(t)
}

// TestTokenNeverLeaks runs the exporter through faults whose bodies echo
// the token and greps every log line, /metrics and the landing page for it.
// Through every fault, /metrics and /-/healthy keep answering 200.
func TestTokenNeverLeaks(t *testing.T) {
	const token = "tok-3c9e1f0a-SECRET"
	srv, _ := fakeAPI(t, token)
	p := exportertest.Start(t, binary, []string{"WOLKVOX_TOKEN=" + token}, "--wolkvox.url="+srv.URL, "--poll.interval=1s", "--poll.delay=0s", "--log.level=debug")
	faults := []wolkvoxtest.Fault{
		{Status: 403, Body: "PLEASE VALIDATE TOKEN " + token},
		{Status: 500, Body: "<b>Fatal error</b>: token " + token + " rejected"},
		{Status: 200, Body: `{"code":"200","error":"bad token ` + token + `","data":[]}`},
		{Status: 200, Body: "Warning: " + token},
		{Hangup: true},
	}
	var pages []string
	for _, f := range faults {
		srv.FailAll(f)
		before := len(srv.Requests())
		deadline := time.Now().Add(20 * time.Second)
		for len(srv.Requests()) < before+2 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		for _, path := range []string{"/metrics", "/", "/-/ready", "/-/healthy"} {
			status, body, err := p.Get(path)
			if (path == "/metrics" || path == "/-/healthy") && (err != nil || status != 200) {
				t.Errorf("during fault %+v: %s answered %d %v", f, path, status, err)
			}
			pages = append(pages, body)
		}
	}
	srv.Heal()
	p.Stop(t)
	if !strings.Contains(p.Log(), "<token>") {
		t.Fatalf("no error echoing the token was logged, so the test checked nothing:\n%s", p.Log())
	}
	for i, line := range strings.Split(p.Log(), "\n") {
		if strings.Contains(line, token) {
			t.Errorf("log line %d carries the token: %s", i, line)
		}
	}
	for _, page := range pages {
		if strings.Contains(page, token) {
			t.Errorf("a page carries the token")
		}
	}
}

// TestWebConfigTLSAndBasicAuth serves over TLS with a certificate the test
// makes, and demands basic auth, through exporter-toolkit's web config.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	caPool, certFile, keyFile := makeCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+
		"\nbasic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := exportertest.Start(t, binary, nil, "--demo", "--web.config.file="+webConfig)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	get := func(user, pass string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+p.Addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	var status int
	for time.Now().Before(deadline) {
		if status, err = get("", ""); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("without credentials: %d %v, want 401", status, err)
	}
	if status, err := get("prometheus", "wrong"); err != nil || status != http.StatusUnauthorized {
		t.Errorf("with a wrong password: %d %v, want 401", status, err)
	}
	if status, err := get("prometheus", "s3cret"); err != nil || status != http.StatusOK {
		t.Errorf("with credentials: %d %v, want 200", status, err)
	}
	if resp, err := http.Get("http://" + p.Addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served metrics although TLS is configured")
		}
	}
	p.Stop(t)
}

// makeCert writes a self-signed certificate for 127.0.0.1 and returns a
// pool that trusts it.
func makeCert(t *testing.T, dir string) (*x509.CertPool, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wolkvox_exporter test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, certFile, keyFile
}
