package wolkvoxtest

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// FilterDate is the date the fake's chat_4 selects cases by. The real
// API's is undocumented (see FACTS.md), so the exporter must count right
// under each of these.
type FilterDate int

const (
	// FilterCreation selects cases created within the window.
	FilterCreation FilterDate = iota
	// FilterClose selects cases closed within the window; open and
	// archived cases, which have no close date, are never returned.
	FilterClose
	// FilterLastChange selects cases whose latest change (created,
	// closed, archived, surveyed or typified) lies within the window.
	FilterLastChange
)

func (f FilterDate) String() string {
	switch f {
	case FilterClose:
		return "close_date"
	case FilterLastChange:
		return "last_change"
	}
	return "date_creation"
}

// Case is one chat_4 case's whole life, the ground truth tests compare
// the exporter against. A zero time means the event never happens.
type Case struct {
	ID                          string
	Channel, AgentName, SkillID string
	Created                     time.Time
	Closed                      time.Time // closed by an agent
	Archived                    time.Time // archived without a close
	Surveyed                    time.Time // the customer answered the survey
	Survey                      string    // the score, from Surveyed on
	Typified                    time.Time // cod_act set: at the close or later
	CodAct, CodDescription      string
	BodyBytes                   int
}

// happened reports whether an event at t has happened by now.
func happened(t, now time.Time) bool { return !t.IsZero() && !t.After(now) }

// LastChange returns the case's latest change by now, or the zero time if
// it does not exist yet.
func (c *Case) LastChange(now time.Time) time.Time {
	var last time.Time
	for _, t := range []time.Time{c.Created, c.Closed, c.Archived, c.Surveyed, c.Typified} {
		if happened(t, now) && t.After(last) {
			last = t
		}
	}
	return last
}

// StatusAt returns the case's status at now.
func (c *Case) StatusAt(now time.Time) string {
	switch {
	case happened(c.Closed, now):
		return "close"
	case happened(c.Archived, now):
		return "archived"
	}
	return "open"
}

// At returns the record the API serves for the case at server time now:
// close date, survey and typification only once they have happened, so no
// date in the future is ever served.
func (c *Case) At(now time.Time, loc *time.Location) RawInteraction {
	rng := rand.New(rand.NewPCG(uint64(len(c.ID)), hashString(c.ID)))
	r := RawInteraction{
		Channel: c.Channel, AgentName: c.AgentName, SkillID: c.SkillID, CaseID: c.ID,
		Subject:      "Solicitud " + strconv.Itoa(rng.IntN(100000)),
		From:         "cliente" + strconv.Itoa(rng.IntN(100000)) + "@example.com",
		To:           "servicio@example.com",
		Body:         text(rng, max(c.BodyBytes, 16)),
		DateCreation: c.Created.In(loc).Format(time.DateTime),
		Status:       c.StatusAt(now),
		Comments:     "-",
	}
	if r.Status != "open" {
		r.Answer = text(rng, max(c.BodyBytes/2, 16))
	}
	if happened(c.Closed, now) {
		r.CloseDate = c.Closed.In(loc).Format(time.DateTime)
	}
	if happened(c.Surveyed, now) {
		r.EvaluationSurvey = c.Survey
	}
	if happened(c.Typified, now) {
		r.CodAct, r.CodDescription = c.CodAct, c.CodDescription
	} else {
		r.NoCodDescription = true
	}
	return r
}

// selected reports whether the API, filtering on f, returns the case for
// [from, to] at server time now.
func (c *Case) selected(f FilterDate, now, from, to time.Time, loc *time.Location) bool {
	var date time.Time
	switch f {
	case FilterCreation:
		date = c.Created
	case FilterClose:
		date = c.Closed
	case FilterLastChange:
		date = c.LastChange(now)
	}
	if !happened(date, now) {
		return false
	}
	// By wall clock, as a zone-less DATETIME column compares.
	w := wolkvox.WallClock(date, loc)
	return !w.Before(wolkvox.WallClock(from, loc)) && !w.After(wolkvox.WallClock(to, loc))
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// maxCaseLife bounds how long after its creation a generated case still
// changes: an e-mail closed after 40 h, typified 10 h later. Long-lived
// e-mails (LongEmails) add their own.
const maxCaseLife = 3 * 24 * time.Hour

// LongEmails makes some e-mails live for days, as an e-mail desk's do:
// of the e-mails NewCase closes, Percent close between Min and Max after
// their creation instead, their survey and late typification moving with
// the close. The rest of every case's life is unchanged, and so is every
// other case: the same seed serves the same cases but for these closes.
type LongEmails struct {
	Percent  int
	Min, Max time.Duration
}

// apply moves the close of case i of minute m when it is drawn.
func (le LongEmails) apply(seed uint64, m int64, i int, c *Case) {
	if le.Percent <= 0 || c.Channel != "Email" || c.Closed.IsZero() || le.Max <= le.Min {
		return
	}
	rng := rand.New(rand.NewPCG(seed^0x6c6f6e67656d6c73, uint64(m)<<20|uint64(i)))
	if rng.IntN(100) >= le.Percent {
		return
	}
	closed := c.Created.Add(le.Min + time.Duration(rng.Int64N(int64(le.Max-le.Min)/int64(time.Second)))*time.Second)
	shift := closed.Sub(c.Closed)
	c.Closed = closed
	if !c.Surveyed.IsZero() {
		c.Surveyed = c.Surveyed.Add(shift)
	}
	if !c.Typified.IsZero() {
		c.Typified = c.Typified.Add(shift)
	}
}

// life is how long after its creation a case of l still changes.
func (l *Lifecycles) life() time.Duration {
	return max(maxCaseLife, l.LongEmails.Max+16*time.Hour)
}

// chatChannels are the channels whose cases close within minutes; the
// rest (e-mail) take hours to days.
var channelWeights = []struct {
	channel string
	weight  int
}{{"Email", 40}, {"facebook_page", 25}, {"instagram", 20}, {"twitter", 15}}

// NewCase generates one case created at created, with a realistic life:
// chats close within minutes, or, nearly a third of them, by the
// platform's timeout about 23 h later (TIMEOUTCHAT); e-mails within hours
// to days (some after a day); some cases are archived without a close,
// some stay open; half the closed ones get a survey answer up to 6 h after
// the close; most are typified at the close, a quarter of those hours
// later.
func NewCase(rng *rand.Rand, created time.Time, id string, bodyBytes int) Case {
	c := Case{ID: id, Created: created, BodyBytes: bodyBytes}
	w := rng.IntN(100)
	for _, cw := range channelWeights {
		if w < cw.weight {
			c.Channel = cw.channel
			break
		}
		w -= cw.weight
	}
	c.AgentName = Agents[rng.IntN(len(Agents))].Name
	c.SkillID = Skills[rng.IntN(len(Skills))]
	email := c.Channel == "Email"
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo*60+rng.IntN((hi-lo)*60+1)) * time.Second }
	switch fate := rng.IntN(100); {
	case !email && fate < 30:
		// Nobody typified it: the platform closes it on a timeout about
		// 23 hours after it opened, with cod_act TIMEOUTCHAT (FACTS.md).
		c.Closed = created.Add(23*time.Hour + minutes(0, 20) - 10*time.Minute)
		c.CodAct, c.CodDescription = "TIMEOUTCHAT", "Cierre automático por inactividad"
		c.Typified = c.Closed
	case fate < 80:
		if email {
			c.Closed = created.Add(minutes(30, 40*60))
		} else {
			c.Closed = created.Add(minutes(1, 45))
		}
		if rng.IntN(2) == 0 {
			c.Surveyed = c.Closed.Add(minutes(1, 6*60))
			c.Survey = strconv.Itoa(1 + rng.IntN(5))
		}
		if rng.IntN(100) < 85 {
			code := codes[rng.IntN(len(codes))]
			c.CodAct, c.CodDescription = code.act, code.desc
			c.Typified = c.Closed
			if rng.IntN(4) == 0 {
				c.Typified = c.Closed.Add(minutes(10, 10*60))
			}
		}
	case fate < 88:
		c.Archived = created.Add(minutes(10, 12*60))
	}
	return c
}

// Lifecycles is a Dataset of chat_4 cases that live: each is created,
// then closed, archived or left open, surveyed and typified on its own
// timeline, and served as it stands at the server's time. Cases are
// generated deterministically per minute of creation from Seed, so any
// window can be served, in any order, as often as asked. Transfers are
// not its business: it serves none.
type Lifecycles struct {
	Seed      uint64
	Location  *time.Location
	PerMinute int // mean cases created per minute
	BodyBytes int // approximate body size; default 256
	FilterOn  FilterDate
	// LongEmails, when set, makes some e-mails live for days.
	LongEmails LongEmails
	// CreatedUntil, when set, is when the operation stops taking new
	// cases: none is created after it, so that every life ends and a test
	// can compare its counts with the truth exactly.
	CreatedUntil time.Time
	// Extra cases, written by hand, are served with the generated ones.
	Extra []Case

	mu    sync.Mutex
	cache map[int64][]Case // generated cases by minute of creation
}

func (l *Lifecycles) loc() *time.Location { return orUTC(l.Location) }

// Transfers returns nothing: Lifecycles is about chat_4.
func (l *Lifecycles) Transfers(from, to time.Time) []RawTransfer { return nil }

// Interactions returns the cases the API would return for [from, to] at
// server time now, each as it stands at now.
func (l *Lifecycles) Interactions(now, from, to time.Time) []RawInteraction {
	var out []RawInteraction
	l.each(now, from, to, func(c *Case) {
		if c.selected(l.FilterOn, now, from, to, l.loc()) {
			out = append(out, c.At(now, l.loc()))
		}
	})
	return out
}

// Cases returns every case created within [from, to], generated and
// extra: the ground truth, whatever has happened to them so far.
func (l *Lifecycles) Cases(from, to time.Time) []Case {
	var out []Case
	l.each(to, from, to, func(c *Case) {
		if !c.Created.Before(from) && !c.Created.After(to) {
			out = append(out, *c)
		}
	})
	return out
}

// each calls fn for every case that may be selected for [from, to] at now:
// those created from the longest life before from (unless the filter is the
// creation date) up to to, and not after now.
func (l *Lifecycles) each(now, from, to time.Time, fn func(*Case)) {
	first := from
	if l.FilterOn != FilterCreation {
		first = from.Add(-l.life())
	}
	last := to
	if now.Before(last) {
		last = now
	}
	if !l.CreatedUntil.IsZero() && l.CreatedUntil.Before(last) {
		last = l.CreatedUntil
	}
	for i := range l.Extra {
		if c := &l.Extra[i]; !c.Created.Before(first) && !c.Created.After(last) {
			fn(c)
		}
	}
	if l.PerMinute <= 0 {
		return
	}
	for m := first.Unix() / 60; m <= last.Unix()/60; m++ {
		cases := l.minute(m, from)
		for i := range cases {
			if c := &cases[i]; !c.Created.Before(first) && !c.Created.After(last) {
				fn(c)
			}
		}
	}
}

// minute returns the cases created in minute m, generating them once.
// Minutes too old to matter for a request at from are evicted, so memory
// stays bounded in a long-running demo.
func (l *Lifecycles) minute(m int64, from time.Time) []Case {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cache == nil {
		l.cache = map[int64][]Case{}
	}
	if cases, ok := l.cache[m]; ok {
		return cases
	}
	maxCached := int64(2 * l.life() / time.Minute)
	if int64(len(l.cache)) > maxCached {
		horizon := from.Add(-l.life()).Unix() / 60
		for k := range l.cache {
			if k < horizon {
				delete(l.cache, k)
			}
		}
	}
	rng := rand.New(rand.NewPCG(l.Seed^0x6c6966656379636c, uint64(m)))
	start := time.Unix(m*60, 0)
	n := vary(rng, l.PerMinute)
	cases := make([]Case, n)
	for i := range n {
		created := start.Add(time.Duration(rng.IntN(60)) * time.Second)
		cases[i] = NewCase(rng, created, strconv.FormatInt(m*1000+int64(i), 10), l.BodyBytes)
		l.LongEmails.apply(l.Seed, m, i, &cases[i])
	}
	l.cache[m] = cases
	return cases
}
