package ledger

import (
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// closed returns the closed counter of channel by closed_by.
func closed(l *Ledger, by string) float64 {
	var n float64
	for k, v := range l.agg.chatsClosed.values {
		if splitLabels(k)[2] == by {
			n += v
		}
	}
	return n
}

// Closes by the platform's timeout (cod_act TIMEOUTCHAT, or any code the
// operation lists) are counted apart from closes by agents and kept out
// of the resolution time; per agent too. A case first read open and read
// again closed by the timeout (a revisit) counts as a timeout.
func TestTimeoutsAreCountedApart(t *testing.T) {
	l := New(Settings{AgentMetrics: true, AgentTTL: time.Hour, Interval: time.Minute})
	created := t0
	cases := []wolkvox.Interaction{
		{CaseID: "a", Channel: "facebook_page", AgentName: "ANA", Status: "close", Created: created, Closed: created.Add(10 * time.Minute), CodAct: "VENTA"},
		{CaseID: "t", Channel: "facebook_page", AgentName: "ANA", Status: "close", Created: created, Closed: created.Add(23 * time.Hour), CodAct: "TIMEOUTCHAT"},
	}
	l.ApplyInteractions(cases, created.Add(24*time.Hour))
	// Read open first, then closed by the timeout at a revisit.
	l.ApplyInteractions([]wolkvox.Interaction{{CaseID: "r", Channel: "instagram", AgentName: "LUIS", Status: "open", Created: created}}, created.Add(time.Minute))
	l.ApplyInteractions([]wolkvox.Interaction{{CaseID: "r", Channel: "instagram", AgentName: "LUIS", Status: "close", Created: created, Closed: created.Add(23 * time.Hour), CodAct: "timeoutchat"}}, created.Add(24*time.Hour))
	if got := closed(l, "agent"); got != 1 {
		t.Errorf("%v closes by agents, want 1", got)
	}
	if got := closed(l, "timeout"); got != 2 {
		t.Errorf("%v closes by timeout, want 2", got)
	}
	var observed uint64
	for _, h := range l.agg.resolution.values {
		observed += h.count
	}
	if observed != 1 {
		t.Errorf("%d resolution times observed, want the agent's close alone", observed)
	}
	if v := l.agg.agentCloses.values[joinLabels([]string{"ANA", "facebook_page", "timeout"})]; v != 1 {
		t.Errorf("ANA's closes by timeout: %v, want 1", v)
	}
	// The operation's own list.
	own := New(Settings{Interval: time.Minute, TimeoutCodes: []string{"CIERRE_AUTO"}})
	own.ApplyInteractions([]wolkvox.Interaction{{CaseID: "x", Channel: "Email", Status: "close", Created: created, Closed: created.Add(time.Hour), CodAct: "CIERRE_AUTOMATICO"}}, created.Add(2*time.Hour))
	if closed(own, "timeout") != 1 {
		t.Error("a code the operation lists is not taken for a timeout")
	}
}

// A state file saved before closed_by keeps its closes, as closed_by
// "unknown": the counter goes on, and no history is lost on upgrade.
func TestClosesSavedBeforeClosedByAreKept(t *testing.T) {
	h := New(Settings{Interval: time.Minute}).header(t0)
	// The closes as the previous version saved them: two labels.
	h.Counters["chats_closed"] = []savedSeries{{Labels: []string{"Email", "101"}, Value: 7}}
	got := New(Settings{Interval: time.Minute})
	if err := got.restore(h); err != nil {
		t.Fatalf("a header of the previous version: %v", err)
	}
	if v := got.agg.chatsClosed.values[joinLabels([]string{"Email", "101", "unknown"})]; v != 7 {
		t.Errorf("closes kept as unknown: %v, want 7", v)
	}
}

// A state file a later version wrote, with a family this one does not
// know, loads with every family this one does: a rollback keeps its
// counters (the previous version moved such a file aside, history and all).
func TestAFamilyOfALaterVersionIsSkipped(t *testing.T) {
	h := New(Settings{Interval: time.Minute}).header(t0)
	h.Counters["a_later_family"] = []savedSeries{{Labels: []string{"x"}, Value: 3}}
	h.Counters["transfers"] = []savedSeries{{Labels: []string{"transfer", "101"}, Value: 5}}
	got := New(Settings{Interval: time.Minute})
	if err := got.restore(h); err != nil {
		t.Fatalf("a file with a later version's family: %v", err)
	}
	if v := got.agg.transfers.values[joinLabels([]string{"transfer", "101"})]; v != 5 {
		t.Errorf("transfers kept: %v, want 5", v)
	}
}

// The operation's timeout codes add to the platform's TIMEOUT, and a
// zero is no overflow: touching series at the cap counts nothing.
func TestTimeoutCodesAddToTheDefault(t *testing.T) {
	l := New(Settings{Interval: time.Minute, TimeoutCodes: []string{"CIERRE_AUTO"}})
	for i, code := range []string{"CIERRE_AUTO", "TIMEOUTCHAT"} {
		l.ApplyInteractions([]wolkvox.Interaction{{CaseID: string(rune('a' + i)), Channel: "Email", Status: "close", Created: t0, Closed: t0.Add(time.Hour), CodAct: code}}, t0.Add(2*time.Hour))
	}
	if got := closed(l, "timeout"); got != 2 {
		t.Errorf("%v closes by timeout, want both codes' 2", got)
	}
	capped := New(Settings{Interval: time.Minute, MaxSeriesPerMetric: 10})
	for i := range 40 {
		capped.ApplyInteractions([]wolkvox.Interaction{{CaseID: string(rune('A' + i)), Channel: "Email", SkillID: string(rune('A' + i)), Status: "open", Created: t0}}, t0)
	}
	if o := capped.agg.chatsClosed.overflow; o != 0 {
		t.Errorf("closed counter overflow %v with no close at all", o)
	}
}
