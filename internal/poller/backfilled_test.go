package poller

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// Started on a backfill's state file that ends three days ago, the live
// exporter reads on from the backfill's end whatever its
// --poll.max-catchup (24h): the backfilled history and the live counters
// meet with no gap. The same marks from a live exporter's own outage are
// cut at the catch-up, and the rest counted as skipped.
func TestLiveExporterCatchesUpToTheBackfillsEnd(t *testing.T) {
	for _, backfilled := range []bool{true, false} {
		clock := exportertest.NewClock(t0)
		srv := newFake(t, &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 1, InteractionsPerMinute: 1, BodyBytes: 16})
		cfg := testConfig(srv, clock)
		cfg.StateFile = filepath.Join(t.TempDir(), "op.state")
		end := t0.Add(-72 * time.Hour)
		l := ledger.New(cfg.LedgerSettings())
		for _, r := range wolkvox.Reports {
			l.Marks[r], l.Origins[r] = end, end.Add(-24*time.Hour)
		}
		l.Backfilled = backfilled
		f, err := os.Create(cfg.StateFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Encode(f, end); err != nil {
			t.Fatal(err)
		}
		f.Close()
		p := startPoller(t, cfg)
		p.PollOnce(context.Background())
		skipped := sum(t, p, "wolkvox_report_skipped_seconds_total")
		first := srv.Requests()[0]
		switch {
		case backfilled && (skipped != 0 || !first.Start.Equal(end)):
			t.Errorf("after a backfill: %v seconds skipped, first window from %v, want none skipped and %v", skipped, first.Start, end)
		case !backfilled && skipped == 0:
			t.Error("after an outage of three days with a catch-up of one, nothing was counted as skipped")
		}
		if p.ledger.Backfilled {
			t.Error("still marked backfilled after a live poll read on from it")
		}
	}
}
