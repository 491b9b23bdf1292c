package poller

import (
	"sync/atomic"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// PlannedCallsPerDay is what an operation's polling plans to spend of its
// daily token quota, as the README's "Cost" computes it: one call per
// report per poll (86400/interval × 2), plus chat_4's revisit calls,
// 86400/(every × interval) with every = max(1, round((horizon/8) /
// (12 × interval))), plus following's daily budget, the most it may
// spend (ledger/follow.go). Splits at the record cap, retries and a failed
// revisit's retry at the next poll come on top. It reads the revisit
// schedule the poller itself follows (ledger.NewRevisitPlan), so the figure a
// page shows cannot drift from the calls the poller makes.
func PlannedCallsPerDay(cfg Config) float64 {
	p := PlanOf(cfg)
	return p.NewWindows + p.Revisits + p.Follow + p.Realtime
}

// Plan is what an operation's settings plan to spend a day, by purpose.
type Plan struct {
	NewWindows, Revisits float64
	// Follow is following's budget, the most it may spend.
	Follow float64
	// Realtime is the snapshots and token_info.
	Realtime float64
}

// PlanOf is cfg's plan, by purpose (see PlannedCallsPerDay).
func PlanOf(cfg Config) Plan {
	if cfg.Interval <= 0 {
		return Plan{}
	}
	day := float64(24 * time.Hour)
	p := Plan{
		NewWindows: day / float64(cfg.Interval) * float64(len(wolkvox.Reports)),
		Revisits:   ledger.NewRevisitPlan(cfg.Revisit, cfg.Interval).CallsPerDay(cfg.Interval),
		Realtime:   cfg.Realtime.callsPerDay(),
	}
	if cfg.Follow.Enabled {
		p.Follow = float64(cfg.Follow.CallsPerDay)
	}
	return p
}

// schedule holds when a poller's next poll is due, for the landing page.
// It is apart from the poll's mutex, which a poll holds for minutes
// through retries: the page must not wait for it.
type schedule struct {
	next atomic.Int64 // Unix nanoseconds; 0 while a poll runs
}

func (s *schedule) polling()          { s.next.Store(0) }
func (s *schedule) dueAt(t time.Time) { s.next.Store(t.UnixNano()) }
func (s *schedule) nextPoll() time.Time {
	if n := s.next.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// NextPoll is when the next poll is due; zero while one runs.
func (p *Poller) NextPoll() time.Time { return p.sched.nextPoll() }
