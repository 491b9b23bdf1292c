package ledger

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Which date does chat_4 filter on? The vendor does not say (FACTS.md).
// Every response is evidence: a window [a, b] read at time now returns
// only cases whose filter date lies within [a, b], so
//
//   - a case created outside [a, b] rules out date_creation;
//   - an open case, or one closed outside [a, b], rules out close_date;
//   - a case created or closed after b (and so before now) rules out the
//     last change, which would then lie after b too.
//
// What is left is the answer. Under close_date nothing rules out the last
// change, which would return open cases too; after closeOnlyEvidence
// records without a single open one, close_date is taken to be it.
const (
	filterUnknown    = "unknown"
	filterCreation   = "date_creation"
	filterClose      = "close_date"
	filterLastChange = "last_change"
)

// filterLabels are the values of wolkvox_chat_filter_date_info's filter label.
var filterLabels = []string{filterUnknown, filterCreation, filterClose, filterLastChange}

const (
	ruledOutCreation uint8 = 1 << iota
	ruledOutClose
	ruledOutLastChange
)

const closeOnlyEvidence = 1000

// FilterDiagnosis gathers the evidence over the exporter's life.
type FilterDiagnosis struct {
	RuledOut uint8 `json:"ruled_out"`
	Records  int64 `json:"records"` // records with a valid creation date
	Open     int64 `json:"open"`    // of which open
}

// observe weighs one complete response for [from, to] in zone loc.
func (f *FilterDiagnosis) Observe(recs []wolkvox.Interaction, from, to time.Time, loc *time.Location) {
	a, b := wolkvox.WallClock(from, loc), wolkvox.WallClock(to, loc)
	outside := func(t time.Time) bool {
		w := wolkvox.WallClock(t, loc)
		return w.Before(a) || w.After(b)
	}
	for i := range recs {
		c := &recs[i]
		if c.Created.IsZero() {
			continue
		}
		f.Records++
		if outside(c.Created) {
			f.RuledOut |= ruledOutCreation
		}
		if c.Status == "open" {
			f.Open++
		}
		if c.Status == "open" || (c.Closed.IsZero() && c.Status != "close") || (!c.Closed.IsZero() && outside(c.Closed)) {
			f.RuledOut |= ruledOutClose
		}
		if wolkvox.WallClock(c.Created, loc).After(b) || (!c.Closed.IsZero() && wolkvox.WallClock(c.Closed, loc).After(b)) {
			f.RuledOut |= ruledOutLastChange
		}
	}
}

// verdict returns what the evidence says so far.
func (f *FilterDiagnosis) Verdict() string {
	creation := f.RuledOut&ruledOutCreation == 0
	closed := f.RuledOut&ruledOutClose == 0
	last := f.RuledOut&ruledOutLastChange == 0
	switch {
	case creation && !closed && !last:
		return filterCreation
	case !creation && closed && !last:
		return filterClose
	case !creation && !closed && last:
		return filterLastChange
	case !creation && closed && last && f.Open == 0 && f.Records >= closeOnlyEvidence:
		return filterClose
	}
	return filterUnknown
}

// contradictory reports whether the evidence rules out every mode: the
// dates do not match the windows asked for, which a wrong
// --wolkvox.timezone would do.
func (f *FilterDiagnosis) Contradictory() bool {
	return f.RuledOut == ruledOutCreation|ruledOutClose|ruledOutLastChange
}

// CreationLike reports whether following's re-reads can serve: the filter
// is date_creation, or not settled but not close_date (open cases have
// come back) and not ruled out as date_creation. While last_change is
// still possible following reads, and counts nothing wrong there: it only
// counts changes to cases it awaits, once each.
func (f *FilterDiagnosis) CreationLike() bool {
	switch f.Verdict() {
	case filterCreation:
		return true
	case filterUnknown:
		return f.Open > 0 && f.RuledOut&ruledOutCreation == 0
	}
	return false
}
