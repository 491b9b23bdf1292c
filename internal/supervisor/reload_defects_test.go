package supervisor

import (
	"context"
	"errors"
	"github.com/prometheus/client_golang/prometheus"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/flock"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// The review's reload: a gets a new token T2 and a state file, and gives
// its old token T1 to a new operation c; a's new poller cannot start (its
// state file is locked by another process). a used to be restarted on its
// old settings, T1 included, beside c on T1: two pollers on one token
// until the next reload. Now the reload is refused whole, and a keeps
// polling on T1 alone.
func TestFailedReloadNeverPutsATokenInTwoPollers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(ctx, nil, nil)
	defer r.Stop()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "T1", Location: bogota, TB: t,
		Data: &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 60}})
	t.Cleanup(srv.Close)
	srv.SetToken("T1", "T2")
	srv.FailAll(wolkvoxtest.Fault{Latency: 50 * time.Millisecond}) // calls are in flight a while
	a := operationConfig("a", srv)
	a.Client.Token, a.Interval = "T1", 10*time.Millisecond
	if err := r.Apply([]poller.Config{a}); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "a.state")
	held, err := flock.Lock(state + ".lock") // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	a2, c := a, operationConfig("c", srv)
	a2.Client.Token, a2.StateFile = "T2", state
	c.Client.Token, c.Interval = "T1", 10*time.Millisecond
	err = r.Apply([]poller.Config{a2, c})
	if err == nil || !strings.Contains(err.Error(), "operation a") {
		t.Fatalf("reload: %v, want a's state file refused", err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := srv.Overlaps(); n != 0 {
		t.Errorf("%d calls overlapped another with the same token", n)
	}
	var names []string
	for _, op := range r.Status() {
		names = append(names, op.Name)
	}
	if len(names) != 1 || names[0] != "a" {
		t.Errorf("running after the refused reload: %v, want a alone", names)
	}
	if got := r.running["a"].cfg.Client.Token; got != "T1" {
		t.Errorf("a polls with %q, want its previous token", got)
	}
}

// Nothing is published that is not on disk: while saves fail, a scrape
// keeps seeing the last saved counts, so neither a reload that restarts
// the poller nor a restart from the state file shows a counter falling.
// (The reload used to reload the stale file: records_total went 18 -> 2.)
func TestCountersNeverFallWhileSavesFail(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota,
		Data: &wolkvoxtest.Traffic{Seed: 3, Location: bogota, TransfersPerMinute: 600, InteractionsPerMinute: 60}})
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := operationConfig("op", srv)
	cfg.StateFile = filepath.Join(dir, "op.state")
	r := New(ctx, nil, nil)
	defer r.Stop()
	if err := r.Apply([]poller.Config{cfg}); err != nil {
		t.Fatal(err)
	}
	var last float64
	records := func(when string) float64 {
		t.Helper()
		got := byOperation(t, r, "wolkvox_report_records_total")["op"]
		if got < last {
			t.Errorf("%s: records_total fell from %v to %v", when, last, got)
		}
		last = got
		return got
	}
	waitFor(t, func() bool { return records("first polls") > 0 })
	// The disk goes away (as full as can be): saves fail from now on.
	gone := dir + ".gone"
	if err := os.Rename(dir, gone); err != nil {
		t.Fatal(err)
	}
	failures := func() float64 { return byOperation(t, r, "wolkvox_exporter_state_save_failures_total")["op"] }
	waitFor(t, func() bool { return failures() >= 3 })
	held := records("saves failing")
	time.Sleep(300 * time.Millisecond)
	if got := records("saves still failing"); got != held {
		t.Errorf("records_total moved from %v to %v while no save succeeded", held, got)
	}
	// A reload that restarts the poller.
	if err := os.Rename(gone, dir); err != nil {
		t.Fatal(err)
	}
	cfg.Interval = 150 * time.Millisecond
	if err := r.Apply([]poller.Config{cfg}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		records("after the reload")
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, func() bool { return records("saves succeed again") > held })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// A reload that hands a running operation a token another process on
// this host holds is refused whole, before anything stops: the operation
// it would remove keeps running, and its state file stays. It used to
// fail only after the removal (found by a hostile review).
func TestReloadWithAHeldTokenChangesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	r := New(ctx, nil, wolkvox.NewGates(dir, nil))
	defer r.Stop()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "A", Location: bogota, TB: t,
		Data: &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 60}})
	t.Cleanup(srv.Close)
	srv.SetToken("A", "B", "C")
	a, b := operationConfig("a", srv), operationConfig("b", srv)
	a.Client.Token, b.Client.Token = "A", "B"
	b.StateFile = filepath.Join(t.TempDir(), "b.state")
	if err := r.Apply([]poller.Config{a, b}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, err := os.Stat(b.StateFile); return err == nil })
	// Another process (another Gates on the same directory) holds C.
	other, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: "C", Location: bogota, Gates: wolkvox.NewGates(dir, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a2 := a
	a2.Client.Token = "C"
	if err := r.Apply([]poller.Config{a2}); !errors.Is(err, wolkvox.ErrTokenInUse) {
		t.Fatalf("reload onto a held token: %v, want ErrTokenInUse", err)
	}
	if _, ok := r.running["b"]; !ok {
		t.Error("the refused reload removed b")
	}
	if _, err := os.Stat(b.StateFile); err != nil {
		t.Errorf("the refused reload deleted b's state: %v", err)
	}
	if got := r.running["a"].cfg.Client.Token; got != "A" {
		t.Errorf("a polls with %q, want its previous token", got)
	}
}

// A reload that turns real time off stops serving the snapshots' health:
// report_up{report="skills"} 0 stood frozen after it, and kept
// WolkvoxReportFailing firing for a report no longer read (found by a
// hostile review). The two reports' health carries on.
func TestReloadTurningRealTimeOffDropsItsHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(ctx, nil, nil)
	defer r.Stop()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, TB: t, RefuseAllSkills: true,
		Data:     &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 60},
		Realtime: &wolkvoxtest.Realtime{Seed: 1, Location: bogota}})
	t.Cleanup(srv.Close)
	op := operationConfig("op", srv)
	op.Realtime = poller.Realtime{Interval: time.Second, QuotaInterval: time.Second}
	if err := r.Apply([]poller.Config{op}); err != nil {
		t.Fatal(err)
	}
	snapshotUp := func() map[string]float64 {
		return byOperationLabel(t, r, "wolkvox_report_up", "report")
	}
	waitFor(t, func() bool { up := snapshotUp(); _, ok := up["skills"]; return ok && up["agents"] == 1 })
	op.Realtime = poller.Realtime{}
	if err := r.Apply([]poller.Config{op}); err != nil {
		t.Fatal(err)
	}
	up := snapshotUp()
	for _, report := range []string{"skills", "agents", "token_info"} {
		if v, ok := up[report]; ok {
			t.Errorf("report_up{report=%q} = %v after real time was turned off", report, v)
		}
	}
	if _, ok := up["agent_13_1"]; !ok {
		t.Error("the reports' own health left with real time")
	}
	if n := len(byOperation(t, r, "wolkvox_agents")); n != 0 {
		t.Errorf("agents by status still served after real time was turned off")
	}
}

// byOperationLabel sums a metric's samples by one label's value.
func byOperationLabel(t *testing.T, r *Supervisor, name, label string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					out[lp.GetValue()] += value(m)
				}
			}
		}
	}
	return out
}
