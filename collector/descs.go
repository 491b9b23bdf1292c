package collector

import "github.com/prometheus/client_golang/prometheus"

const namespace = "wolkvox"

// cached is appended to the help of every metric made from report data.
const cached = " Served from the exporter's cache of the last poll; a scrape never calls the API."

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// descs are the metrics the exporter serves, in one place so the README's
// table and the catalogue test can be checked against them.
var descs = struct {
	transfers, agentTransfers, transferDuration, agentInfo                    *prometheus.Desc
	chats, chatsClosed, agentChats, survey, resolution                        *prometheus.Desc
	typifications, typificationInfo                                           *prometheus.Desc
	windowTransfers, windowChats, windowSurveyAverage, windowStart, windowEnd *prometheus.Desc
	up, lastSuccess, pollDuration, pollFailures, records, duplicates, invalid *prometheus.Desc
	requests, skipped, pollInterval, dailyQuota                               *prometheus.Desc
}{
	transfers:           desc("transfers_total", "Transfer and conference legs (agent_13_1 records), counted once each."+cached, "type_call", "skill_id"),
	agentTransfers:      desc("agent_transfers_total", "Transfer and conference legs by the agent who made (origin) or received (destination) them."+cached, "agent_id", "role", "type_call"),
	transferDuration:    desc("transfer_duration_seconds", "Duration of transfer and conference legs (agent_13_1 time)."+cached, "type_call"),
	agentInfo:           desc("agent_info", "Agent names by id, for joins with group_left; the latest name seen wins."+cached, "agent_id", "agent_name"),
	chats:               desc("chat_interactions_total", "Chat, e-mail and social interactions (chat_4 cases), counted once per case."+cached, "channel", "skill_id"),
	chatsClosed:         desc("chat_interactions_closed_total", "Interactions counted once per case when first seen with status close."+cached, "channel", "skill_id"),
	agentChats:          desc("agent_chat_interactions_total", "Interactions by agent name (chat_4 has no agent id), once per case."+cached, "agent_name", "channel"),
	survey:              desc("chat_survey_score", "Customer survey scores of interactions, once per case."+cached, "channel"),
	resolution:          desc("chat_resolution_duration_seconds", "Time from creation to close of closed interactions."+cached, "channel"),
	typifications:       desc("chat_typifications_total", "Interactions by typification code, once per case."+cached, "cod_act", "channel"),
	typificationInfo:    desc("chat_typification_info", "Typification code descriptions, for joins; the latest seen wins."+cached, "cod_act", "cod_description"),
	windowTransfers:     desc("window_transfers", "Transfer legs in the latest polled window."+cached, "type_call"),
	windowChats:         desc("window_chat_interactions", "Interactions in the latest polled window by status; status open is the backlog."+cached, "channel", "status"),
	windowSurveyAverage: desc("window_chat_survey_score_average", "Average survey score in the latest polled window; absent when no customer answered."+cached, "channel"),
	windowStart:         desc("window_start_timestamp_seconds", "Start of the latest polled window."+cached, "report"),
	windowEnd:           desc("window_end_timestamp_seconds", "End of the latest polled window."+cached, "report"),
	up:                  desc("report_up", "1 if the last poll of the report succeeded, 0 if it failed."+cached, "report"),
	lastSuccess:         desc("report_last_success_timestamp_seconds", "When the report was last polled successfully."+cached, "report"),
	pollDuration:        desc("report_poll_duration_seconds", "How long the last poll of the report took."+cached, "report"),
	pollFailures:        desc("report_poll_failures_total", "Failed polls by reason."+cached, "report", "reason"),
	records:             desc("report_records_total", "Records counted, duplicates excluded."+cached, "report"),
	duplicates:          desc("report_duplicate_records_total", "Records seen again (window boundaries, cases updated) and not counted again."+cached, "report"),
	invalid:             desc("report_invalid_fields_total", "Fields that could not be parsed (dates, durations, scores, objects for strings); the record was still counted."+cached, "report", "field"),
	requests:            desc("api_requests_total", "Calls to the Wolkvox API by HTTP status (none: no response). Each call spends one token of the operation's daily quota."+cached, "report", "code"),
	skipped:             desc("report_skipped_seconds_total", "Time never fetched because an outage outlasted --poll.max-catchup."+cached, "report"),
	pollInterval:        desc("exporter_poll_interval_seconds", "The configured --poll.interval."),
	dailyQuota:          desc("api_daily_quota_tokens", "The operation's daily token quota, as configured with --wolkvox.daily-quota."),
}
