package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"os"
	"path/filepath"
	"runtime"
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
	clock := exportertest.NewClock(time.Date(2027, 1, 1, 0, 0, 0, 0, bogota))
	cfg := testConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	ahead := startPoller(t, cfg)
	ahead.PollOnce(context.Background())
	ahead.Close()

	clock.Set(t0) // the real time: months behind the saved mark
	cfg.Revisit = time.Hour
	p := startPoller(t, cfg)
	pollEvery(context.Background(), p, clock, 3, 5*time.Minute)
	// The saved origin of chat_4 is in the future too; revisits must not
	// stop before it.
	if got := sum(t, p, "wolkvox_api_requests_total", "purpose=revisit"); got == 0 {
		t.Error("no revisit call after a state file from the future")
	}
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

func TestStateFileIsLockedAndStaleTempsRemoved(t *testing.T) {
	srv := newFake(t, busyTraffic())
	cfg := testConfig(srv, exportertest.NewClock(t0))
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	stale := filepath.Join(filepath.Dir(cfg.StateFile), ".state.tmp-123")
	if err := os.WriteFile(stale, []byte("half a save"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := startPoller(t, cfg)
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
	clock := exportertest.NewClock(t0)
	cases := lifecycleCases(t0.Add(10 * time.Second))
	data := &wolkvoxtest.Lifecycles{Location: bogota, Extra: cases, PerMinute: 6, Seed: 5}
	srv := lifecycleFake(t, clock, data)
	cfg := lifecycleConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	p := startPoller(t, cfg)
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
			p = startPoller(t, cfg)
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
	lo, hi := countable(all, wolkvoxtest.FilterCreation, lifeHorizon), countable(all, wolkvoxtest.FilterCreation, p.plan.Span())
	if got := exported(t, p); got.surveyed < lo.surveyed || got.typified < lo.typified || got.exceeds(hi) {
		t.Errorf("exported %v, want at least %v and at most %v", got, lo, hi)
	}
}

// A corrupt state file must not allocate what its length fields claim,
// nor panic on series of another version's labels: it is moved aside.
func TestCorruptStateFileIsBoundedAndMovedAside(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.StateFile = filepath.Join(t.TempDir(), "state")
	huge := []byte("wolkvox_exporter state 2\n" + "\xff\xff\xff\xff\x0f{}") // a header length of 4 GiB
	if err := os.WriteFile(cfg.StateFile, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p := startPoller(t, cfg)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("loading a 30-byte file allocated %d MiB", grew>>20)
	}
	if _, err := os.Stat(cfg.StateFile + ".corrupt"); err != nil {
		t.Errorf("not moved aside: %v", err)
	}
	p.Close()
	if err := os.Remove(cfg.StateFile + ".corrupt"); err != nil {
		t.Fatal(err)
	}

}

// A save that fails is counted and logged, and the numbers are still
// published; a later good save is recorded too.
func TestFailedSaveIsCounted(t *testing.T) {
	srv := newFake(t, busyTraffic())
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	dir := t.TempDir()
	cfg.StateFile = filepath.Join(dir, "state")
	p := startPoller(t, cfg)
	p.PollOnce(context.Background())
	if got := sum(t, p, "wolkvox_exporter_state_save_failures_total"); got != 0 {
		t.Fatalf("%v failed saves on a good disk", got)
	}
	// The directory goes away (root can write anywhere chmod forbids).
	moved := dir + ".gone"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	p.PollOnce(context.Background())
	if got := sum(t, p, "wolkvox_exporter_state_save_failures_total"); got != 1 {
		t.Errorf("state_save_failures_total = %v after a save into a missing directory, want 1", got)
	}
	if got := sum(t, p, "wolkvox_report_records_total"); got == 0 {
		t.Error("nothing published while saves fail")
	}
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	p.PollOnce(context.Background())
	if got := sum(t, p, "wolkvox_exporter_state_last_save_timestamp_seconds"); got == 0 {
		t.Error("no last-save time after a good save")
	}
}
