package ledger

import (
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

func total(f *counterFamily) float64 {
	s := 0.0
	for _, v := range f.values {
		s += v
	}
	return s
}

func followingLedger(maxAge time.Duration) *Ledger {
	return New(Settings{Interval: 5 * time.Minute, Revisit: 24 * time.Hour, Follow: FollowSettings{Enabled: true, MaxAge: maxAge, CallsPerDay: DefaultFollowCallsPerDay}})
}

// A case following waits on stays in the book however long since its
// last read (under last-change filtering nothing reads it again; after a
// long outage nothing could), until the max-age.
func TestAwaitedCaseOutlivesTheBooksRetention(t *testing.T) {
	l := followingLedger(14 * 24 * time.Hour)
	c := wolkvox.Interaction{CaseID: "x", Channel: "Email", SkillID: "1", Created: t0, Status: "open"}
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(time.Minute))
	l.Prune(t0.Add(3 * 24 * time.Hour))
	if l.CaseEntries() != 1 || l.GivenUp != 0 {
		t.Errorf("an open case unread for 3 days: %d entries, %d given up; want it kept", l.CaseEntries(), l.GivenUp)
	}
	open := l.backlog(t0.Add(3*24*time.Hour), 24*time.Hour, 48*time.Hour, t0)
	if open.open[chatKey{"Email", "1"}] != 1 {
		t.Errorf("the kept case is not shown open: %v", open.open)
	}
}

// A case given up is never counted again: not when a revisit sweep still
// reaches it, nor when a new window returns it (last-change filtering)
// days later.
func TestGivenUpCaseIsNeverCountedAgain(t *testing.T) {
	l := followingLedger(27*time.Hour + 5*time.Minute)
	c := wolkvox.Interaction{CaseID: "x", Channel: "Email", SkillID: "1", Created: t0, Status: "open"}
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(time.Minute))
	l.Prune(t0.Add(28 * time.Hour))
	if l.GivenUp != 1 {
		t.Fatalf("given up %d, want 1", l.GivenUp)
	}
	c.Status, c.Closed = "close", t0.Add(28*time.Hour+time.Minute)
	for _, at := range []time.Duration{29 * time.Hour, 4 * 24 * time.Hour} {
		l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(at))
		l.Prune(t0.Add(at))
	}
	if chats, closed, gaveUp := total(l.agg.chats), total(l.agg.chatsClosed), total(l.agg.givenUp); chats != 1 || closed != 0 || gaveUp != 1 {
		t.Errorf("after the given-up case came back closed: %v cases, %v closed, %v given up; want 1, 0, 1", chats, closed, gaveUp)
	}
}
