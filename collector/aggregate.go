package collector

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Limits on label cardinality. They are far above what a real operation
// has and exist to survive a broken response.
const (
	maxUnknownTypeCalls = 32
	maxSkills           = 1000
	maxChannels         = 32
	maxCodes            = 1000
	maxAgents           = 20000
)

type transferKey struct{ typeCall, skill string }
type agentTransferKey struct{ agentID, role, typeCall string }
type chatKey struct{ channel, skill string }
type agentChatKey struct{ agent, channel string }
type typificationKey struct{ code, channel string }
type windowChatKey struct{ channel, status string }

type agentSeen struct {
	name     string
	lastSeen time.Time
}

// Aggregate holds everything the metrics are made of. Only the poller's
// goroutine touches it; scrapes read rendered snapshots.
type Aggregate struct {
	agentsEnabled bool
	agentTTL      time.Duration

	typeCalls, skills, channels, codes, agentIDs, agentNames *labelLimit

	transfers        map[transferKey]float64
	agentTransfers   map[agentTransferKey]float64
	transferDuration map[string]*histogram // by type_call
	agents           map[string]agentSeen  // by agent_id
	chats            map[chatKey]float64
	chatsClosed      map[chatKey]float64
	agentChats       map[agentChatKey]float64
	agentChatSeen    map[string]time.Time  // by agent_name
	agentSurvey      map[string][2]float64 // by agent_name: sum, count
	survey           map[string]*histogram // by channel
	resolution       map[string]*histogram // by channel
	typifications    map[typificationKey]float64
	typificationInfo map[string]string // cod_act -> cod_description

	reports map[wolkvox.Report]*reportState
}

// reportState is what the exporter knows about polling one report.
type reportState struct {
	polled         bool // at least one poll finished, successfully or not
	up             bool
	lastSuccess    time.Time
	pollDuration   time.Duration
	failures       map[wolkvox.Reason]float64
	records        float64
	duplicates     float64
	invalid        map[string]float64 // by field
	requests       map[string]float64 // by HTTP code
	skippedSeconds float64
	lastError      string

	// mark is the end of the last window whose records were all counted;
	// the next window starts there.
	mark time.Time
	// The latest complete window and what it held.
	window          wolkvox.Window
	windowTransfers map[string]float64 // by type_call
	windowChats     map[windowChatKey]float64
	windowSurvey    map[string][2]float64 // by channel: sum, count
}

// countInvalid counts a new record's unparseable fields.
func (rs *reportState) countInvalid(invalid wolkvox.InvalidFields) {
	if invalid != 0 {
		invalid.Each(func(f wolkvox.Field) { rs.invalid[f.String()]++ })
	}
}

func newReportState() *reportState {
	return &reportState{failures: map[wolkvox.Reason]float64{}, invalid: map[string]float64{}, requests: map[string]float64{}}
}

// NewAggregate returns an empty aggregate.
func NewAggregate(agentsEnabled bool, agentTTL time.Duration) *Aggregate {
	a := &Aggregate{
		agentsEnabled:    agentsEnabled,
		agentTTL:         agentTTL,
		typeCalls:        newLabelLimit(maxUnknownTypeCalls, wolkvox.TypeCalls...),
		skills:           newLabelLimit(maxSkills, noneLabel),
		channels:         newLabelLimit(maxChannels, wolkvox.Channels...),
		codes:            newLabelLimit(maxCodes),
		agentIDs:         newLabelLimit(maxAgents),
		agentNames:       newLabelLimit(maxAgents),
		transfers:        map[transferKey]float64{},
		agentTransfers:   map[agentTransferKey]float64{},
		transferDuration: map[string]*histogram{},
		agents:           map[string]agentSeen{},
		chats:            map[chatKey]float64{},
		chatsClosed:      map[chatKey]float64{},
		agentChats:       map[agentChatKey]float64{},
		agentChatSeen:    map[string]time.Time{},
		agentSurvey:      map[string][2]float64{},
		survey:           map[string]*histogram{},
		resolution:       map[string]*histogram{},
		typifications:    map[typificationKey]float64{},
		typificationInfo: map[string]string{},
		reports:          map[wolkvox.Report]*reportState{},
	}
	for _, r := range wolkvox.Reports {
		a.reports[r] = newReportState()
	}
	for _, tc := range wolkvox.TypeCalls {
		a.transferDuration[tc] = newHistogram(transferDurationBuckets)
	}
	for _, ch := range wolkvox.Channels {
		a.survey[ch] = newHistogram(surveyBuckets)
		a.resolution[ch] = newHistogram(resolutionBuckets)
	}
	return a
}

// windowTally collects what one poll's window held, to become the window
// gauges when the whole poll has succeeded.
type windowTally struct {
	transfers map[string]float64
	chats     map[windowChatKey]float64
	survey    map[string][2]float64
}

func newWindowTally() *windowTally {
	return &windowTally{transfers: map[string]float64{}, chats: map[windowChatKey]float64{}, survey: map[string][2]float64{}}
}

// firstInWindow reports whether key is new to this poll's window, and
// marks it seen: the window gauges count each record once, as the counters do.
func firstInWindow(inWindow map[uint64]bool, key uint64) bool {
	if inWindow[key] {
		return false
	}
	inWindow[key] = true
	return true
}

// applyTransfers counts a complete, validated batch of agent_13_1 records
// whose window ends at end. Records already counted are skipped.
func (a *Aggregate) applyTransfers(d *dedupe, recs []wolkvox.Transfer, end time.Time, tally *windowTally, inWindow map[uint64]bool) {
	rs := a.reports[wolkvox.ReportTransfers]
	for i := range recs {
		t := &recs[i]
		key := d.transferKey(t)
		typeCall := a.typeCalls.value(orNone(t.TypeCall))
		if firstInWindow(inWindow, key) {
			tally.transfers[typeCall]++
		}
		if d.mark(key, end, seenCounted)&seenCounted != 0 {
			rs.duplicates++
			continue
		}
		rs.records++
		rs.countInvalid(t.Invalid)
		skill := a.skills.value(orNone(t.SkillID))
		a.transfers[transferKey{typeCall, skill}]++
		if t.HasDuration {
			a.histogramFor(a.transferDuration, typeCall, transferDurationBuckets).observe(t.Duration.Seconds())
		}
		if !a.agentsEnabled {
			continue
		}
		if t.OriginAgentID != "" {
			id := a.agentIDs.value(t.OriginAgentID)
			a.agentTransfers[agentTransferKey{id, "origin", typeCall}]++
			a.seeAgent(id, t.OriginAgentName, end)
		}
		if t.DestinationAgentID != "" {
			id := a.agentIDs.value(t.DestinationAgentID)
			a.agentTransfers[agentTransferKey{id, "destination", typeCall}]++
			a.seeAgent(id, t.DestinationAgentName, end)
		}
	}
}

func (a *Aggregate) seeAgent(id, name string, at time.Time) {
	prev := a.agents[id]
	if name == "" {
		name = prev.name // latest known name wins; an empty one does not erase it
	}
	a.agents[id] = agentSeen{name: name, lastSeen: at}
}

// applyInteractions counts a complete, validated batch of chat_4 records.
// A case adds to each counter once: when first seen, when first seen
// closed, when its survey score first appears, when first typified.
func (a *Aggregate) applyInteractions(d *dedupe, recs []wolkvox.Interaction, end time.Time, tally *windowTally, inWindow map[uint64]bool) {
	rs := a.reports[wolkvox.ReportInteractions]
	for i := range recs {
		c := &recs[i]
		key := d.caseKey(c)
		channel := a.channels.value(orNone(c.Channel))
		if firstInWindow(inWindow, key) {
			tally.chats[windowChatKey{channel, orNone(c.Status)}]++
			if c.HasSurvey {
				s := tally.survey[channel]
				tally.survey[channel] = [2]float64{s[0] + c.Survey, s[1] + 1}
			}
		}
		var flags uint8 = seenCounted
		closed := c.Status == "close"
		if closed {
			flags |= seenClosed
		}
		if c.HasSurvey {
			flags |= seenSurvey
		}
		if c.CodAct != "" {
			flags |= seenTypified
		}
		had := d.mark(key, end, flags)
		newFlags := flags &^ had
		if had&seenCounted != 0 {
			rs.duplicates++
		} else {
			rs.records++
			rs.countInvalid(c.Invalid)
		}
		skill := a.skills.value(orNone(c.SkillID))
		if newFlags&seenCounted != 0 {
			a.chats[chatKey{channel, skill}]++
			if a.agentsEnabled {
				name := a.agentNames.value(orNone(c.AgentName))
				a.agentChats[agentChatKey{name, channel}]++
				a.agentChatSeen[name] = end
			}
		}
		if newFlags&seenClosed != 0 {
			a.chatsClosed[chatKey{channel, skill}]++
			if !c.Closed.IsZero() && !c.Created.IsZero() && !c.Closed.Before(c.Created) {
				a.histogramFor(a.resolution, channel, resolutionBuckets).observe(c.Closed.Sub(c.Created).Seconds())
			}
		}
		if newFlags&seenSurvey != 0 {
			a.histogramFor(a.survey, channel, surveyBuckets).observe(c.Survey)
			if a.agentsEnabled {
				name := a.agentNames.value(orNone(c.AgentName))
				s := a.agentSurvey[name]
				a.agentSurvey[name] = [2]float64{s[0] + c.Survey, s[1] + 1}
				a.agentChatSeen[name] = end
			}
		}
		if c.CodAct != "" {
			code := a.codes.value(c.CodAct)
			if newFlags&seenTypified != 0 {
				a.typifications[typificationKey{code, channel}]++
			}
			if c.CodDescription != "" && code != otherLabel {
				a.typificationInfo[code] = c.CodDescription // the latest description wins
			}
		}
	}
}

func (a *Aggregate) histogramFor(m map[string]*histogram, label string, bounds []float64) *histogram {
	h := m[label]
	if h == nil {
		h = newHistogram(bounds)
		m[label] = h
	}
	return h
}

// forgetIdleAgents drops agents not seen for the TTL from the agent
// metrics, so memory and series stay bounded as staff changes.
func (a *Aggregate) forgetIdleAgents(now time.Time) {
	cutoff := now.Add(-a.agentTTL)
	for id, seen := range a.agents {
		if seen.lastSeen.Before(cutoff) {
			delete(a.agents, id)
			a.agentIDs.forget(id)
		}
	}
	for k := range a.agentTransfers {
		if _, ok := a.agents[k.agentID]; !ok && k.agentID != otherLabel {
			delete(a.agentTransfers, k)
		}
	}
	for name, at := range a.agentChatSeen {
		if at.Before(cutoff) {
			delete(a.agentChatSeen, name)
			a.agentNames.forget(name)
		}
	}
	for k := range a.agentChats {
		if _, ok := a.agentChatSeen[k.agent]; !ok && k.agent != otherLabel {
			delete(a.agentChats, k)
		}
	}
	for name := range a.agentSurvey {
		if _, ok := a.agentChatSeen[name]; !ok && name != otherLabel {
			delete(a.agentSurvey, name)
		}
	}
}
