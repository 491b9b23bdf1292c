package wolkvox

import (
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// interner shares one string among records for fields that repeat (agent
// names, skills, types, channels), so a response of 60,000 records holds a
// few hundred distinct strings rather than 60,000 copies. It is bounded so a
// hostile response cannot grow it without limit.
type interner struct{ m map[string]string }

const maxInterned = 8192

func newInterner() *interner { return &interner{m: make(map[string]string, 256)} }

// text returns the clean text of a string-like value, shared when possible,
// and false when the value was an object or array.
func (in *interner) text(v jsontext.Value) (string, bool) {
	switch v.Kind() {
	case '{', '[':
		return "", false
	case '"':
		raw := v[1 : len(v)-1]
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

// readObject reads the members of one JSON object. lookup maps a member's
// quoted name to a kept field's index, or -1 to skip the value unread; set
// receives each kept value. The name must be resolved before the value is
// read, because jsontext reuses the buffer that holds it.
func readObject(d *jsontext.Decoder, lookup func(name string) int, set func(field int, v jsontext.Value)) error {
	if _, err := d.ReadToken(); err != nil { // '{'
		return wrapSyntax(err)
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return wrapSyntax(err)
		}
		field := lookup(string(name)) // string(name) in a switch does not allocate
		if field < 0 {
			if err := d.SkipValue(); err != nil {
				return wrapSyntax(err)
			}
			continue
		}
		v, err := d.ReadValue()
		if err != nil {
			return wrapSyntax(err)
		}
		set(field, v)
	}
	_, err := d.ReadToken() // '}'
	return wrapSyntax(err)
}

// Indexes of agent_13_1's kept fields. ani, dnis and id_call_origin are
// skipped: the first two are personal data, the last is not needed.
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

func transferField(name string) int {
	switch name {
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

func readTransfer(d *jsontext.Decoder, loc *time.Location, in *interner) (Transfer, error) {
	var t Transfer
	err := readObject(d, transferField, func(field int, v jsontext.Value) {
		switch field {
		case tConnID:
			t.ConnID = scalarTextOr(v, &t.Invalid)
		case tDate:
			t.Date = dateField(v, loc, FieldDate, &t.Invalid)
		case tTime:
			b, ok := fieldBytes(v)
			if ok && len(b) > 0 {
				t.Duration, t.HasDuration = parseClock(string(b))
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
	})
	return t, err
}

// Indexes of chat_4's kept fields. subject, from, to, body, answer,
// comments and attachments are personal data and are skipped unread.
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

func interactionField(name string) int {
	switch name {
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

func readInteraction(d *jsontext.Decoder, loc *time.Location, in *interner) (Interaction, error) {
	var c Interaction
	err := readObject(d, interactionField, func(field int, v jsontext.Value) {
		switch field {
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
	})
	return c, err
}

// field is text for a kept string field, marking FieldText invalid when
// the value was an object or array.
func (in *interner) field(v jsontext.Value, invalid *InvalidFields) string {
	s, ok := in.text(v)
	if !ok {
		*invalid |= InvalidFields(FieldText)
	}
	return s
}

func scalarTextOr(v jsontext.Value, invalid *InvalidFields) string {
	if k := v.Kind(); k == '{' || k == '[' {
		*invalid |= InvalidFields(FieldText)
		return ""
	}
	return scalarText(v)
}

func dateField(v jsontext.Value, loc *time.Location, f Field, invalid *InvalidFields) time.Time {
	b, ok := fieldBytes(v)
	if !ok {
		*invalid |= InvalidFields(f)
		return time.Time{}
	}
	t, ok := parseDate(string(b), loc)
	if !ok {
		*invalid |= InvalidFields(f)
	}
	return t
}
