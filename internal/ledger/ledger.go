package ledger

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Dedupe memory. Transfers repeat on a window boundary, and up to about an
// hour later when clocks go back (the API selects by wall clock, so
// windows after the change serve the repeated hour's first time round
// again). Cases repeat as they move from open to close, which can take
// days, and as the revisit sweep reads them again: their entries live at
// least as long as the sweep's span, and two days.
const (
	transferKeyRetention = 3 * time.Hour
	caseKeyRetention     = 48 * time.Hour
	maxDedupeKeys        = 2_000_000
)

// ledger is the exactly-once book of one operation: what has been counted
// (dedupe keys and case flags), the counters themselves, and how far each
// report has been read. It is saved whole, atomically, before anything it
// holds is published, so a crash at any point leaves a state file that
// agrees with every value a scrape has seen.
type Ledger struct {
	// Backfilled is set while the marks are a backfill's end that no live
	// poll has read on from: the live exporter then catches up to it
	// however long ago it was (within the API's 31-day window), since the
	// backfill's history is the counters' own and a gap would never fill.
	Backfilled bool

	agg       *Aggregate
	transfers *dedupe[seenEntry]
	cases     *dedupe[caseEntry]
	// marks holds, per report, the end of the last new window whose
	// records were all counted; the next window starts there.
	Marks map[wolkvox.Report]time.Time
	// revisitCursor is where chat_4's next revisit read starts.
	RevisitCursor time.Time
	// origins holds, per report, where its first window started: nothing
	// before it is the exporter's to count, so no revisit or re-read after
	// a clock step reaches before it.
	Origins map[wolkvox.Report]time.Time
	Filter  FilterDiagnosis
	// filterLogged is the verdict last logged, so it is logged once;
	// contradictionLogged, whether evidence against every mode was.
	FilterLogged        string
	ContradictionLogged bool
	// GivenUp is how many open cases following has given up on, since
	// the ledger was made: the poller logs the new ones after each poll.
	GivenUp int
	// Follow is following's schedule: when each age tier was last read
	// through, and the call budget left.
	Follow FollowState
	// poisoned holds the seconds skipped for a poison record (report@unix
	// start -> unix end), so each is counted once however often read.
	Poisoned map[string]int64

	revisit time.Duration // chat_4's revisit horizon
	follow  FollowSettings
	// reach is how far back the revisit sweep reads, and a poll: no case
	// is given up younger, or the sweep would read a close that following
	// off would count.
	reach time.Duration
}

// Settings are what a ledger keeps and for how long.
type Settings struct {
	// AgentMetrics enables the per-agent families; AgentTTL forgets an
	// agent not seen for that long.
	AgentMetrics bool
	AgentTTL     time.Duration
	// MaxSeriesPerMetric caps each family's label combinations; 0 means
	// DefaultMaxSeriesPerMetric.
	MaxSeriesPerMetric int
	// Interval is the poll interval, and Revisit chat_4's revisit horizon:
	// de-duplication keys outlive both.
	Interval, Revisit time.Duration
	// TimeoutCodes are the cod_act prefixes of closes by the platform's
	// timeout; nil: DefaultTimeoutCodes.
	TimeoutCodes []string
	// Follow keeps open cases until they close (see book.go).
	Follow FollowSettings
}

func New(cfg Settings) *Ledger {
	plan := NewRevisitPlan(cfg.Revisit, cfg.Interval)
	return &Ledger{
		agg:       NewAggregate(cfg.AgentMetrics, cfg.AgentTTL, cfg.MaxSeriesPerMetric, cfg.TimeoutCodes),
		transfers: newDedupe[seenEntry](max(transferKeyRetention, 3*cfg.Interval), maxDedupeKeys),
		cases:     newDedupe[caseEntry](max(caseKeyRetention, plan.span+plan.period+3*cfg.Interval), maxDedupeKeys),
		Marks:     map[wolkvox.Report]time.Time{},
		Poisoned:  map[string]int64{},
		Origins:   map[wolkvox.Report]time.Time{},
		revisit:   cfg.Revisit,
		follow:    cfg.Follow,
		reach:     plan.span + cfg.Interval,
		// Nothing to say until the evidence says something.
		FilterLogged: filterUnknown,
	}
}

// prune forgets what is too old to be seen again.
func (l *Ledger) prune(now time.Time) {
	l.transfers.prune(now)
	l.pruneCases(now)
	// Following re-reads creation windows up to the max-age: a poison
	// second is remembered as long, so that it is not isolated and
	// counted again at every pass.
	keep := l.cases.retention
	if l.follow.Enabled {
		keep += l.follow.MaxAge
	}
	cutoff := now.Add(-keep).Unix()
	for k, end := range l.Poisoned {
		if end < cutoff {
			delete(l.Poisoned, k)
		}
	}
}
