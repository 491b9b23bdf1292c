package wolkvox

// Kept fields of the snapshots' rows, and how each row is built from them.
// Every member not named here (agent_dni, skill_description, last_use,
// service_level_0seg, anything new) is validated by the scanner and passed
// over without being copied: agent_dni is personal data.

// Indexes of the skills row's kept fields. A service_level_{N}seg is kept
// as sServiceLevel+N, so its threshold travels with it.
const (
	sID = iota
	sName
	sQueue
	sInbound
	sAnswer
	sAbandon
	sByAbandon
	sServiceLevel // + N seconds
)

// maxServiceTime bounds the N of service_level_{N}seg that is kept: a day.
const maxServiceTime = 86400

func skillField(name []byte) int {
	switch string(name) {
	case `"skill_id"`:
		return sID
	case `"skill_name"`:
		return sName
	case `"calls_in_queue_now"`:
		return sQueue
	case `"stat_inbound"`:
		return sInbound
	case `"stat_answer"`:
		return sAnswer
	case `"stat_abandon"`:
		return sAbandon
	case `"by_abandon"`:
		return sByAbandon
	}
	const prefix, suffix = `"service_level_`, `seg"`
	if len(name) > len(prefix)+len(suffix) && string(name[:len(prefix)]) == prefix && string(name[len(name)-len(suffix):]) == suffix {
		digitsOf := name[len(prefix) : len(name)-len(suffix)]
		if n := digits(digitsOf); len(digitsOf) <= 6 && n > 0 && n <= maxServiceTime {
			return sServiceLevel + n
		}
		// service_level_0seg is a constant 0 % the API adds: ignored.
	}
	return -1
}

// buildSkill makes a SkillSnapshot of a row's kept values.
func buildSkill(kept []keptValue, key string, in *interner) SkillSnapshot {
	var s SkillSnapshot
	hasID := false
	for _, kv := range kept {
		v := kv.raw
		switch kv.field {
		case sID:
			s.SkillID, hasID = in.field(v, &s.Invalid), true
		case sName:
			s.SkillName = in.field(v, &s.Invalid)
		case sQueue:
			setNum(v, kindCount, FieldCallsInQueueNow, &s.CallsInQueue, &s.Invalid)
		case sInbound:
			setNum(v, kindCount, FieldStatInbound, &s.Inbound, &s.Invalid)
		case sAnswer:
			setNum(v, kindCount, FieldStatAnswer, &s.Answered, &s.Invalid)
		case sAbandon:
			setNum(v, kindCount, FieldStatAbandon, &s.Abandoned, &s.Invalid)
		case sByAbandon:
			setNum(v, kindRatio, FieldByAbandon, &s.AbandonedRatio, &s.Invalid)
		default:
			var n Num
			setNum(v, kindRatio, FieldServiceLevel, &n, &s.Invalid)
			if n.Valid {
				if s.ServiceLevel == nil {
					s.ServiceLevel = make(map[int]float64, 3)
				}
				s.ServiceLevel[kv.field-sServiceLevel] = n.Value
			}
		}
	}
	if !hasID || s.SkillID == "" {
		s.SkillID = key
	}
	return s
}

// Indexes of the agents row's kept fields, and the Field and kind of each
// number among them.
const (
	aID = iota
	aName
	aStatus
	aNumbers // the first of agentNumbers
)

var agentNumbers = [...]struct {
	name  string
	field Field
	kind  numKind
}{
	{`"time_state_now"`, FieldTimeStateNow, kindSeconds},
	{`"calls"`, FieldCalls, kindCount},
	{`"inbound"`, FieldInbound, kindCount},
	{`"outbound"`, FieldOutbound, kindCount},
	{`"internal"`, FieldInternal, kindCount},
	{`"ready_time"`, FieldReadyTime, kindSeconds},
	{`"inbound_time"`, FieldInboundTime, kindSeconds},
	{`"outbound_time"`, FieldOutboundTime, kindSeconds},
	{`"acw_time"`, FieldACWTime, kindSeconds},
	{`"ring_time"`, FieldRingTime, kindSeconds},
	{`"login_time"`, FieldLoginTime, kindSeconds},
	{`"aux_time"`, FieldAuxTime, kindSeconds},
	{`"aht_time"`, FieldAHTTime, kindSeconds},
	{`"ocupation"`, FieldOcupation, kindRatio},
}

func agentField(name []byte) int {
	switch string(name) {
	case `"agent_id"`:
		return aID
	case `"agent_name"`:
		return aName
	case `"agent_status"`:
		return aStatus
	}
	for i := range agentNumbers {
		if string(name) == agentNumbers[i].name {
			return aNumbers + i
		}
	}
	return -1
}

// numbers returns where each of agentNumbers goes in a, in their order.
func (a *AgentSnapshot) numbers() [len(agentNumbers)]*Num {
	return [...]*Num{
		&a.SecondsInStatus, &a.Calls, &a.Inbound, &a.Outbound, &a.Internal,
		&a.ReadyTime, &a.InboundTime, &a.OutboundTime, &a.ACWTime, &a.RingTime,
		&a.LoginTime, &a.AuxTime, &a.AHT, &a.Occupancy,
	}
}

// buildAgent makes an AgentSnapshot of a row's kept values.
func buildAgent(kept []keptValue, key string, in *interner) AgentSnapshot {
	var a AgentSnapshot
	nums := a.numbers()
	hasID := false
	for _, kv := range kept {
		v := kv.raw
		switch kv.field {
		case aID:
			a.AgentID, hasID = in.field(v, &a.Invalid), true
		case aName:
			a.AgentName = in.field(v, &a.Invalid)
		case aStatus:
			a.Status = in.field(v, &a.Invalid)
		default:
			n := agentNumbers[kv.field-aNumbers]
			setNum(v, n.kind, n.field, nums[kv.field-aNumbers], &a.Invalid)
		}
	}
	if !hasID || a.AgentID == "" {
		a.AgentID = key
	}
	return a
}

// Indexes of token_info's kept fields.
const (
	tiLimit = iota
	tiUse
	tiAll
	tiAvailable
)

func tokenInfoField(name []byte) int {
	switch string(name) {
	case `"token_limit"`:
		return tiLimit
	case `"token_use_today"`:
		return tiUse
	case `"all_token_today"`:
		return tiAll
	case `"available_consumption_options"`:
		return tiAvailable
	}
	return -1
}

// buildTokenInfo makes a TokenInfo of a row's kept values.
func buildTokenInfo(kept []keptValue) TokenInfo {
	var t TokenInfo
	for _, kv := range kept {
		switch kv.field {
		case tiLimit:
			setNum(kv.raw, kindCount, FieldTokenLimit, &t.TokenLimit, &t.Invalid)
		case tiUse:
			setNum(kv.raw, kindCount, FieldTokenUseToday, &t.TokenUseToday, &t.Invalid)
		case tiAll:
			setNum(kv.raw, kindCount, FieldAllTokenToday, &t.AllTokenToday, &t.Invalid)
		case tiAvailable:
			setNum(kv.raw, kindCount, FieldAvailable, &t.Available, &t.Invalid)
		}
	}
	return t
}
