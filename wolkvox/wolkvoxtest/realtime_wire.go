package wolkvoxtest

import (
	"sort"
	"strconv"
	"strings"
)

// Format is how the fake writes the real-time and information APIs'
// responses: every way FACTS.md says their values and envelopes come.
// The zero Format is the tidiest: code "200", data a list, every value a
// plain string ("1234", "93.36", seconds).
type Format struct {
	CodeNumber  bool // code 200 (a number), not "200"
	Numbers     bool // numbers as JSON numbers, not strings
	PercentSign bool // ratios as "93.36 %"
	Thousands   bool // counts and seconds of 1,000 or more as "1,234"
	Clock       bool // times as "HH:MM:SS" (hours may exceed 23), not seconds
	Data        DataShape
	// Mixed picks, for every value, one of the styles above (and "93,36"
	// with a decimal comma, "" for an absent value) by a hash of the
	// row's id and the member's name: deterministic, every style in one
	// response.
	Mixed bool
}

// DataShape is how data holds the rows.
type DataShape int

const (
	DataList  DataShape = iota // "data": [row, ...]
	DataKeyed                  // "data": {"<id>": row, ...}, as objects keyed by ids come
	// DataRow is "data": row when there is one row, as info_server's
	// object: a skill asked for by id, token_info. With more rows, keyed.
	DataRow
	DataBare // no envelope: the response is [row, ...], as the campaigns example
)

// style is how one value is written.
type style struct {
	number, percent, thousands, clock, decimalComma, blank bool
}

func (f *Format) style(rowID, member string) style {
	if !f.Mixed {
		return style{number: f.Numbers, percent: f.PercentSign, thousands: f.Thousands, clock: f.Clock}
	}
	h := hashString(rowID + "\x00" + member)
	return style{
		number: h&1 != 0, percent: h&2 != 0, thousands: h&4 != 0, clock: h&8 != 0,
		decimalComma: h&48 == 48, blank: h&64 != 0,
	}
}

// count writes a whole number.
func (st style) count(b []byte, n int) []byte {
	if st.number {
		return strconv.AppendInt(b, int64(n), 10)
	}
	s := strconv.Itoa(n)
	if st.thousands {
		s = groupThousands(s)
	}
	return appendString(b, s)
}

// seconds writes a time in seconds.
func (st style) seconds(b []byte, n int) []byte {
	if st.clock {
		return appendString(b, clockText(n))
	}
	return st.count(b, n)
}

// ratio writes a ratio as the API's percent, to 0.01 %.
func (st style) ratio(b []byte, r float64) []byte {
	s := strconv.FormatFloat(r*100, 'f', 2, 64)
	if st.number && !st.percent {
		return append(b, s...)
	}
	if st.decimalComma {
		s = strings.Replace(s, ".", ",", 1)
	}
	if st.percent {
		s += " %"
	}
	return appendString(b, s)
}

// absent writes a value the API leaves out.
func (st style) absent(b []byte) []byte {
	if st.blank {
		return appendString(b, "")
	}
	return appendString(b, "-")
}

func clockText(n int) string {
	return pad2(n/3600) + ":" + pad2(n/60%60) + ":" + pad2(n%60)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func groupThousands(s string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// appendSkill writes one skills row.
func (f *Format) appendSkill(b []byte, r *SkillRow, zeroSeg bool) []byte {
	m := members{b: append(b, '{'), override: r.Override}
	st := func(name string) style { return f.style(r.ID, name) }
	m.raw("skill_id", appendString(nil, r.ID))
	m.raw("skill_name", appendString(nil, r.Name))
	m.raw("calls_in_queue_now", st("calls_in_queue_now").count(nil, r.InQueue))
	m.raw("stat_inbound", st("stat_inbound").count(nil, r.Inbound))
	m.raw("stat_answer", st("stat_answer").count(nil, r.Answered))
	m.raw("stat_abandon", st("stat_abandon").count(nil, r.Abandoned))
	if zeroSeg {
		m.raw("service_level_0seg", st("service_level_0seg").ratio(nil, 0))
	}
	thresholds := make([]int, 0, len(r.ServiceLevel))
	for n := range r.ServiceLevel {
		thresholds = append(thresholds, n)
	}
	sort.Ints(thresholds)
	for _, n := range thresholds {
		name := "service_level_" + strconv.Itoa(n) + "seg"
		m.raw(name, st(name).ratio(nil, r.ServiceLevel[n]))
	}
	m.raw("by_abandon", st("by_abandon").ratio(nil, r.AbandonRatio))
	return m.end()
}

// appendAgent writes one agents row.
func (f *Format) appendAgent(b []byte, r *AgentRow) []byte {
	m := members{b: append(b, '{'), override: r.Override}
	st := func(name string) style { return f.style(r.ID, name) }
	m.raw("agent_id", appendString(nil, r.ID))
	m.raw("agent_name", appendString(nil, r.Name))
	m.raw("agent_dni", appendString(nil, r.DNI))
	m.raw("agent_status", appendString(nil, r.Status))
	m.raw("time_state_now", st("time_state_now").seconds(nil, r.InStatus))
	m.raw("calls", st("calls").count(nil, r.Calls))
	m.raw("inbound", st("inbound").count(nil, r.Inbound))
	m.raw("outbound", st("outbound").count(nil, r.Outbound))
	m.raw("internal", st("internal").count(nil, r.Internal))
	for _, t := range []struct {
		name string
		v    int
	}{
		{"ready_time", r.Ready}, {"inbound_time", r.InboundTime}, {"outbound_time", r.OutboundTime},
		{"acw_time", r.ACW}, {"ring_time", r.Ring}, {"login_time", r.Login}, {"aux_time", r.Aux},
	} {
		m.raw(t.name, st(t.name).seconds(nil, t.v))
	}
	if r.HasAHT {
		m.raw("aht_time", st("aht_time").seconds(nil, r.AHT))
	} else {
		m.raw("aht_time", st("aht_time").absent(nil))
	}
	if r.HasOccupancy {
		m.raw("ocupation", st("ocupation").ratio(nil, r.Occupancy))
	} else {
		m.raw("ocupation", st("ocupation").absent(nil))
	}
	return m.end()
}

// members writes an object's members, each replaced by its override, and
// then any override not yet written, in name order.
type members struct {
	b        []byte
	override map[string]string
	written  []string
}

func (m *members) raw(name string, value []byte) {
	if len(m.b) > 0 && m.b[len(m.b)-1] != '{' {
		m.b = append(m.b, ',')
	}
	m.b = appendString(m.b, name)
	m.b = append(m.b, ':')
	if v, ok := m.override[name]; ok {
		m.written = append(m.written, name)
		m.b = append(m.b, v...)
		return
	}
	m.b = append(m.b, value...)
}

func (m *members) end() []byte {
	var extra []string
	for name := range m.override {
		if !contains(m.written, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		m.raw(name, nil)
	}
	return append(m.b, '}')
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// appendRows writes the rows, with ids, as data in shape, into an envelope
// with code (or none, for DataBare), and "error":null before data when
// errorNull. It leaves the envelope open.
func appendRows(b []byte, code any, shape DataShape, ids []string, rows [][]byte, errorNull bool) []byte {
	if shape == DataBare {
		b = append(b, '[')
		for i, r := range rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		return append(b, ']')
	}
	b = envelopeHeadError(b, code, len(rows), errorNull)
	b = b[:len(b)-1] // envelopeHead opens a list
	switch {
	case shape == DataRow && len(rows) == 1:
		b = append(b, rows[0]...)
	case shape == DataKeyed || shape == DataRow:
		b = append(b, '{')
		for i, r := range rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, ids[i])
			b = append(b, ':')
			b = append(b, r...)
		}
		b = append(b, '}')
	default:
		b = append(b, '[')
		for i, r := range rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		b = append(b, ']')
	}
	return b
}
