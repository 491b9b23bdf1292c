package collector

// dataFamily is one family of counted data, named here and nowhere else:
// its descriptor, its place in the state file (key, label count), its
// series cap and overflow label, its rendering and its backfilled samples
// all derive from this entry.
type dataFamily struct {
	key    string // its name in the state file
	name   string // its metric name, without the namespace
	kind   string // kindCounter, kindHistogram or kindSummary
	help   string
	labels []string
	// own marks the exporter's own accounting (records, invalid fields,
	// skipped time): few series, not named by series_overflow_total.
	own bool
	// counter or histogram is the family in an aggregate.
	counter   func(*Aggregate) *counterFamily
	histogram func(*Aggregate) *histogramFamily
}

// dataFamilies is the catalogue of counted data, in exposition order.
func dataFamilies() []dataFamily {
	return []dataFamily{
		{key: "transfers", name: "transfers_total", kind: kindCounter, labels: []string{"type_call", "skill_id"},
			help:    "Transfer and conference legs (agent_13_1 records), counted once each." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.transfers }},
		{key: "agent_transfers", name: "agent_transfers_total", kind: kindCounter, labels: []string{"agent_id", "role", "type_call"},
			help:    "Transfer and conference legs by the agent who made (origin) or received (destination) them." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.agentTransfers }},
		{key: "transfer_duration", name: "transfer_duration_seconds", kind: kindHistogram, labels: []string{"type_call"},
			help:      "Duration of transfer and conference legs (agent_13_1 time)." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.transferDuration }},
		{key: "chats", name: "chat_interactions_total", kind: kindCounter, labels: []string{"channel", "skill_id"},
			help:    "Chat, e-mail and social interactions (chat_4 cases), counted once per case when first seen." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chats }},
		{key: "chats_closed", name: "chat_interactions_closed_total", kind: kindCounter, labels: []string{"channel", "skill_id"},
			help:    "Cases counted once when first seen with status close." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chatsClosed }},
		{key: "chats_archived", name: "chat_interactions_archived_total", kind: kindCounter, labels: []string{"channel", "skill_id"},
			help:    "Cases counted once when first seen with status archived." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chatsArchived }},
		{key: "agent_chats", name: "agent_chat_interactions_total", kind: kindCounter, labels: []string{"agent_name", "channel"},
			help:    "Interactions by agent name (chat_4 has no agent id), once per case." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.agentChats }},
		{key: "agent_survey", name: "agent_chat_survey_score", kind: kindSummary, labels: []string{"agent_name"},
			help:      "Customer survey scores by agent name, once per case when first seen answered; count and sum only, to keep two series per agent." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.agentSurvey }},
		{key: "survey", name: "chat_survey_score", kind: kindHistogram, labels: []string{"channel"},
			help:      "Customer survey scores, once per case when first seen answered." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.survey }},
		{key: "resolution", name: "chat_resolution_duration_seconds", kind: kindHistogram, labels: []string{"channel"},
			help:      "close_date - date_creation of cases, once when first seen closed." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.resolution }},
		{key: "typifications", name: "chat_typifications_total", kind: kindCounter, labels: []string{"cod_act", "channel"},
			help:    "Cases by typification code, once per case when first seen typified." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.typifications }},
		{key: "records", own: true, name: "report_records_total", kind: kindCounter, labels: []string{"report"},
			help:    "Records counted, duplicates excluded." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.records }},
		{key: "duplicates", own: true, name: "report_duplicate_records_total", kind: kindCounter, labels: []string{"report"},
			help:    "Records seen again (window boundaries, revisits, cases updated) and not counted again as new." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.duplicates }},
		{key: "invalid", own: true, name: "report_invalid_fields_total", kind: kindCounter, labels: []string{"report", "field"},
			help:    "Fields that could not be parsed (dates, durations, scores, objects for strings); the record was still counted." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.invalid }},
		{key: "skipped", own: true, name: "report_skipped_seconds_total", kind: kindCounter, labels: []string{"report"},
			help:    "Time never fetched because an outage outlasted --poll.max-catchup." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.skipped }},
		{key: "poisoned", own: true, name: "report_poison_skipped_seconds_total", kind: kindCounter, labels: []string{"report"},
			help:    "Seconds of a report skipped because a record in them broke every response that held it; the log names each." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.poisoned }},
	}
}

// counterFamilies and histogramFamilies are an aggregate's families by
// state file key.
func (a *Aggregate) counterFamilies() map[string]*counterFamily {
	out := map[string]*counterFamily{}
	for _, f := range dataFamilies() {
		if f.counter != nil {
			out[f.key] = f.counter(a)
		}
	}
	return out
}

func (a *Aggregate) histogramFamilies() map[string]*histogramFamily {
	out := map[string]*histogramFamily{}
	for _, f := range dataFamilies() {
		if f.histogram != nil {
			out[f.key] = f.histogram(a)
		}
	}
	return out
}

// familyArity is how many labels each saved family's series have in this
// version, by state file key, histograms' prefixed "h:"; a file from a
// version with other labels is refused, not served.
func familyArity() map[string]int {
	out := map[string]int{}
	for _, f := range dataFamilies() {
		key := f.key
		if f.histogram != nil {
			key = "h:" + key
		}
		out[key] = len(f.labels)
	}
	return out
}

// families names every capped family by metric name, for the overflow
// metric.
func (a *Aggregate) families() map[string]*seriesCap {
	out := map[string]*seriesCap{}
	for _, f := range dataFamilies() {
		switch {
		case f.own:
		case f.counter != nil:
			out[namespace+"_"+f.name] = &f.counter(a).seriesCap
		default:
			out[namespace+"_"+f.name] = &f.histogram(a).seriesCap
		}
	}
	return out
}
