// Package exportertest builds and runs the wolkvox_exporter binary for
// tests that need the real thing: the command-line tests, the fault matrix
// and the end-to-end test.
package exportertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BuildFlags are the Dockerfile's: a static, reproducible binary.
var BuildFlags = []string{"-trimpath", "-ldflags", "-s -w -X github.com/prometheus/common/version.Version=0.0.0-test"}

// Build compiles the exporter into dir with BuildFlags and CGO_ENABLED=0,
// and returns the binary's path.
func Build(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "wolkvox_exporter")
	args := append([]string{"build", "-o", bin}, BuildFlags...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// below the kernel's ephemeral range: a port the kernel hands out for
// ":0" could be handed, between this check and the process's listen, to
// another listener of the test or of the process itself (the demo's fake
// API), which once made a run fail with "address already in use".
func FreePort(t testing.TB) int {
	t.Helper()
	low := ephemeralLow()
	for range 200 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken: another
		}
		l.Close()
		return port
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// ephemeralLow is the lowest port of the kernel's ephemeral range
// (Linux's ip_local_port_range; 32768, its default, elsewhere).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if low, err := strconv.Atoi(f[0]); err == nil && low > 11000 {
				return low
			}
		}
	}
	return 32768
}

// Process is a running exporter.
type Process struct {
	Cmd  *exec.Cmd
	Addr string // host:port it listens on

	mu  sync.Mutex
	log bytes.Buffer
}

// Start runs bin (the exporter, Prometheus or Alertmanager: all take
// --web.listen-address) with args plus a free --web.listen-address, and
// kills it when the test ends, even when the test fails.
func Start(t testing.TB, bin string, env []string, args ...string) *Process {
	t.Helper()
	return StartAt(t, bin, "127.0.0.1:"+strconv.Itoa(FreePort(t)), env, args...)
}

// StartAt is Start with a chosen listen address.
func StartAt(t testing.TB, bin, addr string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Addr: addr}
	p.Cmd = exec.Command(bin, append(args, "--web.listen-address="+p.Addr)...)
	// A temporary directory of its own, where the exporter keeps its
	// host-wide token locks: tests side by side may share a token. A test
	// that wants two processes to meet gives both one TMPDIR in env.
	p.Cmd.Env = append(append(os.Environ(), "TMPDIR="+t.TempDir()), env...)
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.Write(sc.Bytes())
			p.log.WriteByte('\n')
			p.mu.Unlock()
		}
		close(done)
	}()
	t.Cleanup(func() {
		if p.Cmd.ProcessState == nil {
			_ = p.Cmd.Process.Kill()
			_ = p.Cmd.Wait()
		}
		<-done
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), p.Log())
		}
	})
	return p
}

// Log returns what the process has logged so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Get fetches a path and returns the status and body.
func (p *Process) Get(path string) (int, string, error) {
	resp, err := http.Get("http://" + p.Addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// WaitFor polls path until cond holds or the timeout passes.
func (p *Process) WaitFor(t testing.TB, path string, timeout time.Duration, cond func(status int, body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		status, body, err := p.Get(path)
		if err == nil && cond(status, body) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met within %v (last: %d, %v)", path, timeout, status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends SIGTERM and returns the exit code.
func (p *Process) Stop(t testing.TB) int {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.Cmd.Wait() }()
	select {
	case <-errc:
	case <-time.After(20 * time.Second):
		_ = p.Cmd.Process.Kill()
		t.Fatal("exporter did not stop within 20s of SIGTERM")
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Kill kills the process with SIGKILL, as a crash or OOM would.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

// MetricValue returns the sum of the samples of a metric in a text
// exposition whose lines start with prefix (a name, optionally with the
// start of its labels).
func MetricValue(exposition, prefix string) (float64, bool) {
	var total float64
	found := false
	sc := bufio.NewScanner(bytes.NewBufferString(exposition))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(line) == 0 || line[0] == '#' || !bytes.HasPrefix([]byte(line), []byte(prefix)) {
			continue
		}
		rest := line[len(prefix):]
		if len(rest) > 0 && rest[0] != '{' && rest[0] != ' ' && prefix[len(prefix)-1] != ',' && prefix[len(prefix)-1] != '{' {
			continue // a longer metric name
		}
		var v float64
		if _, err := fmt.Sscanf(line[bytes.LastIndexByte([]byte(line), ' ')+1:], "%g", &v); err == nil {
			total += v
			found = true
		}
	}
	return total, found
}

// RequireTool returns the path of an external program a test needs. When
// it is missing the test skips with a clear message, unless
// WOLKVOX_REQUIRE_TOOLS is set (as .ci/run does): then it fails, so that CI
// never passes by skipping.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed (Debian: apt-get install --no-install-recommends %s)", name, pkg)
	if os.Getenv("WOLKVOX_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s, and WOLKVOX_REQUIRE_TOOLS is set", msg)
	}
	t.Skip(msg)
	return ""
}

// RequireGoTool is RequireTool for a program installed with go install,
// which lands in $(go env GOPATH)/bin, often not on PATH: it looks on PATH
// first, then there. install is the command that installs it.
func RequireGoTool(t testing.TB, name, install string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if path := filepath.Join(dir, "bin", name); isExecutable(path) {
				return path
			}
		}
	}
	msg := fmt.Sprintf("%s is not installed (%s)", name, install)
	if os.Getenv("WOLKVOX_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s, and WOLKVOX_REQUIRE_TOOLS is set", msg)
	}
	t.Skip(msg)
	return ""
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}
