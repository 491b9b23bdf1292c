package collector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// A state file written on a host whose clock was ahead must not stop
// polling until the clock catches up: the poll is due now, up is present,
// and the last interval is read.
func TestFutureMarkInStateFileDoesNotStopPolling(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := &fakeClock{t: time.Date(2027, 1, 1, 0, 0, 0, 0, bogota)}
	cfg := testConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	ahead := newPoller(t, cfg)
	ahead.PollOnce(context.Background())
	ahead.Close()

	clock.t = t0 // the real time: months behind the saved mark
	p := newPoller(t, cfg)
	p.PollOnce(context.Background())
	if up := sum(t, p, "wolkvox_report_up"); up != 2 {
		t.Errorf("report_up sum = %v, want both reports up", up)
	}
	if !p.Status().Ready() {
		t.Error("not ready after a due poll")
	}
	if got := sum(t, p, "wolkvox_report_records_total", "report=agent_13_1"); got == 0 {
		t.Error("nothing was read after the restart")
	}
}

// Keys dated in the future (a clock that stepped) sharing one second, more
// than the cap: the old prune halved its step until it reached 0 and spun.
func TestPruneKeepsTheCapWhateverTheTimes(t *testing.T) {
	now := t0
	d := newDedupe[seenEntry](time.Hour, 1000)
	for i := range 5000 {
		d.seen[uint64(i)] = seenEntry{at: now.Add(time.Hour).Unix()}
	}
	for i := range 3000 {
		d.seen[uint64(10000+i)] = seenEntry{at: now.Add(-time.Duration(i) * time.Second).Unix()}
	}
	done := make(chan struct{})
	go func() { d.prune(now); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("prune did not return")
	}
	if len(d.seen) != 1000 {
		t.Errorf("%d keys after prune, want the cap of 1000", len(d.seen))
	}
	for k := range d.seen {
		if k >= 10000 {
			t.Errorf("an older key (%d) survived while newer ones were dropped", k)
			break
		}
	}
}

func TestStateFileIsLockedAndStaleTempsRemoved(t *testing.T) {
	srv := newFake(t, busyTraffic())
	cfg := testConfig(srv, &fakeClock{t: t0})
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	stale := filepath.Join(filepath.Dir(cfg.StateFile), ".state.tmp-123")
	if err := os.WriteFile(stale, []byte("half a save"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := newPoller(t, cfg)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file not removed: %v", err)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second poller on the same state file: err = %v, want it refused", err)
	}
	first.Close()
	second, err := New(cfg)
	if err != nil {
		t.Fatalf("after the first let go: %v", err)
	}
	second.Close()
}

// A crash right after a save (before, or instead of, the publish) and a
// restart, while chat_4 is being revisited on every poll: every change is
// counted once, and the counters continue where the file left them.
func TestCrashDuringRevisitingLosesAndDoublesNothing(t *testing.T) {
	clock := &fakeClock{t: t0}
	cases := lifecycleCases(t0.Add(10 * time.Second))
	data := &wolkvoxtest.Lifecycles{Location: bogota, Extra: cases, PerMinute: 6, Seed: 5}
	srv := lifecycleFake(t, clock, data)
	cfg := lifecycleConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	p := newPoller(t, cfg)
	until := t0.Add(4*time.Minute + 2*lifeHorizon)
	last := -1.0
	var lastEnd time.Time // of the last new window read
	for i := 0; clock.Now().Before(until); i++ {
		p.PollOnce(context.Background())
		lastEnd = clock.Now().Add(-cfg.Delay)
		if i%7 == 3 {
			// kill -9: the process and its memory are gone; the lock goes
			// with its file descriptor.
			p.lock.Close()
			p = newPoller(t, cfg)
			if got := sum(t, p, "wolkvox_chat_interactions_total"); got < last {
				t.Fatalf("after a restart chat_interactions_total went back from %v to %v", last, got)
			}
		}
		last = sum(t, p, "wolkvox_chat_interactions_total")
		clock.Advance(lifeInterval)
	}
	// From the first window's start, one interval before the first end.
	all := data.Cases(t0.Add(-cfg.Delay-cfg.Interval), lastEnd)
	want := countable(all, wolkvoxtest.FilterCreation, lifeHorizon)
	if got := exported(t, p); got.cases != want.cases || got.closed != want.closed || got.archived != want.archived {
		t.Errorf("exported %v\nwant      %v", got, want)
	}
	if got, lo := exported(t, p), countable(all, wolkvoxtest.FilterCreation, lifeHorizon); got.surveyed < lo.surveyed || got.typified < lo.typified {
		t.Errorf("exported %v, want at least %v", got, lo)
	}
}
