package wolkvox

import (
	"bytes"
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

// field is text for a kept string field, marking FieldText invalid when
// the value was an object or array.
func (in *interner) field(v jsontext.Value, invalid *InvalidFields) string {
	s, ok := in.text(v)
	if !ok {
		*invalid |= InvalidFields(FieldText)
	}
	return s
}

// objectReader walks the members of one JSON object, handing out the
// values of kept fields. The object is read from the decoder as one value,
// which jsontext validates in a single pass; the walk then only has to find
// the boundaries of members it knows are well formed. That is cheaper than
// a decoder call per name and per value, and allocates nothing.
type objectReader struct {
	obj []byte // the whole object, validated
	pos int
	err error
}

// open reads the next value of d, which must be an object.
func (o *objectReader) open(d *jsontext.Decoder) bool {
	v, err := d.ReadValue()
	if err != nil {
		o.err = wrapSyntax(err)
		return false
	}
	o.obj, o.pos = v, 1 // past '{'
	return true
}

// next returns the next kept field's index and raw value. lookup maps a
// quoted member name to an index, or -1 to pass over the value.
func (o *objectReader) next(lookup func(name []byte) int) (int, jsontext.Value, bool) {
	for {
		o.pos = skipSpace(o.obj, o.pos)
		if o.obj[o.pos] == ',' {
			o.pos = skipSpace(o.obj, o.pos+1)
		}
		if o.obj[o.pos] == '}' {
			return 0, nil, false
		}
		nameEnd := stringEnd(o.obj, o.pos)
		name := o.obj[o.pos:nameEnd]
		o.pos = skipSpace(o.obj, skipSpace(o.obj, nameEnd)+1) // past ':'
		start := o.pos
		o.pos = valueEnd(o.obj, o.pos)
		if field := lookup(name); field >= 0 {
			return field, o.obj[start:o.pos], true
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string literal starting at i.
// (A byte loop, or a SWAR loop, for short strings measured no faster
// overall, and much slower on chat_4's long bodies.)
func stringEnd(b []byte, i int) int {
	i++ // opening quote
	for i < len(b) {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			break // unreachable for validated input
		}
		i += j
		// The quote is escaped only if an odd number of backslashes precede it.
		k := i - 1
		for b[k] == '\\' {
			k--
		}
		i++
		if (i-2-k)%2 == 0 {
			return i
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at i.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
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

func readTransfer(d *jsontext.Decoder, loc *time.Location, in *interner) (Transfer, error) {
	var t Transfer
	var o objectReader
	for ok := o.open(d); ok; {
		var field int
		var v jsontext.Value
		if field, v, ok = o.next(transferField); !ok {
			break
		}
		switch field {
		case tConnID:
			t.ConnID = scalarTextOr(v, &t.Invalid)
		case tDate:
			t.Date = dateField(v, loc, FieldDate, &t.Invalid)
		case tTime:
			b, ok := fieldBytes(v)
			if ok && len(b) > 0 {
				t.Duration, t.HasDuration = parseClock(b)
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
	return t, o.err
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

func readInteraction(d *jsontext.Decoder, loc *time.Location, in *interner) (Interaction, error) {
	var c Interaction
	var o objectReader
	for ok := o.open(d); ok; {
		var field int
		var v jsontext.Value
		if field, v, ok = o.next(interactionField); !ok {
			break
		}
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
	}
	return c, o.err
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
	t, ok := parseDate(b, loc)
	if !ok {
		*invalid |= InvalidFields(f)
	}
	return t
}
