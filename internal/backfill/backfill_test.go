package backfill

import (
	"container/heap"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// TestEventQueueKeepsArrivalOrderWithinASecond: a case created and closed
// in the same second is replayed open first, then closed, however many
// records of that second are queued around it.
func TestEventQueueKeepsArrivalOrderWithinASecond(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var q eventQueue
	var want []*wolkvox.Interaction
	for i := range 50 {
		c := &wolkvox.Interaction{Created: at, Closed: at, Status: "close", AgentName: string(rune('a' + i%26))}
		for _, e := range caseEvents(c, at) {
			q.push(e)
			want = append(want, e.interaction)
		}
		q.push(event{at: at.Add(time.Duration(50-i) * time.Second)}) // later ones, pushed out of order
	}
	var prev time.Time
	var got []*wolkvox.Interaction
	for q.Len() > 0 {
		e := heap.Pop(&q).(event)
		if e.at.Before(prev) {
			t.Fatalf("%v popped after %v", e.at, prev)
		}
		prev = e.at
		if e.at.Equal(at) {
			got = append(got, e.interaction)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d events of the second, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d of the second is out of arrival order (status %q)", i, got[i].Status)
		}
	}
}

// countingSink is a BlockSink that only hands out references.
type countingSink struct{ n uint64 }

func (s *countingSink) Append(ref uint64, _ []Label, _ int64, _ float64) (uint64, error) {
	if ref == 0 {
		s.n++
		return s.n, nil
	}
	return ref, nil
}

func (s *countingSink) Flush(context.Context) error { s.n = 0; return nil }

// TestBackfillForgetsSeriesOfAgentsGone: with a hundred new agents a day
// for a month, the backfill holds the series of the agents the ledger
// still holds, not of every agent ever seen (found by a hostile review:
// +200 label sets a day).
func TestBackfillForgetsSeriesOfAgentsGone(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	day0 := time.Date(2025, 10, 1, 0, 0, 0, 0, bogota)
	const days = 12
	for d := range days {
		for i := range 100 {
			id := fmt.Sprint(10000 + d*100 + i)
			at := day0.AddDate(0, 0, d).Add(time.Duration(i) * 7 * time.Minute)
			store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: fmt.Sprintf("c.%d.%d", d, i), SkillID: "S1", Date: at.Format(time.DateTime),
				OriginAgentID: id, OriginAgentName: "AGENTE " + id, DestinyAgentID: "-", Time: "00:01:00", TypeCall: "transfer", IDCallOrigin: "x"})
		}
	}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: store, EmptyAsEmptyList: true})
	defer srv.Close()
	cfg := poller.Config{
		Client:   wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Timeout: 5 * time.Second, Retry: wolkvox.RetryPolicy{Attempts: 1}},
		Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, AgentMetrics: true, AgentTTL: 24 * time.Hour,
	}
	cfg.StateFile = filepath.Join(t.TempDir(), "op.state")
	cfg.Operation = "op"
	b, err := New(cfg, Options{Step: time.Minute, Window: 24 * time.Hour, PrometheusMajor: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Start(day0)
	held := func() int {
		n := 0
		for _, m := range b.rec.byFamily {
			n += len(m)
		}
		return n
	}
	var second int
	for d := 1; d <= days; d++ {
		end := day0.AddDate(0, 0, d)
		if _, err := b.Day(context.Background(), end, &countingSink{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(end); err != nil {
			t.Fatal(err)
		}
		if d == 2 {
			second = held()
		}
	}
	if last := held(); last > second*5/4 {
		t.Errorf("the recorder holds %d label sets after %d days, %d after 2: it grows with the range", last, days, second)
	}
}

var bogota = func() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		panic(err)
	}
	return loc
}()

// labelSink keeps the last value of each series a backfill writes.
type labelSink struct{ last map[string]float64 }

func (s *labelSink) Append(_ uint64, lbls []Label, _ int64, v float64) (uint64, error) {
	var b strings.Builder
	for _, l := range lbls {
		b.WriteString(l.Name + "=" + l.Value + ",")
	}
	s.last[b.String()] = v
	return 1, nil
}

func (s *labelSink) Flush(context.Context) error { return nil }

// A backfill counts closes by the platform's timeout apart, as live does:
// the same ledger, placed at the close date.
func TestBackfillCountsTimeoutsApart(t *testing.T) {
	day0 := time.Date(2025, 10, 1, 0, 0, 0, 0, bogota)
	store := &wolkvoxtest.Store{Location: bogota}
	store.AddInteractions(
		wolkvoxtest.RawInteraction{CaseID: "a", Channel: "facebook_page", AgentName: "ANA", Status: "close", CodAct: "VENTA",
			DateCreation: day0.Add(time.Hour).Format(time.DateTime), CloseDate: day0.Add(time.Hour + 5*time.Minute).Format(time.DateTime)},
		wolkvoxtest.RawInteraction{CaseID: "t", Channel: "facebook_page", AgentName: "ANA", Status: "close", CodAct: "TIMEOUTCHAT",
			DateCreation: day0.Add(time.Hour).Format(time.DateTime), CloseDate: day0.Add(24*time.Hour - time.Minute).Format(time.DateTime)},
	)
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: store, EmptyAsEmptyList: true})
	defer srv.Close()
	cfg := poller.Config{
		Client:   wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Timeout: 5 * time.Second, Retry: wolkvox.RetryPolicy{Attempts: 1}},
		Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, AgentMetrics: true, AgentTTL: 24 * time.Hour,
		StateFile: filepath.Join(t.TempDir(), "op.state"), Operation: "op",
	}
	b, err := New(cfg, Options{Step: time.Minute, Window: 24 * time.Hour, PrometheusMajor: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Start(day0)
	sink := &labelSink{last: map[string]float64{}}
	if _, err := b.Day(context.Background(), day0.AddDate(0, 0, 1), sink); err != nil {
		t.Fatal(err)
	}
	key := func(by string) string {
		return "__name__=wolkvox_chat_interactions_closed_total,channel=facebook_page,closed_by=" + by + ",operation=op,skill_id=none,"
	}
	if sink.last[key("agent")] != 1 || sink.last[key("timeout")] != 1 {
		t.Errorf("closes at the day's end: by agent %v, by timeout %v; want 1 and 1", sink.last[key("agent")], sink.last[key("timeout")])
	}
	if n := sink.last["__name__=wolkvox_chat_resolution_duration_seconds_count,channel=facebook_page,operation=op,"]; n != 1 {
		t.Errorf("%v resolution times, want the agent's close alone", n)
	}
}
