package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// TestClocksGoingBackCountEveryRecordOnce polls through the end of daylight
// saving time in Santiago, where 23:00–24:00 on 4 April 2026 happens twice.
// The fake selects by wall-clock time, as the API does, so the repeated hour
// holds the records of both times round. Every record is counted once: none
// of the second time round is missed, none of the first counted again.
func TestClocksGoingBackCountEveryRecordOnce(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	change := time.Date(2026, 4, 4, 23, 0, 0, 0, santiago).Add(time.Hour) // 00:00 -03 becomes 23:00 -04
	if _, off := change.Zone(); off != -4*3600 {
		t.Fatalf("tzdata: %v is not the change to -04", change)
	}
	store := &wolkvoxtest.Store{Location: santiago}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: santiago, Data: store, TB: t})
	t.Cleanup(srv.Close)
	clock := exportertest.NewClock(change.Add(-90 * time.Minute))
	cfg := testConfig(srv, clock)
	cfg.Client.Location = santiago
	p := startPoller(t, cfg)

	// A transfer and a case every 30 s, added as they happen, from the start
	// of the first window (one interval, ending a delay before now).
	added, next := 0, clock.Now().Add(-cfg.Delay-cfg.Interval)
	happen := func(until time.Time) {
		for ; !next.After(until); next = next.Add(30 * time.Second) {
			date := next.In(santiago).Format(time.DateTime)
			id := fmt.Sprint(added)
			store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: "dst" + id, Date: date, TypeCall: "transfer", OriginAgentID: "1"})
			store.AddInteractions(wolkvoxtest.RawInteraction{CaseID: "dst" + id, Channel: "Email", Status: "open", DateCreation: date})
			added++
		}
	}
	ctx := context.Background()
	for clock.Now().Before(change.Add(90 * time.Minute)) {
		happen(clock.Now())
		p.PollOnce(ctx)
		clock.Advance(5 * time.Minute)
	}
	// The last records, then a poll whose window takes them all in.
	end := clock.Now().Add(-5 * time.Minute)
	happen(end)
	clock.Advance(5 * time.Minute)
	p.PollOnce(ctx)

	for _, r := range srv.Requests() {
		if r.Status >= 400 && r.Status != 404 {
			t.Errorf("request for %v .. %v answered %d", r.Start, r.End, r.Status)
		}
		if wolkvox.WallClock(r.End, santiago).Before(wolkvox.WallClock(r.Start, santiago)) {
			t.Errorf("request ends before it starts on the wall clock: %v .. %v", r.Start, r.End)
		}
	}
	assertCountsMatchServed(t, p, srv)
	if n := len(srv.ServedTransfers()); n != added {
		t.Errorf("fake served %d distinct transfers of the %d that happened", n, added)
	}
	if got := sum(t, p, "wolkvox_chat_interactions_total"); got != float64(added) {
		t.Errorf("wolkvox_chat_interactions_total = %v, want %d", got, added)
	}
	if d := sum(t, p, "wolkvox_report_duplicate_records_total", "report=agent_13_1"); d < 100 {
		t.Errorf("only %v duplicate transfers: the repeated hour was not fetched again", d)
	}
}
