package wolkvoxtest

import (
	"math"
	"time"
)

// Snapshots is what a Server's real-time API serves: the rows of
// real_time.php?api=skills and ?api=agents at a moment. Realtime and
// FixedSnapshots implement it.
type Snapshots interface {
	SkillsAt(now time.Time) []SkillRow
	AgentsAt(now time.Time) []AgentRow
}

// SkillRow is one skill as the real-time API reports it at a moment: the
// ground truth a test compares the client's SkillSnapshot with. Ratios are
// in [0, 1], rounded to what the wire carries (0.01 %).
type SkillRow struct {
	ID, Name                              string
	InQueue, Inbound, Answered, Abandoned int
	ServiceLevel                          map[int]float64 // by threshold in seconds
	AbandonRatio                          float64
	// Override replaces the value of a named member with raw JSON (or
	// adds the member), to send what the generator never does: "-",
	// "120 %", an object. The truth fields are then not what was sent.
	Override map[string]string
}

// AgentRow is one agent as the real-time API reports it at a moment.
// Times are whole seconds.
type AgentRow struct {
	ID, Name, Status string
	// DNI is the agent's national id: personal data. The fake sends it as
	// agent_dni (documented for the information API's agents) so tests
	// can check that the client never keeps it.
	DNI                                string
	InStatus                           int
	Calls, Inbound, Outbound, Internal int
	Ready, InboundTime, OutboundTime   int
	ACW, Ring, Login, Aux              int
	AHT                                int  // average handle time
	HasAHT                             bool // false (sent as "-") before the first call
	Occupancy                          float64
	HasOccupancy                       bool // false (sent as "-") when not a second was available
	Override                           map[string]string
}

// FixedSnapshots serves the same rows at every moment.
type FixedSnapshots struct {
	Skills []SkillRow
	Agents []AgentRow
}

// SkillsAt returns s.Skills.
func (s *FixedSnapshots) SkillsAt(time.Time) []SkillRow { return s.Skills }

// AgentsAt returns s.Agents.
func (s *FixedSnapshots) AgentsAt(time.Time) []AgentRow { return s.Agents }

// ratio rounds r to 0.01 %, what the wire's "93.36 %" carries.
func ratio(r float64) float64 { return math.Round(r*10000) / 10000 }

// hash01 is a deterministic number in [0, 1) of its arguments: the noise
// of the generator, cheaper than a seeded generator per minute.
func hash01(keys ...uint64) float64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, k := range keys {
		h ^= k
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 31
		h *= 0x94d049bb133111eb
		h ^= h >> 29
	}
	return float64(h>>11) / (1 << 53)
}

// midnight returns the start of t's day in loc: counters reset then.
func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// dayKey names t's day in loc, for seeding.
func dayKey(t time.Time, loc *time.Location) uint64 {
	y, m, d := t.In(loc).Date()
	return uint64(y*10000 + int(m)*100 + d)
}
