package backfill

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// A backfill hands the cases still open at its end to the live exporter
// in its state file: started on it, live follows them until they close
// or are given up, and every count at the end is the truth, exactly, with
// nothing counted twice across the join. Cases are created in creation
// mode for the backfill's two days only, e-mails closing up to three days
// later.
func TestLiveFollowsWhatTheBackfillLeftOpen(t *testing.T) {
	day0 := time.Date(2025, 10, 1, 0, 0, 0, 0, bogota)
	to := day0.AddDate(0, 0, 2)
	const maxAge = 4 * 24 * time.Hour
	data := &wolkvoxtest.Lifecycles{Seed: 3, Location: bogota, PerMinute: 2, BodyBytes: 16, FilterOn: wolkvoxtest.FilterCreation,
		LongEmails:   wolkvoxtest.LongEmails{Percent: 60, Min: 30 * time.Hour, Max: 3 * 24 * time.Hour},
		CreatedUntil: to}
	clock := exportertest.NewClock(to.Add(time.Minute))
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, Now: clock.Now, TB: t})
	t.Cleanup(srv.Close)
	cfg := poller.Config{
		Client:   wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Timeout: 5 * time.Second, Retry: wolkvox.RetryPolicy{Attempts: 1}},
		Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, Revisit: 24 * time.Hour,
		StateFile: filepath.Join(t.TempDir(), "op.state"), Operation: "op", Clock: clock,
		Follow: ledger.FollowSettings{Enabled: true, MaxAge: maxAge, CallsPerDay: ledger.DefaultFollowCallsPerDay},
	}
	b, err := New(cfg, Options{Step: time.Minute, Window: 2 * time.Hour, PrometheusMajor: 3})
	if err != nil {
		t.Fatal(err)
	}
	b.Start(day0)
	for end := day0.AddDate(0, 0, 1); !end.After(to); end = end.AddDate(0, 0, 1) {
		if _, err := b.Day(context.Background(), end, &countingSink{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(end); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()

	p, err := poller.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	sum := func(name string, match ...string) float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
		metrics:
			for _, m := range f.GetMetric() {
				for _, want := range match {
					found := false
					for _, l := range m.GetLabel() {
						found = found || l.GetName()+"="+l.GetValue() == want
					}
					if !found {
						continue metrics
					}
				}
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
		return total
	}
	openAtTo := sum("wolkvox_chat_open_interactions")
	for clock.Now().Before(to.Add(maxAge + 12*time.Hour)) {
		p.PollOnce(context.Background())
		clock.Advance(cfg.Interval)
	}

	var cases, closed, archived, surveyed, typified, never float64
	for _, c := range data.Cases(day0, to) {
		cases++
		switch {
		case !c.Closed.IsZero():
			closed++
		case !c.Archived.IsZero():
			archived++
		default:
			never++
		}
		if !c.Surveyed.IsZero() {
			surveyed++
		}
		if !c.Typified.IsZero() {
			typified++
		}
	}
	got := []float64{sum("wolkvox_chat_interactions_total"), sum("wolkvox_chat_interactions_closed_total"), sum("wolkvox_chat_interactions_archived_total"),
		sum("wolkvox_chat_survey_score"), sum("wolkvox_chat_typifications_total"), sum("wolkvox_chat_follow_given_up_total")}
	want := []float64{cases, closed, archived, surveyed, typified, never}
	for i, name := range []string{"cases", "closed", "archived", "surveyed", "typified", "given up"} {
		if got[i] != want[i] {
			t.Errorf("%s: %v, want exactly %v", name, got[i], want[i])
		}
	}
	if openAtTo < never {
		t.Errorf("the live exporter started on the backfill showed %v open, fewer than the %v never closed", openAtTo, never)
	}
	if follow := sum("wolkvox_api_requests_total", "purpose=follow"); follow == 0 {
		t.Error("live made no follow call: the test did not exercise the handover")
	}
	t.Logf("%v cases; %v open at the backfill's end, handed over; %v given up", cases, openAtTo, never)
}
