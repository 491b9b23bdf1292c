// Package golden holds the exposition golden test: the same fake traffic,
// on a fake clock, must give a byte-identical /metrics whatever the code's
// layout. It guards restructurings: a move that changes a number fails it.
package golden

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

var update = flag.Bool("update", false, "rewrite testdata/exposition.golden from this run")

// wallTimed are the families whose values come from the host's clock, not
// the fake one (how long a poll took, when the state was saved): they are
// left out of the comparison, by name, and nothing else is.
var wallTimed = []string{
	"wolkvox_report_poll_duration_seconds",
	"wolkvox_exporter_state_last_save_timestamp_seconds",
}

// TestExpositionIsGolden runs a day and a half of traffic (transfers with
// a spike, chat cases that open, close, get surveyed, typified and
// archived) through a poller with a state file and chat revisits, with
// faults on the way and a restart from the state file halfway, and
// compares the final exposition with testdata/exposition.golden.
func TestExpositionIsGolden(t *testing.T) {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, loc)
	clk := exportertest.NewClock(start)
	traffic := &wolkvoxtest.Traffic{Seed: 7, Location: loc, TransfersPerMinute: 6, InteractionsPerMinute: 4, BodyBytes: 16, AgentCount: 20}
	traffic.AddSpike(wolkvoxtest.Spike{Start: start.Add(3 * time.Hour), End: start.Add(3*time.Hour + 10*time.Minute), TypeCall: "transfer", SkillID: "101", PerMinute: 30})
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, Data: traffic, Now: clk.Now, ForgetServed: true, TB: t})
	t.Cleanup(srv.Close)

	cfg := poller.Config{
		Operation: "golden",
		Client: wolkvox.Config{
			BaseURL: srv.URL, Token: srv.Token(), Location: loc, Timeout: 5 * time.Second,
			Retry: wolkvox.RetryPolicy{Attempts: 1},
		},
		Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, Revisit: 6 * time.Hour,
		AgentMetrics: true, AgentTTL: 12 * time.Hour, DailyQuota: 2000,
		StateFile: filepath.Join(t.TempDir(), "golden.state"),
		Clock:     clk,
	}
	newPoller := func() *poller.Poller {
		p, err := poller.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := newPoller()
	const steps = 36 * 12 // a day and a half of 5-minute polls
	for i := range steps {
		switch {
		case i%53 == 7:
			srv.FailNext(1, wolkvoxtest.Fault{Status: 502, Body: "<html>bad gateway</html>"})
		case i == 200:
			srv.FailAll(wolkvoxtest.Fault{Status: 503})
		case i == 209:
			srv.Heal()
		case i == steps/2:
			// A restart: the next poller continues from the state file.
			p.Close()
			p = newPoller()
		}
		p.PollOnce(context.Background())
		clk.Advance(cfg.Interval)
	}
	defer p.Close()

	got := exposition(t, p.Collector())
	path := filepath.Join("testdata", "exposition.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("exposition differs from %s at line %d:\n got: %s\nwant: %s\n(%d lines against %d)", path, i+1, g, w, len(gl), len(wl))
			}
		}
	}
	if !bytes.Contains(want, []byte("wolkvox_chat_interactions_closed_total")) || !bytes.Contains(want, []byte("wolkvox_transfers_total")) {
		t.Errorf("the golden file lacks the data families: the traffic served nothing")
	}
}

// exposition renders c as the text format, sorted as a scrape is, without
// the wall-timed families.
func exposition(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
next:
	for _, mf := range mfs {
		for _, name := range wallTimed {
			if mf.GetName() == name {
				continue next
			}
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}
