package ledger

// Kinds of metric, for the catalogue.
const (
	KindCounter   = "counter"
	KindGauge     = "gauge"
	KindHistogram = "histogram"
	KindSummary   = "summary"
)

// namespace is every metric name's prefix.
const namespace = "wolkvox"

// cached is appended to the help of every metric made from report data.
const cached = " Served from the exporter's cache of the last poll; a scrape never calls the API."

// Family is one metric family of the exporter, named here and nowhere
// else: descriptors, the state file's layout (key, label count), series
// caps and the overflow metric's names, rendering and backfilled samples
// all derive from its entry in the catalogue.
type Family struct {
	// Name is the metric name.
	Name string
	// Kind is KindCounter, KindGauge, KindHistogram or KindSummary.
	Kind   string
	Help   string
	Labels []string // variable labels, in order
	// Key names a family of counted data in the state file; "" for the
	// families rendered afresh from what a ledger holds, or kept by the
	// exporter itself.
	Key string
	// Scope says who serves the family: ScopeLedger (a ledger's data),
	// ScopeHealth (an operation's polling, live), ScopeExporter (the
	// exporter's, with no operation label).
	Scope Scope
	// own marks the exporter's own accounting among counted data
	// (records, invalid fields, skipped time): few series, not named by
	// series_overflow_total.
	own bool
	// counter or histogram is a counted family in an aggregate.
	counter   func(*Aggregate) *counterFamily
	histogram func(*Aggregate) *histogramFamily
}

// Scope is who serves a family.
type Scope int

const (
	ScopeLedger   Scope = iota // rendered from a ledger, after each save
	ScopeHealth                // an operation's polling, live as calls end
	ScopeExporter              // exporter-wide, no operation label
	ScopeSnapshot              // a real-time snapshot, served while fresh
)

// dataFamilies is the catalogue of counted data, in exposition order.
func dataFamilies() []Family {
	return []Family{
		{Key: "transfers", Name: namespace + "_transfers_total", Kind: KindCounter, Labels: []string{"type_call", "skill_id"},
			Help:    "Transfer and conference legs (agent_13_1 records), counted once each." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.transfers }},
		{Key: "agent_transfers", Name: namespace + "_agent_transfers_total", Kind: KindCounter, Labels: []string{"agent_id", "role", "type_call"},
			Help:    "Transfer and conference legs by the agent who made (origin) or received (destination) them." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.agentTransfers }},
		{Key: "transfer_duration", Name: namespace + "_transfer_duration_seconds", Kind: KindHistogram, Labels: []string{"type_call"},
			Help:      "Duration of transfer and conference legs (agent_13_1 time)." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.transferDuration }},
		{Key: "chats", Name: namespace + "_chat_interactions_total", Kind: KindCounter, Labels: []string{"channel", "skill_id"},
			Help:    "Chat, e-mail and social interactions (chat_4 cases), counted once per case when first seen." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chats }},
		{Key: "chats_closed", Name: namespace + "_chat_interactions_closed_total", Kind: KindCounter, Labels: []string{"channel", "skill_id", "closed_by"},
			Help:    "Cases counted once when first seen with status close, by who closed them: an agent, or the platform's timeout (cod_act TIMEOUT...; unknown for closes counted before the label)." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chatsClosed }},
		{Key: "chats_archived", Name: namespace + "_chat_interactions_archived_total", Kind: KindCounter, Labels: []string{"channel", "skill_id"},
			Help:    "Cases counted once when first seen with status archived." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.chatsArchived }},
		{Key: "agent_chats", Name: namespace + "_agent_chat_interactions_total", Kind: KindCounter, Labels: []string{"agent_name", "channel"},
			Help:    "Interactions by agent name (chat_4 has no agent id), once per case." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.agentChats }},
		{Key: "agent_closes", Name: namespace + "_agent_chat_closes_total", Kind: KindCounter, Labels: []string{"agent_name", "channel", "closed_by"},
			Help:    "Cases closed, by the agent they were assigned to and by who closed them (agent, or the platform's timeout): the share of timeouts is a discipline figure." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.agentCloses }},
		{Key: "agent_survey", Name: namespace + "_agent_chat_survey_score", Kind: KindSummary, Labels: []string{"agent_name"},
			Help:      "Customer survey scores by agent name, once per case when first seen answered; count and sum only, to keep two series per agent." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.agentSurvey }},
		{Key: "survey", Name: namespace + "_chat_survey_score", Kind: KindHistogram, Labels: []string{"channel"},
			Help:      "Customer survey scores, once per case when first seen answered." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.survey }},
		{Key: "resolution", Name: namespace + "_chat_resolution_duration_seconds", Kind: KindHistogram, Labels: []string{"channel"},
			Help:      "close_date - date_creation of cases an agent closed, once when first seen closed; closes by the platform's timeout are left out." + cached,
			histogram: func(a *Aggregate) *histogramFamily { return a.resolution }},
		{Key: "typifications", Name: namespace + "_chat_typifications_total", Kind: KindCounter, Labels: []string{"cod_act", "channel"},
			Help:    "Cases by typification code, once per case when first seen typified." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.typifications }},
		{Key: "follow_given_up", Name: namespace + "_chat_follow_given_up_total", Kind: KindCounter, Labels: []string{"channel", "skill_id"},
			Help:    "Cases still open at --chat.follow.max-age, given up on once each: no longer read, counted or shown open, and their close, should it come, never counted." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.givenUp }},
		{Key: "records", own: true, Name: namespace + "_report_records_total", Kind: KindCounter, Labels: []string{"report"},
			Help:    "Records counted, duplicates excluded." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.records }},
		{Key: "duplicates", own: true, Name: namespace + "_report_duplicate_records_total", Kind: KindCounter, Labels: []string{"report"},
			Help:    "Records seen again (window boundaries, revisits, cases updated) and not counted again as new." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.duplicates }},
		{Key: "invalid", own: true, Name: namespace + "_report_invalid_fields_total", Kind: KindCounter, Labels: []string{"report", "field"},
			Help:    "Fields that could not be parsed (dates, durations, scores, objects for strings); the record was still counted." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.invalid }},
		{Key: "skipped", own: true, Name: namespace + "_report_skipped_seconds_total", Kind: KindCounter, Labels: []string{"report"},
			Help:    "Time never fetched because an outage outlasted --poll.max-catchup." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.skipped }},
		{Key: "poisoned", own: true, Name: namespace + "_report_poison_skipped_seconds_total", Kind: KindCounter, Labels: []string{"report"},
			Help:    "Seconds of a report skipped because a record in them broke every response that held it; the log names each." + cached,
			counter: func(a *Aggregate) *counterFamily { return a.poisoned }},
	}
}

// counterFamilies and histogramFamilies are an aggregate's families by
// state file key.
func (a *Aggregate) counterFamilies() map[string]*counterFamily {
	out := map[string]*counterFamily{}
	for _, f := range dataFamilies() {
		if f.counter != nil {
			out[f.Key] = f.counter(a)
		}
	}
	return out
}

func (a *Aggregate) histogramFamilies() map[string]*histogramFamily {
	out := map[string]*histogramFamily{}
	for _, f := range dataFamilies() {
		if f.histogram != nil {
			out[f.Key] = f.histogram(a)
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
		key := f.Key
		if f.histogram != nil {
			key = "h:" + key
		}
		out[key] = len(f.Labels)
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
			out[f.Name] = &f.counter(a).seriesCap
		default:
			out[f.Name] = &f.histogram(a).seriesCap
		}
	}
	return out
}

// Names of the families that are not counted data, for the code that
// serves them.
const (
	AgentInfo            = namespace + "_agent_info"
	TypificationInfo     = namespace + "_chat_typification_info"
	OpenChats            = namespace + "_chat_open_interactions"
	OldestOpen           = namespace + "_chat_oldest_open_age_seconds"
	OpenOlderThan        = namespace + "_chat_open_older_than_interactions"
	OpenPastTarget       = namespace + "_chat_open_past_target_interactions"
	TargetOpenAge        = namespace + "_target_chat_open_age_seconds"
	OpenStaleness        = namespace + "_chat_open_staleness_seconds"
	FollowedChats        = namespace + "_chat_followed_interactions"
	FollowCallsPerDay    = namespace + "_exporter_chat_follow_calls_per_day"
	FilterInfo           = namespace + "_chat_filter_date_info"
	WindowTransfers      = namespace + "_window_transfers"
	SeriesOverflow       = namespace + "_series_overflow_total"
	PollInterval         = namespace + "_exporter_poll_interval_seconds"
	RevisitHorizon       = namespace + "_exporter_chat_revisit_seconds"
	DailyQuota           = namespace + "_api_daily_quota_tokens"
	WindowStart          = namespace + "_window_start_timestamp_seconds"
	WindowEnd            = namespace + "_window_end_timestamp_seconds"
	ReportUp             = namespace + "_report_up"
	LastSuccess          = namespace + "_report_last_success_timestamp_seconds"
	PollDuration         = namespace + "_report_poll_duration_seconds"
	PollFailures         = namespace + "_report_poll_failures_total"
	APIRequests          = namespace + "_api_requests_total"
	StateSaveFailures    = namespace + "_exporter_state_save_failures_total"
	StateLastSave        = namespace + "_exporter_state_last_save_timestamp_seconds"
	ReloadSuccessful     = namespace + "_exporter_config_last_reload_successful"
	ReloadSuccessSeconds = namespace + "_exporter_config_last_reload_success_timestamp_seconds"
	Operations           = namespace + "_exporter_operations"
	BuildInfo            = namespace + "_exporter_build_info"
	PlannedCalls         = namespace + "_exporter_planned_calls_per_day"

	SkillInfo             = namespace + "_skill_info"
	SkillCallsInQueue     = namespace + "_skill_calls_in_queue"
	SkillServiceLevel     = namespace + "_skill_service_level_ratio"
	SkillAbandoned        = namespace + "_skill_abandoned_ratio"
	SkillInboundToday     = namespace + "_skill_inbound_calls_today"
	SkillAnsweredToday    = namespace + "_skill_answered_calls_today"
	SkillAbandonedToday   = namespace + "_skill_abandoned_calls_today"
	TargetServiceLevel    = namespace + "_target_service_level_ratio"
	TargetQueue           = namespace + "_target_calls_in_queue"
	TargetAbandoned       = namespace + "_target_abandoned_ratio"
	Agents                = namespace + "_agents"
	AgentStatus           = namespace + "_agent_status"
	AgentStatusSeconds    = namespace + "_agent_status_seconds"
	AgentCallsToday       = namespace + "_agent_calls_today"
	AgentStateTimeToday   = namespace + "_agent_state_seconds_today"
	AgentHandleTime       = namespace + "_agent_handle_time_average_seconds"
	AgentOccupancy        = namespace + "_agent_occupancy_ratio"
	QuotaLimit            = namespace + "_quota_tokens_limit"
	QuotaUsedToday        = namespace + "_quota_tokens_used_today"
	SnapshotInvalidFields = namespace + "_snapshot_invalid_fields_total"
)

// Catalogue is every family the exporter serves but build_info (which
// client_golang's version collector makes): counted data, what a ledger
// renders afresh, an operation's live health, and the exporter's own.
func Catalogue() []Family {
	gauge := func(name, help string, scope Scope, labels ...string) Family {
		return Family{Name: name, Kind: KindGauge, Help: help, Scope: scope, Labels: labels}
	}
	counter := func(name, help string, scope Scope, labels ...string) Family {
		return Family{Name: name, Kind: KindCounter, Help: help, Scope: scope, Labels: labels}
	}
	return append(dataFamilies(),
		gauge(AgentInfo, "Agent names by id, for joins with group_left; the latest name seen wins."+cached, ScopeLedger, "agent_id", "agent_name"),
		gauge(TypificationInfo, "Typification code descriptions, for joins; the latest seen wins."+cached, ScopeLedger, "cod_act", "cod_description"),
		gauge(OpenChats, "Cases seen open and not since seen closed or archived: the backlog. With --chat.follow, every case held open up to --chat.follow.max-age, whatever its age; without, those created within the revisit horizon. Each case is as fresh as its last read (wolkvox_chat_open_staleness_seconds)."+cached, ScopeLedger, "channel", "skill_id"),
		gauge(OldestOpen, "Age at the last poll of the oldest case counted in wolkvox_chat_open_interactions; 0 when there is none."+cached, ScopeLedger, "channel"),
		gauge(OpenOlderThan, "Cases counted in wolkvox_chat_open_interactions older than older_than (24h, 48h, 72h, 168h) at the last poll."+cached, ScopeLedger, "channel", "older_than"),
		gauge(OpenPastTarget, "Cases counted in wolkvox_chat_open_interactions that their last read saw open past the operation's chat_open_age target (wolkvox_target_chat_open_age_seconds): never raised by a stale read."+cached, ScopeLedger, "channel"),
		gauge(TargetOpenAge, "The configured chat_open_age target: the age by which an open case should be closed.", ScopeLedger),
		gauge(OpenStaleness, "Seconds since the least recent read of a case counted open: how stale wolkvox_chat_open_interactions can be."+cached, ScopeLedger),
		gauge(FollowedChats, "Cases --chat.follow waits on beyond the revisit's reach: open, or closed and awaiting a survey or typification."+cached, ScopeLedger),
		gauge(FollowCallsPerDay, "The daily budget of calls re-reading the windows of followed cases (--chat.follow.max-calls-per-day); 0 when following is off.", ScopeLedger),
		gauge(FilterInfo, "The date chat_4 filters on, as inferred from its responses: date_creation, close_date, last_change, or unknown until the evidence settles it."+cached, ScopeLedger, "filter"),
		gauge(WindowTransfers, "Transfer legs in the latest polled agent_13_1 window."+cached, ScopeLedger, "type_call"),
		gauge(WindowStart, "Start of the latest new window read."+cached, ScopeHealth, "report"),
		gauge(WindowEnd, "End of the latest new window read."+cached, ScopeHealth, "report"),
		gauge(ReportUp, "1 if the last poll of the report succeeded, 0 if it failed; set as soon as a poll ends."+cached, ScopeHealth, "report"),
		gauge(LastSuccess, "When the report was last polled successfully."+cached, ScopeHealth, "report"),
		gauge(PollDuration, "How long the last poll of the report took."+cached, ScopeHealth, "report"),
		counter(PollFailures, "Failed polls and revisits by reason; restarts at 0 with the process."+cached, ScopeHealth, "report", "reason"),
		counter(APIRequests, "Calls to the Wolkvox API by HTTP status (none: no response) and purpose (new windows, or chat_4 revisits). Each call spends one token of the operation's daily quota. Counted as each call ends; restarts at 0 with the process."+cached, ScopeHealth, "report", "code", "purpose"),
		counter(SeriesOverflow, "Observations counted under the all-\"other\" series because their metric reached --collector.max-series-per-metric label combinations."+cached, ScopeLedger, "metric"),
		gauge(PollInterval, "The configured --poll.interval.", ScopeLedger),
		gauge(RevisitHorizon, "The configured --chat.revisit horizon; 0 when revisiting is off.", ScopeLedger),
		gauge(DailyQuota, "The operation's daily token quota, as configured with --wolkvox.daily-quota.", ScopeLedger),
		counter(StateSaveFailures, "Failed writes of the state file; while they fail, a restart re-reads and may miss what was polled since the last good save.", ScopeHealth),
		gauge(StateLastSave, "When the state file was last written successfully.", ScopeHealth),
		gauge(PlannedCalls, "Calls a day the operation's settings plan to spend of its daily token quota: new windows, chat_4 revisits, real-time snapshots and token_info; retries and splits come on top.", ScopeLedger),
		gauge(SkillInfo, "Skill names by id, from the latest real-time snapshot, for joins.", ScopeSnapshot, "skill_id", "skill_name"),
		gauge(SkillCallsInQueue, "Calls waiting in the skill's queue now (real_time skills calls_in_queue_now).", ScopeSnapshot, "skill_id"),
		gauge(SkillServiceLevel, "Share of the day's calls to the skill answered within threshold_seconds (service_level_Nseg), 0 to 1.", ScopeSnapshot, "skill_id", "threshold_seconds"),
		gauge(SkillAbandoned, "Share of the day's inbound calls to the skill that the caller hung up on before an agent answered (by_abandon), 0 to 1.", ScopeSnapshot, "skill_id"),
		gauge(SkillInboundToday, "Inbound calls to the skill so far today, as the platform counts them (stat_inbound); a gauge, as the platform's day and semantics are its own.", ScopeSnapshot, "skill_id"),
		gauge(SkillAnsweredToday, "Answered calls to the skill so far today (stat_answer).", ScopeSnapshot, "skill_id"),
		gauge(SkillAbandonedToday, "Abandoned calls to the skill so far today (stat_abandon).", ScopeSnapshot, "skill_id"),
		gauge(TargetServiceLevel, "The configured service-level target of the skill: the share of calls to answer within threshold_seconds.", ScopeSnapshot, "skill_id", "threshold_seconds"),
		gauge(TargetQueue, "The configured most calls the skill's queue should hold.", ScopeSnapshot, "skill_id"),
		gauge(TargetAbandoned, "The configured highest share of abandoned calls for the skill.", ScopeSnapshot, "skill_id"),
		gauge(Agents, "Agents logged in, by their status now (free text the operation defines).", ScopeSnapshot, "status"),
		gauge(AgentStatus, "1 for each agent's status now (one series per agent).", ScopeSnapshot, "agent_id", "agent_name", "status"),
		gauge(AgentStatusSeconds, "Seconds the agent has been in the current status (time_state_now).", ScopeSnapshot, "agent_id"),
		gauge(AgentCallsToday, "The agent's calls so far today, by direction (all, inbound, outbound, internal).", ScopeSnapshot, "agent_id", "direction"),
		gauge(AgentStateTimeToday, "Seconds the agent spent today in each state (ready, inbound, outbound, acw, ring, login, aux).", ScopeSnapshot, "agent_id", "state"),
		gauge(AgentHandleTime, "The agent's average handle time today, in seconds (aht_time).", ScopeSnapshot, "agent_id"),
		gauge(AgentOccupancy, "The agent's occupancy today, 0 to 1 (ocupation).", ScopeSnapshot, "agent_id"),
		gauge(QuotaLimit, "The operation's daily token limit, from token_info.", ScopeSnapshot),
		gauge(QuotaUsedToday, "Tokens spent today, by this exporter's token (scope=token) or by every token of the operation (scope=operation), from token_info.", ScopeSnapshot, "scope"),
		counter(SnapshotInvalidFields, "Fields of real-time snapshots that could not be parsed or were out of range; the value was left out. Restarts at 0 with the process.", ScopeHealth, "report", "field"),
		gauge(ReloadSuccessful, "1 if the last configuration reload succeeded, 0 if it failed and the previous configuration still runs.", ScopeExporter),
		gauge(ReloadSuccessSeconds, "When the configuration was last loaded successfully, at start or by a reload.", ScopeExporter),
		gauge(Operations, "Operations the exporter polls.", ScopeExporter),
	)
}
