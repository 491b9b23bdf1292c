package wolkvoxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Realtime generates the real-time API's snapshots deterministically: the
// rows at a moment depend only on the seed, the configuration and the
// moment, so a test can ask what was served at any time. It implements
// Snapshots.
//
// Skills: calls arrive all day (few at night, most from 08:00 to 18:00);
// stat_inbound, stat_answer and stat_abandon count them since the
// operation's midnight, when they reset. During a spike of Traffic that
// covers a skill (its SkillID, or every skill when that is "" or "-"),
// the skill's calls arrive faster, its queue grows minute by minute, more
// callers abandon and fewer calls are answered within the thresholds, so
// the day's service level falls.
//
// Agents: each works one shift a day, starting between 06:00 and 18:00
// (or, AroundTheClock, one of three 8-hour shifts), and is listed only
// during it. It moves between READY, RING, INBOUND,
// ACW, OUTBOUND, INTERNAL and the auxiliary states (LUNCH once a shift,
// the others now and then); during a spike it waits less in READY. Its
// counters and times run since the shift's start.
type Realtime struct {
	Seed     uint64
	Location *time.Location // the operation's zone: its midnight resets counters; default UTC
	Skills   int            // how many skills; default 4
	Agents   int            // how many agents; default 12
	// Traffic, when set, lends its spikes (Traffic.AddSpike).
	Traffic *Traffic
	// AuxStates are the operation's auxiliary states; default
	// DefaultAuxStates. LUNCH, when among them, is taken once a shift.
	AuxStates []string
	// ServiceTime, when > 0, adds service_level_{ServiceTime}seg, as the
	// API does for services_time; the API then sends no service_level_0seg.
	ServiceTime int
	// AroundTheClock staffs three 8-hour shifts (from midnight, 08:00 and
	// 16:00, a third of the agents each) instead of day shifts, so that
	// some agents are on shift at every hour: the demo runs whenever it is
	// started, and its agent panels must never be empty.
	AroundTheClock bool
}

// DefaultAuxStates are the generator's auxiliary states, with the accents
// operations write them with.
var DefaultAuxStates = []string{"BREAK", "LUNCH", "CAPACITACIÓN", "BAÑO", "REUNIÓN"}

// AgentStatuses are the states the generator uses besides the auxiliary ones.
var AgentStatuses = []string{"READY", "RING", "INBOUND", "ACW", "OUTBOUND", "INTERNAL"}

var skillNames = []string{"VENTAS", "SOPORTE TÉCNICO", "FACTURACIÓN", "COBRANZA", "ATENCIÓN AL CLIENTE", "POSVENTA"}

func (r *Realtime) loc() *time.Location { return orUTC(r.Location) }

func (r *Realtime) skillCount() int {
	if r.Skills <= 0 {
		return 4
	}
	return r.Skills
}

func (r *Realtime) agentCount() int {
	if r.Agents <= 0 {
		return 12
	}
	return r.Agents
}

func (r *Realtime) auxStates() []string {
	if len(r.AuxStates) == 0 {
		return DefaultAuxStates
	}
	return r.AuxStates
}

// skillID is the id of skill i: the ids Traffic uses first.
func skillID(i int) string {
	if i < len(Skills)-1 { // Skills ends with "-"
		return Skills[i]
	}
	return strconv.Itoa(300 + i)
}

func (r *Realtime) spikes() []Spike {
	if r.Traffic == nil {
		return nil
	}
	r.Traffic.mu.Lock()
	defer r.Traffic.mu.Unlock()
	return append([]Spike(nil), r.Traffic.spikes...)
}

// spikeExtra returns the extra calls per minute of skill id in the minute
// starting at t.
func spikeExtra(spikes []Spike, id string, t time.Time) int {
	n := 0
	for i := range spikes {
		s := &spikes[i]
		if (s.SkillID == id || s.SkillID == "" || s.SkillID == "-") && s.covers(t) {
			n += s.PerMinute
		}
	}
	return n
}

// profile is the share of the peak rate at a time of day.
func profile(hour int) float64 {
	switch {
	case hour < 6:
		return 0.1
	case hour >= 8 && hour < 18:
		return 1
	}
	return 0.5
}

// slFraction is the share of answered calls answered within n seconds in
// a normal minute and in a spike.
func slFraction(n int, spike bool) float64 {
	if spike {
		return math.Min(0.9, 0.1+0.015*float64(n))
	}
	return math.Min(0.99, 0.6+0.012*float64(n))
}

// thresholds are the service levels the API reports.
func (r *Realtime) thresholds() []int {
	t := []int{10, 20, 30}
	if r.ServiceTime > 0 && r.ServiceTime != 10 && r.ServiceTime != 20 && r.ServiceTime != 30 {
		t = append(t, r.ServiceTime)
	}
	return t
}

// SkillsAt returns every skill's row at now.
func (r *Realtime) SkillsAt(now time.Time) []SkillRow {
	loc := r.loc()
	day := midnight(now, loc)
	key := dayKey(now, loc)
	spikes := r.spikes()
	minutes := int(now.Sub(day) / time.Minute)
	th := r.thresholds()
	out := make([]SkillRow, r.skillCount())
	within := make([]int, len(th))
	for i := range out {
		id := skillID(i)
		row := SkillRow{ID: id, Name: skillNames[i%len(skillNames)]}
		if i >= len(skillNames) {
			row.Name += " " + strconv.Itoa(i/len(skillNames)+1)
		}
		clear(within)
		peak := float64(1 + i%3)
		for m := 0; m <= minutes; m++ {
			start := day.Add(time.Duration(m) * time.Minute)
			extra := spikeExtra(spikes, id, start)
			u := hash01(r.Seed, uint64(i), key, uint64(m))
			calls := int(peak*profile(start.Hour())+u) + extra
			rate := 0.04
			if extra > 0 {
				rate = 0.35
			}
			abandoned := min(calls, int(float64(calls)*rate+hash01(r.Seed, uint64(i), key, uint64(m), 1)))
			answered := calls - abandoned
			u3 := hash01(r.Seed, uint64(i), key, uint64(m), 2)
			for k, n := range th {
				within[k] += min(answered, int(float64(answered)*slFraction(n, extra > 0)+u3))
			}
			row.Inbound += calls
			row.Abandoned += abandoned
			row.Answered += answered
		}
		row.ServiceLevel = make(map[int]float64, len(th))
		for k, n := range th {
			row.ServiceLevel[n] = 1
			if row.Inbound > 0 {
				row.ServiceLevel[n] = ratio(float64(within[k]) / float64(row.Inbound))
			}
		}
		if row.Inbound > 0 {
			row.AbandonRatio = ratio(float64(row.Abandoned) / float64(row.Inbound))
		}
		// The queue: a call or two, and half of each spike minute's extra
		// calls of the last ten minutes still waiting.
		row.InQueue = int(2 * hash01(r.Seed, uint64(i), key, uint64(minutes), 3))
		for k := 0; k < 10 && k <= minutes; k++ {
			row.InQueue += spikeExtra(spikes, id, day.Add(time.Duration(minutes-k)*time.Minute)) / 2
		}
		out[i] = row
	}
	return out
}

// agentName is agent j's name: the dozen of Agents first.
func agentName(j int) (id, name string) {
	if j < len(Agents) {
		return Agents[j].ID, Agents[j].Name
	}
	return strconv.Itoa(30000 + j), fmt.Sprintf("AGENTE %d PEÑA", 30000+j)
}

// AgentsAt returns the row of every agent on shift at now.
func (r *Realtime) AgentsAt(now time.Time) []AgentRow {
	loc := r.loc()
	day := midnight(now, loc)
	key := dayKey(now, loc)
	spikes := r.spikes()
	var out []AgentRow
	for j := range r.agentCount() {
		u := hash01(r.Seed, uint64(j), key, 0xa9e47)
		start := day.Add(6*time.Hour + time.Duration(u*720)*time.Minute)
		end := start.Add(6*time.Hour + time.Duration(hash01(r.Seed, uint64(j), key, 0x5e1f7)*180)*time.Minute)
		if end.After(day.Add(24*time.Hour - time.Second)) {
			end = day.Add(24*time.Hour - time.Second)
		}
		if r.AroundTheClock {
			// Every shift of a third starts on the hour it covers, and
			// ends as the next begins (the last at midnight, the next
			// day's first shift's start): no second is unstaffed once
			// there are three agents.
			start = day.Add(time.Duration(j%3) * 8 * time.Hour)
			end = start.Add(8 * time.Hour)
		}
		if now.Before(start) || !now.Before(end) {
			continue
		}
		out = append(out, r.agent(j, key, start, now, spikes))
	}
	return out
}

// agent simulates agent j's shift from start to now.
func (r *Realtime) agent(j int, key uint64, start, now time.Time, spikes []Spike) AgentRow {
	id, name := agentName(j)
	row := AgentRow{ID: id, Name: name, DNI: fmt.Sprintf("10%08d", j*7919%100000000)}
	rng := rand.New(rand.NewPCG(r.Seed^0x7265616c74696d65, key<<24|uint64(j)))
	aux := r.auxStates()
	secs := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Second }
	lunched := false
	t := start
	var talk, internalTime int
	// Each step appends one or more segments; the one holding now is the
	// agent's current state.
	seg := func(status string, d time.Duration) bool {
		end := t.Add(d)
		spent := int(earliest(end, now).Sub(t) / time.Second)
		switch status {
		case "READY":
			row.Ready += spent
		case "RING":
			row.Ring += spent
		case "INBOUND":
			row.Inbound++
			row.InboundTime += spent
		case "OUTBOUND":
			row.Outbound++
			row.OutboundTime += spent
		case "INTERNAL":
			row.Internal++
			internalTime += spent
		case "ACW":
			row.ACW += spent
		default:
			row.Aux += spent
		}
		if end.After(now) {
			row.Status, row.InStatus = status, int(now.Sub(t)/time.Second)
			return true
		}
		t = end
		return false
	}
	for {
		ready := secs(20, 240)
		if anySpike(spikes, t.Truncate(time.Minute)) {
			ready = secs(5, 30)
		}
		if seg("READY", ready) {
			break
		}
		var done bool
		switch p := rng.IntN(100); {
		case !lunched && t.Sub(start) > 3*time.Hour && slices.Contains(aux, "LUNCH"):
			lunched = true
			done = seg("LUNCH", secs(1800, 3600))
		case p < 60:
			done = seg("RING", secs(3, 10)) || seg("INBOUND", secs(60, 600)) || seg("ACW", secs(10, 120))
		case p < 75:
			done = seg("OUTBOUND", secs(60, 400)) || seg("ACW", secs(10, 60))
		case p < 82:
			done = seg("INTERNAL", secs(30, 180))
		case p < 92:
			state := aux[rng.IntN(len(aux))]
			if state == "LUNCH" {
				state = aux[0]
			}
			done = seg(state, secs(120, 900))
		default:
			done = seg("ACW", secs(10, 60))
		}
		if done {
			break
		}
	}
	row.Calls = row.Inbound + row.Outbound + row.Internal
	row.Login = int(now.Sub(start) / time.Second)
	talk = row.InboundTime + row.OutboundTime + row.ACW
	if handled := row.Inbound + row.Outbound; handled > 0 {
		row.AHT, row.HasAHT = int(math.Round(float64(talk)/float64(handled))), true
	}
	if avail := row.Login - row.Aux; avail > 0 {
		row.Occupancy = ratio(float64(talk+row.Ring+internalTime) / float64(avail))
		row.HasOccupancy = true
	}
	return row
}

// anySpike reports whether any spike covers the minute starting at t.
func anySpike(spikes []Spike, t time.Time) bool {
	for i := range spikes {
		if spikes[i].covers(t) {
			return true
		}
	}
	return false
}
