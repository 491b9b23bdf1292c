package ledger

import (
	"strings"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Limits on the distinct values of one label. They are far above what a
// real operation has and exist to survive a broken response; each metric
// family is further capped at maxSeries label combinations.
const (
	maxUnknownTypeCalls = 32
	maxSkills           = 1000
	maxChannels         = 32
	maxCodes            = 1000
	maxAgents           = 20000
)

type agentSeen struct {
	name     string
	lastSeen time.Time
}

// Aggregate holds the counters the metrics are made of. Only the poller's
// goroutine touches it; scrapes read rendered snapshots.
type Aggregate struct {
	agentsEnabled bool
	agentTTL      time.Duration
	// timeoutCodes are the cod_act prefixes of closes by the platform's
	// timeout, not by an agent.
	timeoutCodes []string

	typeCalls, skills, channels, codes, agentIDs, agentNames *labelLimit

	transfers      *counterFamily // type_call, skill_id
	agentTransfers *counterFamily // agent_id, role, type_call
	chats          *counterFamily // channel, skill_id
	chatsClosed    *counterFamily // channel, skill_id, closed_by
	chatsArchived  *counterFamily // channel, skill_id
	agentChats     *counterFamily // agent_name, channel
	agentCloses    *counterFamily // agent_name, channel, closed_by
	typifications  *counterFamily // cod_act, channel
	records        *counterFamily // report
	duplicates     *counterFamily // report
	invalid        *counterFamily // report, field
	skipped        *counterFamily // report
	poisoned       *counterFamily // report

	transferDuration *histogramFamily // type_call
	survey           *histogramFamily // channel
	resolution       *histogramFamily // channel
	agentSurvey      *histogramFamily // agent_name; count and sum only

	agents           map[string]agentSeen // by agent_id
	agentChatSeen    map[string]time.Time // by agent_name
	typificationInfo map[string]string    // cod_act -> cod_description

	// windowTransfers is what the latest agent_13_1 window held, by type_call.
	windowTransfers map[string]float64

	// caseLabels interns the case book's label pairs; givenUp counts the
	// open cases following gave up on (channel, skill_id).
	caseLabels *caseLabels
	givenUp    *counterFamily
}

// NewAggregate returns an empty aggregate; maxSeries caps each family's
// label combinations (0: DefaultMaxSeriesPerMetric).
func NewAggregate(agentsEnabled bool, agentTTL time.Duration, maxSeries int, timeoutCodes []string) *Aggregate {
	if maxSeries <= 0 {
		maxSeries = DefaultMaxSeriesPerMetric
	}
	counters := func() *counterFamily { return newCounterFamily(maxSeries) }
	// The operation's codes add to the platform's own, never replace them.
	timeoutCodes = append(DefaultTimeoutCodes(), timeoutCodes...)
	a := &Aggregate{
		timeoutCodes:     timeoutCodes,
		agentsEnabled:    agentsEnabled,
		agentTTL:         agentTTL,
		typeCalls:        newLabelLimit(maxUnknownTypeCalls, wolkvox.TypeCalls...),
		skills:           newLabelLimit(maxSkills, noneLabel),
		channels:         newLabelLimit(maxChannels, wolkvox.Channels...),
		codes:            newLabelLimit(maxCodes),
		agentIDs:         newLabelLimit(maxAgents),
		agentNames:       newLabelLimit(maxAgents),
		transfers:        counters(),
		agentTransfers:   counters(),
		chats:            counters(),
		chatsClosed:      counters(),
		chatsArchived:    counters(),
		agentChats:       counters(),
		agentCloses:      counters(),
		typifications:    counters(),
		records:          counters(),
		duplicates:       counters(),
		invalid:          counters(),
		skipped:          counters(),
		poisoned:         counters(),
		transferDuration: newHistogramFamily(maxSeries, transferDurationBuckets),
		survey:           newHistogramFamily(maxSeries, surveyBuckets),
		resolution:       newHistogramFamily(maxSeries, resolutionBuckets),
		agentSurvey:      newHistogramFamily(maxSeries, nil),
		agents:           map[string]agentSeen{},
		agentChatSeen:    map[string]time.Time{},
		typificationInfo: map[string]string{},
		windowTransfers:  map[string]float64{},
		caseLabels:       newCaseLabels(),
		givenUp:          counters(),
	}
	// Known values at 0 before they first occur, so that rate() sees the
	// first increase.
	for _, tc := range wolkvox.TypeCalls {
		a.transfers.touch(tc, noneLabel)
		a.transferDuration.get(tc)
	}
	for _, ch := range wolkvox.Channels {
		for _, f := range []*counterFamily{a.chats, a.chatsArchived, a.givenUp} {
			f.touch(ch, noneLabel)
		}
		for _, by := range closedBy() {
			a.chatsClosed.touch(ch, noneLabel, by)
		}
		a.survey.get(ch)
		a.resolution.get(ch)
	}
	for _, r := range wolkvox.Reports {
		a.records.touch(string(r))
		a.duplicates.touch(string(r))
		a.skipped.touch(string(r))
		a.poisoned.touch(string(r))
		for _, f := range wolkvox.AllFields() {
			a.invalid.touch(string(r), f.String())
		}
	}
	return a
}

// countInvalid counts a new record's unparseable fields.
func (a *Aggregate) countInvalid(report wolkvox.Report, invalid wolkvox.InvalidFields) {
	if invalid != 0 {
		invalid.Each(func(f wolkvox.Field) { a.invalid.add(1, string(report), f.String()) })
	}
}

// applyTransfers counts a complete, validated batch of agent_13_1 records
// whose window ends at end. Records already counted are skipped. It
// returns the batch's distinct records by type_call, for the window gauge.
func (a *Aggregate) applyTransfers(d *dedupe[seenEntry], recs []wolkvox.Transfer, end time.Time, window map[uint64]string) {
	report := string(wolkvox.ReportTransfers)
	for i := range recs {
		t := &recs[i]
		key := d.transferKey(t)
		typeCall := a.typeCalls.value(orNone(t.TypeCall))
		window[key] = typeCall
		e, had := d.seen[key]
		e.at = max(e.at, end.Unix())
		e.flags |= seenCounted
		d.seen[key] = e
		if had {
			a.duplicates.add(1, report)
			continue
		}
		a.records.add(1, report)
		a.countInvalid(wolkvox.ReportTransfers, t.Invalid)
		skill := a.skills.value(orNone(t.SkillID))
		a.transfers.add(1, typeCall, skill)
		if t.HasDuration {
			a.transferDuration.observe(t.Duration.Seconds(), typeCall)
		}
		if !a.agentsEnabled {
			continue
		}
		if t.OriginAgentID != "" {
			id := a.agentIDs.value(t.OriginAgentID)
			a.agentTransfers.add(1, id, "origin", typeCall)
			a.seeAgent(id, t.OriginAgentName, end)
		}
		if t.DestinationAgentID != "" {
			id := a.agentIDs.value(t.DestinationAgentID)
			a.agentTransfers.add(1, id, "destination", typeCall)
			a.seeAgent(id, t.DestinationAgentName, end)
		}
	}
}

func (a *Aggregate) seeAgent(id, name string, at time.Time) {
	prev := a.agents[id]
	if name == "" || id == otherLabel {
		// The latest known name wins; an empty one does not erase it, and
		// the overflow bucket stands for many agents, so it has no name.
		name = prev.name
	}
	a.agents[id] = agentSeen{name: name, lastSeen: at}
}

// applyInteractions counts a complete, validated batch of chat_4 records
// read at window end end. A case adds to each counter once: when first
// seen, when first seen closed, archived, with a survey score, typified.
//
// only, when set, limits the batch to the known cases it accepts (a
// follow read); the rest are only seen again.
func (a *Aggregate) applyInteractions(d *dedupe[caseEntry], recs []wolkvox.Interaction, end time.Time, only func(caseEntry) bool) {
	report := string(wolkvox.ReportInteractions)
	for i := range recs {
		c := &recs[i]
		key := d.caseKey(c)
		e, known := d.seen[key]
		if e.flags&seenGivenUp != 0 {
			// Given up: only seen again, and its mark kept while the API
			// still returns it.
			e.at = max(e.at, unixSeconds(end))
			d.seen[key] = e
			a.duplicates.add(1, report)
			continue
		}
		if only != nil && (!known || !only(e)) {
			a.duplicates.add(1, report) // not this read's to count
			continue
		}
		if !known || e.flags&seenLabelled == 0 { // new, or kept by a version 1 state file
			e.labels = a.caseLabels.intern(chatKey{a.channels.value(orNone(c.Channel)), a.skills.value(orNone(c.SkillID))})
		}
		// A creation date after the read (bad data: the API's dates are
		// never in the future) is not believed: such a case would never
		// reach the max-age, and be held and shown open for ever.
		if e.created == 0 && !c.Created.IsZero() && !c.Created.After(end.Add(24*time.Hour)) {
			e.created = unixSeconds(c.Created)
		}
		e.at = max(e.at, unixSeconds(end))
		var flags = seenCounted | seenLabelled
		switch c.Status {
		case "close":
			flags |= seenClosed
		case "archived":
			flags |= seenArchived
		case "open":
			flags |= seenOpen
		}
		if c.HasSurvey {
			flags |= seenSurvey
		}
		if c.CodAct != "" {
			flags |= seenTypified
		}
		newFlags := flags &^ e.flags
		e.flags |= flags
		if newFlags&(seenClosed|seenArchived) != 0 && e.done == 0 {
			// Settled a day after the close itself, not after the read
			// that saw it: a backfill applies a close dated later at the
			// end of the day it read, and its survey may still be to
			// come a day after that. A close date absurdly far from the
			// read is not believed.
			done := end
			if !c.Closed.IsZero() && c.Closed.Before(end.Add(wolkvox.DefaultMaxWindow)) {
				done = c.Closed
			}
			e.done = unixSeconds(done)
		}
		d.seen[key] = e
		if known {
			a.duplicates.add(1, report)
		} else {
			a.records.add(1, report)
			a.countInvalid(wolkvox.ReportInteractions, c.Invalid)
		}
		labels := a.caseLabels.get(e.labels)
		channel, skill := labels.channel, labels.skill
		if newFlags&seenCounted != 0 {
			a.chats.add(1, channel, skill)
			a.chatsArchived.touch(channel, skill)
			a.givenUp.touch(channel, skill)
			for _, by := range closedBy() {
				a.chatsClosed.touch(channel, skill, by)
			}
			if a.agentsEnabled {
				name := a.agentNames.value(orNone(c.AgentName))
				a.agentChats.add(1, name, channel)
				a.agentChatSeen[name] = end
			}
		}
		if newFlags&seenClosed != 0 {
			// A close by the platform's timeout is nobody's work: counted
			// apart, and kept out of the resolution time, which would
			// otherwise measure the timeout (about 90 % of chats in one
			// operation's data).
			by := closedByAgent
			if a.isTimeout(c.CodAct) {
				by = closedByTimeout
			}
			a.chatsClosed.add(1, channel, skill, by)
			if a.agentsEnabled {
				name := a.agentNames.value(orNone(c.AgentName))
				for _, b := range closedBy() {
					a.agentCloses.touch(name, channel, b) // so increase() sees each first close
				}
				a.agentCloses.add(1, name, channel, by)
				a.agentChatSeen[name] = end
			}
			if by == closedByAgent && !c.Closed.IsZero() && !c.Created.IsZero() && !c.Closed.Before(c.Created) {
				a.resolution.observe(c.Closed.Sub(c.Created).Seconds(), channel)
			}
		}
		if newFlags&seenArchived != 0 {
			a.chatsArchived.add(1, channel, skill)
		}
		if newFlags&seenSurvey != 0 {
			a.survey.observe(c.Survey, channel)
			if a.agentsEnabled {
				name := a.agentNames.value(orNone(c.AgentName))
				a.agentSurvey.observe(c.Survey, name)
				a.agentChatSeen[name] = end
			}
		}
		if c.CodAct != "" {
			code := a.codes.value(c.CodAct)
			if newFlags&seenTypified != 0 {
				a.typifications.add(1, code, channel)
			}
			if c.CodDescription != "" && code != otherLabel {
				a.typificationInfo[code] = c.CodDescription // the latest description wins
			}
		}
	}
}

// forgetIdleAgents drops agents not seen for the TTL from the agent
// metrics, so memory and series stay bounded as staff changes. It makes
// one pass over each family, however many agents leave at once.
func (a *Aggregate) forgetIdleAgents(now time.Time) {
	cutoff := now.Add(-a.agentTTL)
	ids, names := map[string]bool{}, map[string]bool{}
	for id, seen := range a.agents {
		if seen.lastSeen.Before(cutoff) {
			delete(a.agents, id)
			a.agentIDs.forget(id)
			ids[id] = id != otherLabel
		}
	}
	for name, at := range a.agentChatSeen {
		if at.Before(cutoff) {
			delete(a.agentChatSeen, name)
			a.agentNames.forget(name)
			names[name] = name != otherLabel
		}
	}
	forgetLabels(a.agentTransfers.values, 0, ids)
	forgetLabels(a.agentChats.values, 0, names)
	forgetLabels(a.agentCloses.values, 0, names)
	forgetLabels(a.agentSurvey.values, 0, names)
}

// Who closed a case, the closed_by label.
const (
	closedByAgent   = "agent"
	closedByTimeout = "timeout"
	// closedByUnknown marks closes counted by a version that did not tell
	// them apart (a state file from before the label).
	closedByUnknown = "unknown"
)

// DefaultTimeoutCodes are the cod_act prefixes of the platform's own
// closes: TIMEOUTCHAT (chats nobody typified, closed about 23 h after they
// open) and TIMEOUTACW (voice), as an operation's production data shows.
func DefaultTimeoutCodes() []string { return []string{"TIMEOUT"} }

func closedBy() []string { return []string{closedByAgent, closedByTimeout} }

// isTimeout reports whether a close's code marks the platform's timeout:
// one of the configured prefixes (TIMEOUT by default: TIMEOUTCHAT for
// chats, TIMEOUTACW for voice).
func (a *Aggregate) isTimeout(code string) bool {
	for _, p := range a.timeoutCodes {
		if strings.HasPrefix(strings.ToUpper(code), strings.ToUpper(p)) {
			return true
		}
	}
	return false
}
