package wolkvox

import "time"

// interner shares one string among records for fields that repeat (agent
// names, skills, types, channels), so a response of 60,000 records holds a
// few hundred distinct strings rather than 60,000 copies. It is bounded so a
// hostile response cannot grow it without limit: at most maxInterned
// values, each of at most maxInternedRaw raw bytes. Its keys are raw
// values, so interning long ones would keep them whole: 8,000 distinct
// names of 25 KB held 253 MB. Real names, skills and codes are far shorter.
type interner struct{ m map[string]string }

const (
	maxInterned    = 8192
	maxInternedRaw = 64
)

func newInterner() *interner { return &interner{m: make(map[string]string, 256)} }

// text returns the clean text of a string-like value, shared when possible,
// and false when the value was an object or array.
func (in *interner) text(v []byte) (string, bool) {
	switch v[0] {
	case '{', '[':
		return "", false
	case '"':
		raw := v[1 : len(v)-1]
		if len(raw) > maxInternedRaw {
			return unquote(v), true // capped at MaxFieldLen, not kept here
		}
		if s, ok := in.m[string(raw)]; ok { // no allocation for the lookup
			return s, true
		}
		s := unquote(v)
		if len(in.m) < maxInterned {
			in.m[string(raw)] = s
		}
		return s, true
	}
	return scalarText(v), true
}

// field is text for a kept string field, marking FieldText invalid when
// the value was an object or array.
func (in *interner) field(v []byte, invalid *InvalidFields) string {
	s, ok := in.text(v)
	if !ok {
		*invalid |= InvalidFields(FieldText)
	}
	return s
}

// Indexes of agent_13_1's kept fields. ani, dnis and id_call_origin are
// passed over: the first two are personal data, the last is not needed.
const (
	tConnID = iota
	tSkill
	tDate
	tOriginID
	tOriginName
	tDestID
	tDestName
	tTime
	tTypeCall
)

func transferField(name []byte) int {
	switch string(name) { // a conversion in a switch does not allocate
	case `"conn_id_transfer"`:
		return tConnID
	case `"skill_id"`:
		return tSkill
	case `"date"`:
		return tDate
	case `"origin_agent_id"`:
		return tOriginID
	case `"origin_agent_name"`:
		return tOriginName
	case `"destiny_agent_id"`:
		return tDestID
	case `"destiny_agent_name"`:
		return tDestName
	case `"time"`:
		return tTime
	case `"type_call"`:
		return tTypeCall
	}
	return -1
}

// buildTransfer makes a Transfer of a record's kept values.
func buildTransfer(kept []keptValue, loc *time.Location, in *interner) Transfer {
	var t Transfer
	for _, kv := range kept {
		v := kv.raw
		switch kv.field {
		case tConnID:
			t.ConnID = scalarTextOr(v, &t.Invalid)
		case tDate:
			t.Date = dateField(v, loc, FieldDate, &t.Invalid)
		case tTime:
			b, ok := fieldBytes(v)
			if ok && len(b) > 0 {
				t.Duration, t.HasDuration = parseClock(b)
				if t.Duration > MaxDuration {
					t.Duration, t.HasDuration = 0, false
				}
			}
			if !ok || (len(b) > 0 && !t.HasDuration) {
				t.Invalid |= InvalidFields(FieldTime)
			}
		case tSkill:
			t.SkillID = in.field(v, &t.Invalid)
		case tOriginID:
			t.OriginAgentID = in.field(v, &t.Invalid)
		case tOriginName:
			t.OriginAgentName = in.field(v, &t.Invalid)
		case tDestID:
			t.DestinationAgentID = in.field(v, &t.Invalid)
		case tDestName:
			t.DestinationAgentName = in.field(v, &t.Invalid)
		case tTypeCall:
			t.TypeCall = in.field(v, &t.Invalid)
		}
	}
	return t
}

// Indexes of chat_4's kept fields. subject, from, to, body, answer,
// comments and attachments are personal data and are passed over.
const (
	cChannel = iota
	cAgent
	cSkill
	cCase
	cCreated
	cClosed
	cSurvey
	cCodAct
	cCodDesc
	cStatus
)

func interactionField(name []byte) int {
	switch string(name) {
	case `"channel"`:
		return cChannel
	case `"agent_name"`:
		return cAgent
	case `"skill_id"`:
		return cSkill
	case `"case_id"`:
		return cCase
	case `"date_creation"`:
		return cCreated
	case `"close_date"`:
		return cClosed
	case `"evaluation_survey"`:
		return cSurvey
	case `"cod_act"`:
		return cCodAct
	case `"cod_description"`:
		return cCodDesc
	case `"status"`:
		return cStatus
	}
	return -1
}

// buildInteraction makes an Interaction of a record's kept values.
func buildInteraction(kept []keptValue, loc *time.Location, in *interner) Interaction {
	var c Interaction
	for _, kv := range kept {
		v := kv.raw
		switch kv.field {
		case cCase:
			c.CaseID = scalarTextOr(v, &c.Invalid)
		case cCreated:
			c.Created = dateField(v, loc, FieldDateCreation, &c.Invalid)
		case cClosed:
			c.Closed = dateField(v, loc, FieldCloseDate, &c.Invalid)
		case cSurvey:
			b, ok := fieldBytes(v)
			if ok && len(b) > 0 {
				c.Survey, c.HasSurvey = parseScore(string(b))
				if c.Survey < MinSurvey || c.Survey > MaxSurvey {
					c.Survey, c.HasSurvey = 0, false
				}
			}
			if !ok || (len(b) > 0 && !c.HasSurvey) {
				c.Invalid |= InvalidFields(FieldEvaluationSurvey)
			}
		case cChannel:
			c.Channel = in.field(v, &c.Invalid)
		case cAgent:
			c.AgentName = in.field(v, &c.Invalid)
		case cSkill:
			c.SkillID = in.field(v, &c.Invalid)
		case cCodAct:
			c.CodAct = in.field(v, &c.Invalid)
		case cCodDesc:
			c.CodDescription = in.field(v, &c.Invalid)
		case cStatus:
			c.Status = in.field(v, &c.Invalid)
		}
	}
	return c
}

func scalarTextOr(v []byte, invalid *InvalidFields) string {
	if k := v[0]; k == '{' || k == '[' {
		*invalid |= InvalidFields(FieldText)
		return ""
	}
	return scalarText(v)
}

func dateField(v []byte, loc *time.Location, f Field, invalid *InvalidFields) time.Time {
	b, ok := fieldBytes(v)
	if !ok {
		*invalid |= InvalidFields(f)
		return time.Time{}
	}
	t, ok := parseDate(b, loc)
	if !ok {
		*invalid |= InvalidFields(f)
	}
	return t
}
