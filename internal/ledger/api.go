package ledger

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// What a poller or a backfill does to a ledger. The ledger is plain data:
// these run on its owner's goroutine, with no I/O and no clock of its own.

// ApplyTransfers counts agent_13_1 records seen in a window ending at end;
// window collects the window's keys and type_calls for SetWindowTransfers.
func (l *Ledger) ApplyTransfers(recs []wolkvox.Transfer, end time.Time, window map[uint64]string) {
	l.agg.applyTransfers(l.transfers, recs, end, window)
}

// SetWindowTransfers makes the latest window's transfers by type_call
// those collected in window.
func (l *Ledger) SetWindowTransfers(window map[uint64]string) {
	clear(l.agg.windowTransfers)
	for _, tc := range window {
		l.agg.windowTransfers[tc]++
	}
}

// ApplyInteractions counts chat_4 records seen at seenAt: new cases and
// every change to a known one, once each.
func (l *Ledger) ApplyInteractions(recs []wolkvox.Interaction, seenAt time.Time) {
	l.agg.applyInteractions(l.cases, recs, seenAt, nil)
}

// ApplyFollowed counts the changes to the cases following waits on, in
// records of a window read again for them. Every other record is only
// seen again: a case the book no longer holds was counted and forgotten
// (or is older than the exporter), and counting it would count it twice.
func (l *Ledger) ApplyFollowed(recs []wolkvox.Interaction, seenAt time.Time) {
	now := seenAt.Unix()
	l.agg.applyInteractions(l.cases, recs, seenAt, func(e caseEntry) bool { return l.held(e, now) })
}

// AddSkipped counts seconds of report never fetched (an outage longer
// than the catch-up).
func (l *Ledger) AddSkipped(seconds float64, report wolkvox.Report) {
	l.agg.skipped.add(seconds, string(report))
}

// AddPoisoned counts seconds of report skipped for a poison record.
func (l *Ledger) AddPoisoned(seconds float64, report wolkvox.Report) {
	l.agg.poisoned.add(seconds, string(report))
}

// ForgetIdleAgents drops agents not seen for the agent TTL from the
// per-agent families, when those are on.
func (l *Ledger) ForgetIdleAgents(now time.Time) {
	if l.agg.agentsEnabled {
		l.agg.forgetIdleAgents(now)
	}
}

// Prune forgets what is too old to be seen again.
func (l *Ledger) Prune(now time.Time) { l.prune(now) }

// TransferKeyRetention is how far back transfers are recognised: a re-read
// after a clock step reaches no further.
func (l *Ledger) TransferKeyRetention() time.Duration { return l.transfers.retention }

// Retune applies settings to a ledger made with others, keeping what it
// counted: a reload that changes an operation continues its ledger.
func (l *Ledger) Retune(s Settings) {
	fresh := New(s)
	l.transfers.retention, l.cases.retention = fresh.transfers.retention, fresh.cases.retention
	l.agg.agentsEnabled, l.agg.agentTTL = fresh.agg.agentsEnabled, fresh.agg.agentTTL
	l.agg.timeoutCodes = fresh.agg.timeoutCodes
	l.revisit, l.follow, l.reach = fresh.revisit, fresh.follow, fresh.reach
}

// Checkpoint is where both reports have been read to (the earlier mark),
// or the zero time before the first window: a backfill's checkpoint.
func (l *Ledger) Checkpoint() time.Time {
	t, c := l.Marks[wolkvox.ReportTransfers], l.Marks[wolkvox.ReportInteractions]
	if t.IsZero() || c.IsZero() {
		return time.Time{}
	}
	if c.Before(t) {
		return c
	}
	return t
}

// CaseEntries is how many cases the ledger remembers.
func (l *Ledger) CaseEntries() int { return len(l.cases.seen) }

// Horizon is the revisit horizon; 0 when revisiting is off.
func (p RevisitPlan) Horizon() time.Duration { return p.horizon }

// Every is how many polls pass between revisit calls.
func (p RevisitPlan) Every() int { return max(p.every, 1) }

// Count, Sum, Bounds and Cumulative read a histogram for rendering.
func (h *Histogram) Count() uint64     { return h.count }
func (h *Histogram) Sum() float64      { return h.sum }
func (h *Histogram) Bounds() []float64 { return h.bounds }

// Span is how far behind the new windows a revisit sweep starts: the
// horizon and one sweep's period.
func (p RevisitPlan) Span() time.Duration { return p.span }

// OrNone is a label value for s: "none" when it is empty, as every family
// writes a missing value.
func OrNone(s string) string { return orNone(s) }
