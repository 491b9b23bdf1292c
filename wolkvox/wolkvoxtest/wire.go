package wolkvoxtest

import "strconv"

// RawTransfer is an agent_13_1 record as the API sends it: every value a
// string, personal fields included.
type RawTransfer struct {
	ConnIDTransfer, SkillID, Date, ANI, OriginAgentID, OriginAgentName   string
	DestinyAgentID, DestinyAgentName, DNIS, Time, TypeCall, IDCallOrigin string
	// Override replaces the value of a named field with raw JSON, to send
	// a number, an object or null where the API documents a string.
	Override map[string]string
}

// RawInteraction is a chat_4 record as the API sends it.
type RawInteraction struct {
	Channel, AgentName, SkillID, CaseID, Subject, From, To, Body, Answer string
	DateCreation, CloseDate, EvaluationSurvey, CodAct, CodDescription    string
	Comments, Attachments, Status                                        string
	// NoCodDescription leaves cod_description out, as the vendor's example does.
	NoCodDescription bool
	Override         map[string]string
}

func (r *RawTransfer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = member(b, "conn_id_transfer", r.ConnIDTransfer, r.Override, true)
	b = member(b, "skill_id", r.SkillID, r.Override, false)
	b = member(b, "date", r.Date, r.Override, false)
	b = member(b, "ani", r.ANI, r.Override, false)
	b = member(b, "origin_agent_id", r.OriginAgentID, r.Override, false)
	b = member(b, "origin_agent_name", r.OriginAgentName, r.Override, false)
	b = member(b, "destiny_agent_id", r.DestinyAgentID, r.Override, false)
	b = member(b, "destiny_agent_name", r.DestinyAgentName, r.Override, false)
	b = member(b, "dnis", r.DNIS, r.Override, false)
	b = member(b, "time", r.Time, r.Override, false)
	b = member(b, "type_call", r.TypeCall, r.Override, false)
	b = member(b, "id_call_origin", r.IDCallOrigin, r.Override, false)
	return append(b, '}')
}

func (r *RawInteraction) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = member(b, "channel", r.Channel, r.Override, true)
	b = member(b, "agent_name", r.AgentName, r.Override, false)
	b = member(b, "skill_id", r.SkillID, r.Override, false)
	b = member(b, "case_id", r.CaseID, r.Override, false)
	b = member(b, "subject", r.Subject, r.Override, false)
	b = member(b, "from", r.From, r.Override, false)
	b = member(b, "to", r.To, r.Override, false)
	b = member(b, "body", r.Body, r.Override, false)
	b = member(b, "answer", r.Answer, r.Override, false)
	b = member(b, "date_creation", r.DateCreation, r.Override, false)
	b = member(b, "close_date", r.CloseDate, r.Override, false)
	b = member(b, "evaluation_survey", r.EvaluationSurvey, r.Override, false)
	b = member(b, "cod_act", r.CodAct, r.Override, false)
	if !r.NoCodDescription {
		b = member(b, "cod_description", r.CodDescription, r.Override, false)
	}
	b = member(b, "comments", r.Comments, r.Override, false)
	b = member(b, "attachments", r.Attachments, r.Override, false)
	b = member(b, "status", r.Status, r.Override, false)
	return append(b, '}')
}

func member(b []byte, name, value string, override map[string]string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if raw, ok := override[name]; ok {
		return append(b, raw...)
	}
	return appendString(b, value)
}

// appendString quotes s as a JSON string but, unlike encoding/json, passes
// invalid UTF-8 through byte for byte, as a PHP backend with Latin-1 data
// does. That is what lets tests send "MU\xd1OZ".
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// envelopeHead writes the part of a response before the records, with
// "error":null unless the error member is to follow the records.
func envelopeHead(b []byte, code any, n int) []byte { return envelopeHeadError(b, code, n, true) }

func envelopeHeadError(b []byte, code any, n int, errorNull bool) []byte {
	b = append(b, `{"code":`...)
	switch v := code.(type) {
	case string:
		b = appendString(b, v)
	case int:
		b = strconv.AppendInt(b, int64(v), 10)
	default:
		b = append(b, `"200"`...)
	}
	if errorNull {
		b = append(b, `,"error":null`...)
	}
	b = append(b, `,"msg":"`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ` records were found","data":[`...)
}
