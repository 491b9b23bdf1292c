package wolkvox

import "errors"

// Purposes of the snapshot calls, for the caller's accounting of its token
// spend (RequestInfo.Purpose).
const (
	PurposeSnapshot Purpose = "snapshot" // real_time.php: what is happening now
	PurposeQuota    Purpose = "quota"    // information.php?api=token_info: what the quota has left
)

// Num is one number of a snapshot. Valid is false when the API left the
// value out ("", "-", null, or no such member) or sent one that could not
// be parsed or lies out of range; Value is then 0 and must not be used,
// let alone exported as a zero. Which of the two happened is told by the
// row's Invalid set: a broken value is counted there, an absent one is not.
type Num struct {
	Value float64
	Valid bool
}

// Get returns the value and whether it is valid.
func (n Num) Get() (float64, bool) { return n.Value, n.Valid }

// Bounds of the snapshots' values. A value outside them is invalid, as an
// unparseable one is: it is counted in the row's Invalid set and left not
// Valid, never clamped.
const (
	// MaxSnapshotCount bounds counts (calls, queue, tokens): a count of
	// 1e308 would make any sum over it +Inf.
	MaxSnapshotCount = 1e9
	// MaxSnapshotSeconds bounds times (time in state, login time, AHT):
	// 31 days, longer than any agent stays logged in, shorter than what
	// a broken "999999:00:00" gives.
	MaxSnapshotSeconds = 31 * 24 * 3600
)

// SkillSnapshot is one row of real_time.php?api=skills: one skill, now.
// Counts are so far today (the platform's day, in the operation's zone);
// ratios are in [0, 1], the API's percent divided by 100.
type SkillSnapshot struct {
	SkillID   string // skill_id; the row's key when data is an object keyed by ids and the row has none
	SkillName string // skill_name

	CallsInQueue Num // calls_in_queue_now: calls waiting now
	Inbound      Num // stat_inbound: inbound calls today
	Answered     Num // stat_answer: answered calls today
	Abandoned    Num // stat_abandon: calls the customer hung up on before an agent answered, today

	// ServiceLevel maps a threshold in seconds to the ratio of calls
	// answered within it, from service_level_{N}seg (10, 20 and 30 by
	// default). service_level_0seg, which the API adds as a constant 0 %,
	// is left out. An invalid value leaves its threshold out and marks
	// FieldServiceLevel. Nil when there is none.
	ServiceLevel map[int]float64
	// AbandonedRatio is by_abandon: the ratio of inbound calls abandoned.
	AbandonedRatio Num

	Invalid InvalidFields // fields present but unparseable or out of range
}

// AgentSnapshot is one row of real_time.php?api=agents: one agent, now.
// Counts and times are so far today; times are in seconds. The API's
// units are undocumented: a plain number is read as seconds, "H:MM:SS"
// as a duration (hours may exceed 23).
type AgentSnapshot struct {
	AgentID   string // agent_id; the row's key when data is an object keyed by ids and the row has none
	AgentName string // agent_name
	// Status is agent_status: free text, the operation's own auxiliary
	// states included (e.g. "BREAK", "CAPACITACIÓN"). It is cleaned like
	// every kept string (no control or bidirectional characters, at most
	// MaxFieldLen bytes), but its set of values is not closed.
	Status          string
	SecondsInStatus Num // time_state_now

	Calls, Inbound, Outbound, Internal Num // calls, inbound, outbound, internal

	ReadyTime    Num // ready_time
	InboundTime  Num // inbound_time
	OutboundTime Num // outbound_time
	ACWTime      Num // acw_time: after-call work
	RingTime     Num // ring_time
	LoginTime    Num // login_time
	AuxTime      Num // aux_time: in the operation's auxiliary states
	AHT          Num // aht_time: average handle time, in seconds
	Occupancy    Num // ocupation (sic): a ratio in [0, 1]

	Invalid InvalidFields // fields present but unparseable or out of range
}

// TokenInfo is information.php?api=token_info: the operation's daily quota
// and its spend today, all tokens of the operation together. The call that
// reads it spends a token itself, counted in what it returns.
type TokenInfo struct {
	TokenLimit    Num // token_limit: the day's quota
	TokenUseToday Num // token_use_today: spent with this token
	AllTokenToday Num // all_token_today: spent with every token of the operation
	Available     Num // available_consumption_options: what is left today

	Invalid InvalidFields // fields present but unparseable or out of range
}

// ErrAllSkillsRefused is the cause of the error Client.Skills returns when
// the API refuses skill_id=all (a 400 SOME PARAMETERS ARE REQUIRED or THE
// API YOU WANT TO CONSULT DOES NOT EXIST, or a 404 with its short JSON):
// whether it accepts it is undocumented. The caller should say once that
// the operation's skill ids must be configured, and pass them. The error is
// an *Error with Reason ReasonSkillsAllRefused; errors.Is finds this.
var ErrAllSkillsRefused = errors.New("the real-time API refused skill_id=all: configure the operation's skill ids")
