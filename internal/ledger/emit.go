package ledger

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Sink receives the series a ledger holds: a scrape's constant metrics,
// or a backfill's timestamped samples. labels are the values of the
// family's Labels, in order.
type Sink interface {
	Value(f *Family, v float64, labels []string)
	// Histogram is one histogram series, or a summary's when h has no
	// buckets.
	Histogram(f *Family, h *Histogram, labels []string)
}

// RenderSettings are the configured values a ledger's rendering exports.
type RenderSettings struct {
	Interval, Revisit time.Duration
	DailyQuota        float64
	// PlannedCalls is the calls a day the settings plan to spend.
	PlannedCalls float64
	// OpenTarget is the age by which an open case should be closed;
	// FollowCallsPerDay, following's daily budget (0: off).
	OpenTarget        time.Duration
	FollowCallsPerDay int
}

// Emit sends every series of the ledger to sink, as a scrape at now would
// see them. Known label values (the documented type_calls and channels)
// are sent at 0 before they first occur, so that rate() sees the first
// increase.
func (l *Ledger) Emit(now time.Time, set RenderSettings, sink Sink) {
	a := l.agg
	byName := map[string]*Family{}
	cat := Catalogue()
	for i := range cat {
		byName[cat[i].Name] = &cat[i]
	}
	gauge := func(name string, v float64, labels ...string) { sink.Value(byName[name], v, labels) }

	// Transfers: every documented type_call at 0 for every skill seen.
	transfers := &cat[0]
	skills := map[string]bool{noneLabel: true}
	for k := range a.transfers.values {
		skills[splitLabels(k)[1]] = true
	}
	// The zeros count against the series cap too.
	series := len(a.transfers.values)
	for skill := range skills {
		for _, tc := range wolkvox.TypeCalls {
			if _, ok := a.transfers.values[joinLabels([]string{tc, skill})]; !ok && series < a.transfers.max {
				sink.Value(transfers, 0, []string{tc, skill})
				series++
			}
		}
	}
	// Every family of counted data.
	for i := range cat {
		f := &cat[i]
		switch {
		case f.counter != nil:
			for k, v := range f.counter(a).values {
				sink.Value(f, v, splitLabels(k))
			}
		case f.histogram != nil:
			for k, h := range f.histogram(a).values {
				sink.Histogram(f, h, splitLabels(k))
			}
		}
	}
	for id, seen := range a.agents {
		if seen.name != "" && id != otherLabel {
			gauge(AgentInfo, 1, id, seen.name)
		}
	}
	for code, description := range a.typificationInfo {
		gauge(TypificationInfo, 1, code, description)
	}
	reach := l.Marks[wolkvox.ReportInteractions].Add(-NewRevisitPlan(set.Revisit, set.Interval).Span())
	b := l.backlog(now, set.Revisit, set.OpenTarget, reach)
	for k, v := range b.open {
		gauge(OpenChats, v, k.channel, k.skill)
	}
	for ch, age := range b.oldest {
		gauge(OldestOpen, age, ch)
	}
	for ch, counts := range b.olderThan {
		for i, band := range ageBands() {
			gauge(OpenOlderThan, counts[i], ch, bandLabel(band))
		}
	}
	if set.OpenTarget > 0 {
		for ch, v := range b.pastTarget {
			gauge(OpenPastTarget, v, ch)
		}
		gauge(TargetOpenAge, set.OpenTarget.Seconds())
	}
	gauge(OpenStaleness, b.staleness)
	gauge(FollowedChats, b.followed)
	gauge(FollowCallsPerDay, float64(set.FollowCallsPerDay))
	verdict := l.Filter.Verdict()
	for _, f := range filterLabels {
		gauge(FilterInfo, boolValue(f == verdict), f)
	}

	// The latest agent_13_1 window.
	for _, tc := range wolkvox.TypeCalls {
		gauge(WindowTransfers, a.windowTransfers[tc], tc)
	}
	for tc, v := range a.windowTransfers {
		if !a.typeCalls.known[tc] {
			gauge(WindowTransfers, v, tc)
		}
	}
	for name, f := range a.families() {
		sink.Value(byName[SeriesOverflow], f.overflow, []string{name})
	}

	gauge(PollInterval, set.Interval.Seconds())
	gauge(RevisitHorizon, set.Revisit.Seconds())
	if set.PlannedCalls > 0 {
		gauge(PlannedCalls, set.PlannedCalls)
	}
	if set.DailyQuota > 0 {
		gauge(DailyQuota, set.DailyQuota)
	}
}

type chatKey struct{ channel, skill string }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
