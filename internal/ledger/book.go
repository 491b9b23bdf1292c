package ledger

import (
	"strconv"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// The case book's retention. Every case stays in the book while it can
// still be read again by a new window or the revisit sweep (two days,
// or the sweep's span, since last read). With following on, a case the
// exporter still waits on stays longer, however long since its last read:
//
//   - an open case, until it is seen closed or archived, or until it is
//     older than the follow max-age: then it is given up, counted in
//     wolkvox_chat_follow_given_up_total once, and kept only as a mark
//     (pruneCases); its close, should it ever come, is never counted;
//   - a case seen closed, for the settle time after (the revisit horizon,
//     or a day), unless it is already surveyed and typified: surveys and
//     late typifications come hours after the close.
//
// The book is what the open gauges count, so they count every case held
// open, whatever its age; each case is as fresh as its last read.

// FollowSettings configure following open cases.
type FollowSettings struct {
	// Enabled keeps open cases in the book until they close or reach
	// MaxAge, and re-reads the windows that hold them.
	Enabled bool
	MaxAge  time.Duration
	// CallsPerDay is the daily budget of follow calls.
	CallsPerDay int
}

// DefaultFollowMaxAge is --chat.follow.max-age's default: two weeks, well
// past the 48- and 72-hour targets of e-mail desks.
const DefaultFollowMaxAge = 14 * 24 * time.Hour

// DefaultFollowCallsPerDay is --chat.follow.max-calls-per-day's default.
const DefaultFollowCallsPerDay = 288

// settle is how long a case seen closed stays followed, for its survey
// and a late typification.
func (l *Ledger) settle() time.Duration {
	if l.revisit > 0 {
		return l.revisit
	}
	return 24 * time.Hour
}

// maxAge is the age at which a case is given up: the configured max-age,
// and never less than the revisit sweep's reach.
func (l *Ledger) maxAge() time.Duration { return max(l.follow.MaxAge, l.reach) }

// held reports whether following keeps e in the book at now (Unix
// seconds), whenever it was last read.
func (l *Ledger) held(e caseEntry, now int64) bool {
	if !l.follow.Enabled || e.created == 0 || e.flags&seenGivenUp != 0 || int64(e.created) < now-int64(l.maxAge()/time.Second) {
		return false
	}
	if e.open() {
		return true
	}
	if e.flags&seenClosed == 0 || e.flags&(seenSurvey|seenTypified) == seenSurvey|seenTypified {
		return false // archived, or nothing left to change
	}
	return e.done == 0 || int64(e.done) >= now-int64(l.settle()/time.Second)
}

// pruneCases forgets the cases that are neither held nor recently read,
// giving up, once each, on those still open past the follow max-age. A
// case given up stays as a tombstone until twice the max-age after its
// creation: a revisit, or under last-change filtering a new window, may
// still return it, and it must be seen again, not counted anew.
func (l *Ledger) pruneCases(now time.Time) {
	d := l.cases
	unix := now.Unix()
	cutoff := now.Add(-d.retention).Unix()
	maxAge := int64(l.maxAge() / time.Second)
	var gaveUp int
	for k, e := range d.seen {
		switch {
		case l.held(e, unix):
			continue
		case e.flags&seenGivenUp != 0:
			if int64(e.created) < unix-2*maxAge && e.lastSeen() < cutoff {
				delete(d.seen, k)
			}
		case l.follow.Enabled && e.open() && e.created != 0 && int64(e.created) < unix-maxAge:
			// Open past the max-age: given up, whenever last read.
			labels := l.agg.caseLabels.get(e.labels)
			l.agg.givenUp.add(1, labels.channel, labels.skill)
			gaveUp++
			e.flags |= seenGivenUp
			d.seen[k] = e
		case e.lastSeen() < cutoff:
			delete(d.seen, k)
		}
	}
	l.GivenUp += gaveUp
	d.bound() // the count bound alone: retention is decided above
}

// ageBands are the ages the open cases are counted past, the older_than
// label of wolkvox_chat_open_older_than_interactions.
func ageBands() []time.Duration {
	return []time.Duration{24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour}
}

// backlog is what the open gauges show at now.
type backlog struct {
	open       map[chatKey]float64
	oldest     map[string]float64   // by channel
	olderThan  map[string][]float64 // by channel, one count per age band
	pastTarget map[string]float64   // by channel
	staleness  float64              // seconds since the least recent read of an open case
	followed   float64              // held cases created before the revisit's reach
}

// backlog counts the cases held open. With following on, that is every
// open case the book holds, whatever its age (up to the max-age); without
// it, only those created within the horizon, as the book forgets the rest
// without their close. target, when > 0, is the age past which a case is
// counted in pastTarget; reach is where the revisit sweep starts.
func (l *Ledger) backlog(now time.Time, horizon, target time.Duration, reach time.Time) backlog {
	if horizon <= 0 {
		horizon = 24 * time.Hour
	}
	unix := now.Unix()
	bands := ageBands()
	since := now.Add(-horizon).Unix()
	if l.follow.Enabled {
		since = now.Add(-l.maxAge()).Unix()
	}
	b := backlog{open: map[chatKey]float64{}, oldest: map[string]float64{}, olderThan: map[string][]float64{}, pastTarget: map[string]float64{}}
	for _, ch := range wolkvox.Channels {
		b.open[chatKey{ch, noneLabel}] = 0
		b.oldest[ch] = 0
		b.olderThan[ch] = make([]float64, len(bands))
		b.pastTarget[ch] = 0
	}
	// Only where following reads: under close-date or last-change
	// filtering it keeps cases, and reads none of them again.
	reads := l.Filter.CreationLike()
	for _, e := range l.cases.seen {
		if reads && l.held(e, unix) && int64(e.created) < reach.Unix() {
			b.followed++
		}
		if !e.open() || e.created == 0 || e.flags&seenGivenUp != 0 || int64(e.created) < since {
			continue
		}
		k := l.agg.caseLabels.get(e.labels)
		b.open[k]++
		age := float64(unix - int64(e.created))
		if age > b.oldest[k.channel] {
			b.oldest[k.channel] = age
		}
		counts := b.olderThan[k.channel]
		if counts == nil {
			counts = make([]float64, len(bands))
			b.olderThan[k.channel] = counts
		}
		for i, band := range bands {
			if age > band.Seconds() {
				counts[i]++
			}
		}
		// Past the target only when its last read saw it open past the
		// target: a stale read never raises the alert for a case that
		// may have closed in time.
		if target > 0 && l.follow.Enabled && float64(int64(e.at)-int64(e.created)) > target.Seconds() {
			b.pastTarget[k.channel]++
		}
		if reads || !l.follow.Enabled {
			// Under last-change filtering a case not read again has not
			// changed: its figures are not stale.
			b.staleness = max(b.staleness, float64(unix-e.lastSeen()))
		}
	}
	return b
}

// bandLabel is an age band's older_than label: hours, as targets are
// written ("48h").
func bandLabel(d time.Duration) string { return strconv.Itoa(int(d/time.Hour)) + "h" }
