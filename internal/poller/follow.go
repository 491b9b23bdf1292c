package poller

import (
	"context"
	"time"

	"github.com/go-kit/log/level"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// follow re-reads the creation windows of the cases the book still awaits
// beyond the revisit's reach, tier by tier as each is due, as far as the
// daily budget pays (ledger/follow.go). A pass the budget or a failure
// cuts short goes on at the next poll from where it stopped.
func (p *Poller) follow(ctx context.Context, now time.Time) {
	l := p.ledger
	if !p.cfg.Follow.Enabled {
		return
	}
	if !l.Filter.CreationLike() {
		// Under close-date filtering no open case is ever returned, and
		// a window read again returns other closes than its cases'; under
		// last-change filtering every change comes back in a new window.
		// Following keeps the open cases in the book, and reads nothing.
		if v := l.Filter.Verdict(); v != p.followIdleLogged && v != "unknown" {
			p.followIdleLogged = v
			level.Info(p.logger).Log("msg", "chat_4 filters on "+v+": following open cases has nothing to read again and spends no call; it keeps open cases in the book so the backlog shows them at any age", "report", wolkvox.ReportInteractions)
		}
		return
	}
	report := wolkvox.ReportInteractions
	mark, origin := l.Marks[report], l.Origins[report]
	if mark.IsZero() {
		return
	}
	seenAt := p.end(now)
	reach := mark.Add(-p.plan.Span())
	l.Refill(now)
	for _, work := range l.FollowDue(seenAt, reach, origin) {
		for _, w := range work.Windows {
			// Around the seconds known to hold a poison record, as the
			// revisit does.
			for _, window := range p.withoutPoison(report, w) {
				if !l.Affordable() {
					level.Debug(p.logger).Log("msg", "following waits for its daily budget", "report", report, "tier", work.Tier)
					return
				}
				began := time.Now()
				stats, err := p.client.FetchInteractions(ctx, wolkvox.PurposeFollow, window, func(piece wolkvox.Window, recs []wolkvox.Interaction) error {
					p.observe(piece, recs, seenAt, true)
					l.FollowObserved(len(recs), piece)
					return nil
				})
				l.Spend(stats.Calls)
				p.countPoison(report, stats)
				if err != nil {
					if wolkvox.ReasonOf(err) == wolkvox.ReasonTooLarge {
						// Large e-mails: the API's 256 MB holds fewer of
						// them. The pass goes on at the next poll, from
						// this window, in smaller ones.
						level.Warn(p.logger).Log("msg", "a follow window's response was over the API's size limit; its windows are sized for fewer records from now on", "report", report,
							"records_per_call", l.FollowTooLarge())
					}
					if p.failed(report, err, time.Since(began)) {
						logFailure(p.logger, "following failed; the next poll resumes from the last counted window", err, "report", report,
							"window", p.formatWindow(window), "calls", stats.Calls)
					}
					return
				}
				level.Debug(p.logger).Log("msg", "followed cases read again", "report", report, "tier", work.Tier, "window", p.formatWindow(window), "calls", stats.Calls)
				// Piece by piece: a pass the budget cuts between the
				// pieces of a window goes on from the next one.
				l.FollowRead(work.Tier, window.End)
			}
			l.FollowRead(work.Tier, w.End)
		}
		l.FollowDone(work.Tier, seenAt)
	}
}
