package collector

import (
	"container/heap"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
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
