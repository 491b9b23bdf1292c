package ledger

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("-05", -5*3600))

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

// A well-formed file whose transfers have three labels, not two (another
// version's): refused as not a state file, so the poller moves it aside
// instead of rendering series of the wrong arity (a panic).
func TestDecodeRefusesAnotherVersionsLabels(t *testing.T) {
	settings := Settings{Interval: 5 * time.Minute}
	l := New(settings)
	l.agg.transfers.add(1, "transfer", "101", "extra")
	var buf bytes.Buffer
	if err := l.Encode(&buf, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := New(settings).Decode(&buf, t0); !errors.Is(err, ErrNotState) {
		t.Errorf("a file of another version's labels: %v, want ErrNotState", err)
	}
}
