package ledger

import (
	"bytes"
	"errors"
	"strconv"
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

// A state file is as hostile as a response: a label value that is not
// UTF-8 (every scrape would panic on it) makes the file unreadable, and
// label pairs beyond the label limits are capped as a read's would be.
func TestStateFileLabelsAreCheckedAsAResponsesAre(t *testing.T) {
	now := t0.Add(time.Hour)
	bad := followingLedger(14 * 24 * time.Hour)
	bad.agg.caseLabels.intern(chatKey{"Email\xff", "101"})
	var file bytes.Buffer
	if err := bad.Encode(&file, now); err != nil {
		t.Fatal(err)
	}
	if _, err := followingLedger(14*24*time.Hour).Decode(bytes.NewReader(file.Bytes()), now); !errors.Is(err, ErrNotState) {
		t.Errorf("a label that is not UTF-8 loaded: %v", err)
	}

	many := followingLedger(14 * 24 * time.Hour)
	var recs []wolkvox.Interaction
	for i := range 3 * maxSkills {
		recs = append(recs, wolkvox.Interaction{CaseID: strconv.Itoa(i), Channel: "Email", SkillID: "s" + strconv.Itoa(i), Created: t0, Status: "open"})
	}
	many.ApplyInteractions(recs, now)
	i := 0
	for k, e := range many.cases.seen { // as a crafted file would hold them, past the limit
		e.labels = many.agg.caseLabels.intern(chatKey{"Email", "s" + strconv.Itoa(i)})
		many.cases.seen[k] = e
		i++
	}
	file.Reset()
	if err := many.Encode(&file, now); err != nil {
		t.Fatal(err)
	}
	loaded := followingLedger(14 * 24 * time.Hour)
	if _, err := loaded.Decode(bytes.NewReader(file.Bytes()), now); err != nil {
		t.Fatal(err)
	}
	skills := map[string]bool{}
	for _, e := range loaded.cases.seen {
		skills[loaded.agg.caseLabels.get(e.labels).skill] = true
	}
	if len(skills) > maxSkills+1 {
		t.Errorf("%d skills after loading, beyond the limit of %d and other", len(skills), maxSkills)
	}
}

// The budget a state file carries is bounded; a fresh budget starts with
// one call, so that a budget of one a day spends one.
func TestFollowBudgetIsBounded(t *testing.T) {
	now := t0.Add(time.Hour)
	l := followingLedger(14 * 24 * time.Hour)
	l.Follow.Allowance = -1e308
	var file bytes.Buffer
	if err := l.Encode(&file, now); err != nil {
		t.Fatal(err)
	}
	loaded := followingLedger(14 * 24 * time.Hour)
	if _, err := loaded.Decode(bytes.NewReader(file.Bytes()), now); err != nil {
		t.Fatal(err)
	}
	if loaded.Follow.Allowance != 0 {
		t.Errorf("allowance %v after loading -1e308, want 0", loaded.Follow.Allowance)
	}
	one := New(Settings{Interval: 5 * time.Minute, Revisit: 24 * time.Hour, Follow: FollowSettings{Enabled: true, MaxAge: 14 * 24 * time.Hour, CallsPerDay: 1}})
	one.Refill(now)
	spent := 0
	for one.Affordable() {
		one.Spend(1)
		spent++
	}
	one.Refill(now.Add(12 * time.Hour))
	if one.Affordable() || spent != 1 {
		t.Errorf("a budget of 1 a day paid for %d calls at once, and another within 12 hours: %v", spent, one.Affordable())
	}
}

// A given-up case the API keeps returning (a new window under
// last-change filtering, for every change it goes through) keeps its
// mark as long as it comes back: it is never counted again, however late.
func TestGivenUpCaseKeepsItsMarkWhileItComesBack(t *testing.T) {
	l := followingLedger(time.Hour) // given up at the sweep's reach, 27 h 5 m
	c := wolkvox.Interaction{CaseID: "x", Channel: "Email", SkillID: "1", Created: t0, Status: "open"}
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(time.Minute))
	for at := 6 * time.Hour; at <= 10*24*time.Hour; at += 6 * time.Hour {
		if at == 10*24*time.Hour {
			c.Status, c.Closed = "close", t0.Add(at-time.Minute)
		}
		l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(at))
		l.Prune(t0.Add(at))
	}
	if chats, closed, gaveUp := total(l.agg.chats), total(l.agg.chatsClosed), total(l.agg.givenUp); chats != 1 || closed != 0 || gaveUp != 1 {
		t.Errorf("a given-up case returned every 6 hours for 10 days, then closed: %v cases, %v closed, %v given up; want 1, 0, 1", chats, closed, gaveUp)
	}
}

// No case is given up while the revisit sweep still reads it, whatever
// the max-age: the sweep would read a close that following off counts.
func TestNoCaseIsGivenUpWithinTheSweepsReach(t *testing.T) {
	l := followingLedger(time.Hour)
	c := wolkvox.Interaction{CaseID: "x", Channel: "Email", SkillID: "1", Created: t0, Status: "open"}
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(time.Minute))
	l.Prune(t0.Add(20 * time.Hour))
	c.Status, c.Closed = "close", t0.Add(25*time.Hour)
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0.Add(26*time.Hour)) // a sweep, which reaches 27 h back
	if closed, gaveUp := total(l.agg.chatsClosed), total(l.agg.givenUp); closed != 1 || gaveUp != 0 {
		t.Errorf("closed within the sweep's reach: %v closed, %v given up; want 1, 0", closed, gaveUp)
	}
}

// A creation date after the read is bad data: such a case is never held,
// nor shown open, for ever.
func TestAFutureCreationDateIsNotHeld(t *testing.T) {
	l := followingLedger(14 * 24 * time.Hour)
	c := wolkvox.Interaction{CaseID: "x", Channel: "Email", SkillID: "1", Created: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), Status: "open"}
	l.ApplyInteractions([]wolkvox.Interaction{c}, t0)
	later := t0.Add(30 * 24 * time.Hour)
	l.Prune(later)
	if n := l.CaseEntries(); n != 0 {
		t.Errorf("a case dated 2099 is still held a month later (%d entries)", n)
	}
}
