package wolkvox

import (
	"math/bits"
	"time"
)

// Field names one kept field of a record, as it is named on the wire.
// It is used to say which fields of a record could not be parsed.
type Field uint64

// Fields of agent_13_1 and chat_4 that a record keeps. Their bits never
// change; the snapshots' fields follow them.
const (
	FieldDate Field = 1 << iota
	FieldTime
	FieldDateCreation
	FieldCloseDate
	FieldEvaluationSurvey
	// FieldText marks a string field that held a JSON object or array
	// instead of a string; the field is then empty.
	FieldText
	reportFieldEnd // the fields above are the reports'; see AllFields
)

// Fields of the real-time and information APIs' snapshots.
const (
	// skills (SkillSnapshot)
	FieldCallsInQueueNow = reportFieldEnd << iota
	FieldStatInbound
	FieldStatAnswer
	FieldStatAbandon
	FieldServiceLevel // any service_level_{N}seg
	FieldByAbandon
	// agents (AgentSnapshot)
	FieldTimeStateNow
	FieldCalls
	FieldInbound
	FieldOutbound
	FieldInternal
	FieldReadyTime
	FieldInboundTime
	FieldOutboundTime
	FieldACWTime
	FieldRingTime
	FieldLoginTime
	FieldAuxTime
	FieldAHTTime
	FieldOcupation // sic, as on the wire
	// token_info (TokenInfo)
	FieldTokenLimit
	FieldTokenUseToday
	FieldAllTokenToday
	FieldAvailable
	fieldEnd
)

var fieldNames = map[Field]string{
	FieldDate:             "date",
	FieldTime:             "time",
	FieldDateCreation:     "date_creation",
	FieldCloseDate:        "close_date",
	FieldEvaluationSurvey: "evaluation_survey",
	FieldText:             "text",
	FieldCallsInQueueNow:  "calls_in_queue_now",
	FieldStatInbound:      "stat_inbound",
	FieldStatAnswer:       "stat_answer",
	FieldStatAbandon:      "stat_abandon",
	FieldServiceLevel:     "service_level",
	FieldByAbandon:        "by_abandon",
	FieldTimeStateNow:     "time_state_now",
	FieldCalls:            "calls",
	FieldInbound:          "inbound",
	FieldOutbound:         "outbound",
	FieldInternal:         "internal",
	FieldReadyTime:        "ready_time",
	FieldInboundTime:      "inbound_time",
	FieldOutboundTime:     "outbound_time",
	FieldACWTime:          "acw_time",
	FieldRingTime:         "ring_time",
	FieldLoginTime:        "login_time",
	FieldAuxTime:          "aux_time",
	FieldAHTTime:          "aht_time",
	FieldOcupation:        "ocupation",
	FieldTokenLimit:       "token_limit",
	FieldTokenUseToday:    "token_use_today",
	FieldAllTokenToday:    "all_token_today",
	FieldAvailable:        "available_consumption_options",
}

// String returns the wire name of a single field.
func (f Field) String() string { return fieldNames[f] }

// InvalidFields is the set of fields of one record that were present but
// could not be parsed. The record is still handed out; the field holds its
// zero value.
type InvalidFields uint64

// Has reports whether f is in the set.
func (s InvalidFields) Has(f Field) bool { return s&InvalidFields(f) != 0 }

// Len returns how many fields are in the set.
func (s InvalidFields) Len() int { return bits.OnesCount64(uint64(s)) }

// Each calls fn for every field in the set, in a fixed order.
func (s InvalidFields) Each(fn func(Field)) {
	for f := Field(1); f < fieldEnd; f <<= 1 {
		if s.Has(f) {
			fn(f)
		}
	}
}

// AllFields lists every Field of the two reports (agent_13_1 and chat_4),
// so callers can pre-declare label values. The snapshots' fields are
// listed by SkillFields, AgentFields and TokenInfoFields.
func AllFields() []Field { return fieldRange(1, reportFieldEnd) }

// SkillFields lists the Fields a SkillSnapshot can mark invalid.
func SkillFields() []Field {
	return append(fieldRange(FieldCallsInQueueNow, FieldTimeStateNow), FieldText)
}

// AgentFields lists the Fields an AgentSnapshot can mark invalid.
func AgentFields() []Field {
	return append(fieldRange(FieldTimeStateNow, FieldTokenLimit), FieldText)
}

// TokenInfoFields lists the Fields a TokenInfo can mark invalid.
func TokenInfoFields() []Field { return fieldRange(FieldTokenLimit, fieldEnd) }

// fieldRange lists the fields in [from, to).
func fieldRange(from, to Field) []Field {
	var out []Field
	for f := from; f < to; f <<= 1 {
		out = append(out, f)
	}
	return out
}

// Transfer is one agent_13_1 record: one transfer or conference leg.
//
// String fields are trimmed, valid UTF-8, and at most MaxFieldLen bytes.
// The API writes "-" for "none"; such values, and empty ones, are "" here.
// The personal fields ani and dnis are never read into memory.
type Transfer struct {
	ConnID               string        // conn_id_transfer
	SkillID              string        // skill_id; "" when none
	Date                 time.Time     // date, in the operation's zone; zero when absent or invalid
	OriginAgentID        string        // origin_agent_id
	OriginAgentName      string        // origin_agent_name
	DestinationAgentID   string        // destiny_agent_id; "" when no destination agent
	DestinationAgentName string        // destiny_agent_name
	Duration             time.Duration // time (HH:MM:SS, hours may exceed 23)
	HasDuration          bool          // whether time was present, valid and at most MaxDuration
	TypeCall             string        // type_call, e.g. "internal call_que"
	Invalid              InvalidFields // fields present but unparseable
}

// Interaction is one chat_4 record: one e-mail, chat or social interaction.
//
// The personal fields subject, from, to, body, answer, comments and
// attachments are skipped while decoding and never allocated.
// CaseID is needed to count a case once across windows; callers must use it
// only to derive a de-duplication key, never store, log or export it.
type Interaction struct {
	Channel        string        // channel
	AgentName      string        // agent_name (chat_4 has no agent id)
	SkillID        string        // skill_id; "" when none
	CaseID         string        // case_id: personal data, see above
	Created        time.Time     // date_creation; zero when absent or invalid
	Closed         time.Time     // close_date; zero while open, or invalid
	Survey         float64       // evaluation_survey, when HasSurvey
	HasSurvey      bool          // whether the customer's survey score was present, numeric and in [MinSurvey, MaxSurvey]
	CodAct         string        // cod_act, the typification code
	CodDescription string        // cod_description; often absent
	Status         string        // status: open, close or archived
	Invalid        InvalidFields // fields present but unparseable
}
