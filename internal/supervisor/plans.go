package supervisor

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
)

// OperationPlan is what the landing page shows of an operation's polling
// plan.
type OperationPlan struct {
	Interval time.Duration
	// NextPoll is when the next poll is due; zero while one runs.
	NextPoll time.Time
	// CallsPerDay is PlannedCallsPerDay of the operation's settings;
	// DailyQuota its quota, 0 when unknown.
	CallsPerDay, DailyQuota float64
}

// Plans returns each operation's polling plan, by name.
func (r *Supervisor) Plans() map[string]OperationPlan {
	out := map[string]OperationPlan{}
	for _, o := range r.operations() {
		out[o.cfg.Operation] = OperationPlan{
			Interval: o.cfg.Interval, NextPoll: o.poller.NextPoll(),
			CallsPerDay: poller.PlannedCallsPerDay(o.cfg), DailyQuota: o.cfg.DailyQuota,
		}
	}
	return out
}
