package golden

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/backfill"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// dumpSink keeps every sample a backfill writes, as promtool tsdb dump
// prints them: series, value, time.
type dumpSink struct{ lines []string }

func (s *dumpSink) Append(_ uint64, lbls []backfill.Label, at int64, v float64) (uint64, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range lbls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name + "=" + strconv.Quote(l.Value))
	}
	b.WriteString("} " + strconv.FormatFloat(v, 'g', -1, 64) + " " + strconv.FormatInt(at, 10))
	s.lines = append(s.lines, b.String())
	return 1, nil
}

func (s *dumpSink) Flush(context.Context) error { return nil }

// TestBackfillIsGolden: a day of the same fake history, backfilled,
// give the same samples, by digest (testdata/backfill.golden holds their
// count and SHA-256). A move that changes what the backfill writes fails it.
// The samples' bytes were checked equal across the package split with
// promtool tsdb dump on both binaries' blocks (2,847,238 samples).
func TestBackfillIsGolden(t *testing.T) {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 1)
	served := to.Add(5 * 24 * time.Hour) // every case's life is over by then
	traffic := &wolkvoxtest.Traffic{Seed: 11, Location: loc, TransfersPerMinute: 3, InteractionsPerMinute: 2, BodyBytes: 16, AgentCount: 15}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, Data: traffic, Now: func() time.Time { return served }, ForgetServed: true, TB: t})
	t.Cleanup(srv.Close)
	cfg := poller.Config{
		Operation: "golden",
		Client: wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: loc, Timeout: 5 * time.Second,
			Retry: wolkvox.RetryPolicy{Attempts: 1}},
		Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, Revisit: 6 * time.Hour,
		AgentMetrics: true, AgentTTL: 12 * time.Hour, DailyQuota: 2000,
		StateFile: filepath.Join(t.TempDir(), "golden.state"),
	}
	b, err := backfill.New(cfg, backfill.Options{Step: time.Minute, Window: 2 * time.Hour, PrometheusMajor: 3,
		Labels: map[string]string{"job": "wolkvox", "instance": "golden:10049"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Start(from)
	sink := &dumpSink{}
	for _, end := range backfill.Days(from, to, loc) {
		if _, err := b.Day(context.Background(), end, sink); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(end); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(sink.lines)
	got := fmt.Sprintf("%d samples, sha256 %x\n", len(sink.lines), sha256.Sum256([]byte(strings.Join(sink.lines, "\n"))))
	path := filepath.Join("testdata", "backfill.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the backfill wrote %s; the golden file says %s", got, want)
	}
	if len(sink.lines) < 50000 {
		t.Errorf("only %d samples: the backfill wrote little", len(sink.lines))
	}
}
