package wolkvoxtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Agents is the generator's staff: upper case, with accents and ñ, as real
// operations write them.
var Agents = []struct{ ID, Name string }{
	{"12462", "SERGIO FLÓREZ"}, {"12463", "COM-CAMILO PATIÑO"}, {"12470", "MARÍA JOSÉ MUÑOZ"},
	{"12471", "ANDRÉS GÓMEZ"}, {"12480", "LUZ ÁNGELA PEÑA"}, {"12481", "JOSÉ NÚÑEZ"},
	{"12490", "VALENTINA RAMÍREZ"}, {"12491", "JULIÁN CASTAÑO"}, {"12500", "SOFÍA BOLÍVAR"},
	{"12501", "NICOLÁS OCAMPO"}, {"12510", "DANIELA ZÚÑIGA"}, {"12511", "HERNÁN DÍAZ"},
}

// Skills are the skill ids the generator uses; "-" means none.
var Skills = []string{"101", "102", "205", "-"}

var codes = []struct{ act, desc string }{
	{"10", "VENTA EFECTIVA"}, {"11", "RECLAMO FACTURACIÓN"}, {"12", "SOPORTE TÉCNICO"}, {"13", "SOLICITUD DE INFORMACIÓN"},
}

var words = strings.Fields(`hola buenos días quisiera saber el estado de mi pedido número factura
	gracias por su atención cordial saludo envío adjunto la información solicitada
	el servicio presenta fallas desde ayer en la mañana por favor revisar con urgencia`)

// Spike adds PerMinute extra records of one type_call and skill to every
// minute in [Start, End), and, when Every is set, to the same span
// repeated every Every after it.
type Spike struct {
	Start, End time.Time
	Every      time.Duration
	TypeCall   string
	SkillID    string
	PerMinute  int
}

// covers reports whether the minute starting at t is in the spike.
func (s *Spike) covers(t time.Time) bool {
	if t.Before(s.Start) {
		return false
	}
	if s.Every > 0 {
		t = t.Add(-t.Sub(s.Start) / s.Every * s.Every) // into the first span
	}
	return t.Before(s.End)
}

// Traffic generates records deterministically: the records of a minute
// depend only on the seed and the minute, so any window can be served, in
// any order, as often as asked. Transfers never change once made; chat_4
// cases live, as Lifecycles makes them. It implements Dataset.
type Traffic struct {
	Seed                  uint64
	Location              *time.Location
	TransfersPerMinute    int // mean; 0 means none
	InteractionsPerMinute int // mean; 0 means none
	BodyBytes             int // approximate size of body and answer; default 2 KB
	// FilterOn is the date chat_4 selects cases by.
	FilterOn FilterDate
	// LongEmails, when set, makes some e-mails live for days.
	LongEmails LongEmails
	// AgentCount, when set, draws transfer agents from that many made-up
	// agents instead of the dozen in Agents, for a large operation.
	AgentCount int

	mu     sync.Mutex
	spikes []Spike
	cases  *Lifecycles
}

// AddSpike adds extra transfer records to a time range, e.g. to fire an alert.
func (t *Traffic) AddSpike(s Spike) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.spikes = append(t.spikes, s)
}

func (t *Traffic) loc() *time.Location { return orUTC(t.Location) }

// Transfers returns the records dated within [from, to], both inclusive.
func (t *Traffic) Transfers(from, to time.Time) []RawTransfer {
	t.mu.Lock()
	spikes := append([]Spike(nil), t.spikes...)
	t.mu.Unlock()
	var out []RawTransfer
	t.eachMinute(from, to, func(minute int64, rng *rand.Rand) {
		start := t.minuteStart(minute)
		add := func(rec RawTransfer) { out = appendIfWithin(out, rec, rec.Date, from, to, t.loc()) }
		// Base traffic first, so that adding spikes never changes it.
		for i := range vary(rng, t.TransfersPerMinute) {
			rec := NewTransfer(rng, start, i)
			if t.AgentCount > 0 {
				id := 20000 + rng.IntN(t.AgentCount)
				rec.OriginAgentID, rec.OriginAgentName = strconv.Itoa(id), "AGENTE "+strconv.Itoa(id)
				if rec.DestinyAgentID != "-" {
					id = 20000 + rng.IntN(t.AgentCount)
					rec.DestinyAgentID, rec.DestinyAgentName = strconv.Itoa(id), "AGENTE "+strconv.Itoa(id)
				}
			}
			add(rec)
		}
		for si, s := range spikes {
			if !s.covers(start) {
				continue
			}
			for i := range s.PerMinute {
				rec := NewTransfer(rng, start, 10000*(si+1)+i)
				rec.TypeCall, rec.SkillID = s.TypeCall, s.SkillID
				add(rec)
			}
		}
	})
	return out
}

// Interactions returns the chat_4 cases the API would return for
// [from, to] at server time now, each as it stands then: cases live (see
// Lifecycles), created at InteractionsPerMinute.
func (t *Traffic) Interactions(now, from, to time.Time) []RawInteraction {
	return t.lifecycles().Interactions(now, from, to)
}

// Cases returns the ground truth of the cases created within [from, to].
func (t *Traffic) Cases(from, to time.Time) []Case {
	return t.lifecycles().Cases(from, to)
}

func (t *Traffic) lifecycles() *Lifecycles {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cases == nil {
		t.cases = &Lifecycles{Seed: t.Seed, Location: t.Location, PerMinute: t.InteractionsPerMinute, BodyBytes: t.BodyBytes, FilterOn: t.FilterOn, LongEmails: t.LongEmails}
	}
	return t.cases
}

func (t *Traffic) minuteStart(minute int64) time.Time {
	return time.Unix(minute*60, 0).In(t.loc())
}

func (t *Traffic) eachMinute(from, to time.Time, fn func(int64, *rand.Rand)) {
	for m := from.Unix() / 60; m <= to.Unix()/60; m++ {
		fn(m, rand.New(rand.NewPCG(t.Seed, uint64(m))))
	}
}

// appendIfWithin appends rec when date falls within [from, to] on the wall
// clock of loc, as a zone-less DATETIME column compares: where clocks go
// back, an hour that happens twice is one range, holding the records of
// both times round. A record whose date does not parse is served with every
// window, as a broken backend might, so tests can send bad dates.
func appendIfWithin[T any](out []T, rec T, date string, from, to time.Time, loc *time.Location) []T {
	d, err := time.Parse(time.DateTime, date)
	if err == nil && (d.Before(wolkvox.WallClock(from, loc)) || d.After(wolkvox.WallClock(to, loc))) {
		return out
	}
	return append(out, rec)
}

// vary returns a count around mean, so traffic looks alive.
func vary(rng *rand.Rand, mean int) int {
	if mean <= 0 {
		return 0
	}
	return mean/2 + rng.IntN(mean+1)
}

// NewTransfer generates one agent_13_1 record in the minute starting at
// minute; seq makes its conn_id_transfer unique within the minute.
func NewTransfer(rng *rand.Rand, minute time.Time, seq int) RawTransfer {
	origin := Agents[rng.IntN(len(Agents))]
	date := minute.Add(time.Duration(rng.IntN(60)) * time.Second)
	r := RawTransfer{
		ConnIDTransfer:  fmt.Sprintf("%s.%04d.%d.%d", origin.ID, seq%10000, minute.Unix(), seq),
		SkillID:         Skills[rng.IntN(len(Skills))],
		Date:            date.Format(time.DateTime),
		ANI:             fmt.Sprintf("57300%07d", rng.IntN(10_000_000)),
		OriginAgentID:   origin.ID,
		OriginAgentName: origin.Name,
		DestinyAgentID:  "-",
		DNIS:            fmt.Sprintf("57604%07d", rng.IntN(10_000_000)),
		Time:            fmt.Sprintf("%02d:%02d:%02d", rng.IntN(2), rng.IntN(60), rng.IntN(60)),
		TypeCall:        wolkvox.TypeCalls[rng.IntN(len(wolkvox.TypeCalls))],
		IDCallOrigin:    fmt.Sprintf("%s.0277.%d.%d", origin.ID, date.Unix(), rng.IntN(100000)),
	}
	if rng.IntN(4) != 0 { // most legs have a destination agent
		d := Agents[rng.IntN(len(Agents))]
		r.DestinyAgentID, r.DestinyAgentName = d.ID, d.Name
	}
	return r
}

// NewInteraction generates one chat_4 record created in the minute
// starting at minute, with case id caseID and body and answer of about
// bodyBytes each (2 KB when 0).
func NewInteraction(rng *rand.Rand, minute time.Time, caseID int64, bodyBytes int) RawInteraction {
	if bodyBytes <= 0 {
		bodyBytes = 2048
	}
	created := minute.Add(time.Duration(rng.IntN(60)) * time.Second)
	code := codes[rng.IntN(len(codes))]
	r := RawInteraction{
		Channel:      wolkvox.Channels[rng.IntN(len(wolkvox.Channels))],
		AgentName:    Agents[rng.IntN(len(Agents))].Name,
		SkillID:      Skills[rng.IntN(len(Skills))],
		CaseID:       strconv.FormatInt(caseID, 10),
		Subject:      "Solicitud " + strconv.Itoa(rng.IntN(100000)),
		From:         fmt.Sprintf("cliente%d@example.com", rng.IntN(100000)),
		To:           "servicio@example.com",
		Body:         text(rng, bodyBytes),
		Answer:       text(rng, bodyBytes/2+bodyBytes/2*rng.IntN(2)),
		DateCreation: created.Format(time.DateTime),
		CodAct:       code.act, CodDescription: code.desc,
		NoCodDescription: rng.IntN(3) == 0,
		Comments:         "cliente satisfecho",
		Status:           wolkvox.Statuses[rng.IntN(len(wolkvox.Statuses))],
	}
	if r.Status != "open" {
		r.CloseDate = created.Add(time.Duration(1+rng.IntN(7200)) * time.Second).Format(time.DateTime)
		if rng.IntN(2) == 0 {
			r.EvaluationSurvey = strconv.Itoa(1 + rng.IntN(10))
		}
	}
	return r
}

func text(rng *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
