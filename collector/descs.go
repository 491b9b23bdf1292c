package collector

import "github.com/prometheus/client_golang/prometheus"

const namespace = "wolkvox"

// cached is appended to the help of every metric made from report data.
const cached = " Served from the exporter's cache of the last poll; a scrape never calls the API."

// Kinds of metric, for the catalogue.
const (
	kindCounter   = "counter"
	kindGauge     = "gauge"
	kindHistogram = "histogram"
	kindSummary   = "summary"
)

// catalogueEntry names one metric and its kind.
type catalogueEntry struct {
	name, kind string
	desc       *prometheus.Desc
	labels     []string // variable labels
}

// catalogue returns every metric the collector can serve, in order.
func catalogue() []catalogueEntry {
	var out []catalogueEntry
	newDescs(nil, func(e catalogueEntry) { out = append(out, e) })
	return out
}

// LabelNames returns every label name the collector's series carry:
// operation, le, and each metric's own. A label added to backfilled
// series must not be one of them.
func LabelNames() map[string]bool {
	out := map[string]bool{"operation": true, "le": true, "quantile": true}
	for _, e := range catalogue() {
		for _, l := range e.labels {
			out[l] = true
		}
	}
	return out
}

// MetricNames returns the name of every series the exporter's collector
// can serve, with the _bucket, _sum and _count series of histograms and
// summaries, plus the build_info metric main registers. Tests check rules,
// dashboards and the README against it, so a renamed metric fails the build.
func MetricNames() map[string]string {
	out := map[string]string{namespace + "_exporter_build_info": kindGauge}
	for _, e := range append(catalogue(), registryCatalogue()...) {
		out[e.name] = e.kind
		switch e.kind {
		case kindHistogram:
			out[e.name+"_bucket"] = e.kind
			fallthrough
		case kindSummary:
			out[e.name+"_sum"] = e.kind
			out[e.name+"_count"] = e.kind
		}
	}
	return out
}

// metricDescs are the metrics one operation's poller serves, in one place
// so the README's table and the catalogue test can be checked against
// them. Each carries the operation as a constant label.
type metricDescs struct {
	// data are the counted data's, by dataFamily key (see catalogue.go).
	data map[string]*prometheus.Desc

	agentInfo, typificationInfo, openChats, oldestOpen                 *prometheus.Desc
	filterInfo, windowTransfers, windowStart, windowEnd                *prometheus.Desc
	up, lastSuccess, pollDuration, pollFailures                        *prometheus.Desc
	requests, seriesOverflow, pollInterval, revisitHorizon, dailyQuota *prometheus.Desc
	stateSaveFailures, stateLastSave                                   *prometheus.Desc

	all []*prometheus.Desc
}

// newDescs builds an operation's descriptors with constLabels; record, if
// set, sees each as it is made.
func newDescs(constLabels prometheus.Labels, record func(catalogueEntry)) *metricDescs {
	d := &metricDescs{data: map[string]*prometheus.Desc{}}
	desc := func(name, kind, help string, labels ...string) *prometheus.Desc {
		fq := prometheus.BuildFQName(namespace, "", name)
		pd := prometheus.NewDesc(fq, help, labels, constLabels)
		d.all = append(d.all, pd)
		if record != nil {
			record(catalogueEntry{name: fq, kind: kind, desc: pd, labels: labels})
		}
		return pd
	}
	for _, f := range dataFamilies() {
		d.data[f.key] = desc(f.name, f.kind, f.help, f.labels...)
	}
	d.agentInfo = desc("agent_info", kindGauge, "Agent names by id, for joins with group_left; the latest name seen wins."+cached, "agent_id", "agent_name")
	d.typificationInfo = desc("chat_typification_info", kindGauge, "Typification code descriptions, for joins; the latest seen wins."+cached, "cod_act", "cod_description")
	d.openChats = desc("chat_open_interactions", kindGauge, "Cases seen open and not since seen closed or archived, created within the revisit horizon: the backlog."+cached, "channel", "skill_id")
	d.oldestOpen = desc("chat_oldest_open_age_seconds", kindGauge, "Age at the last poll of the oldest case counted in wolkvox_chat_open_interactions; 0 when there is none."+cached, "channel")
	d.filterInfo = desc("chat_filter_date_info", kindGauge, "The date chat_4 filters on, as inferred from its responses: date_creation, close_date, last_change, or unknown until the evidence settles it."+cached, "filter")
	d.windowTransfers = desc("window_transfers", kindGauge, "Transfer legs in the latest polled agent_13_1 window."+cached, "type_call")
	d.windowStart = desc("window_start_timestamp_seconds", kindGauge, "Start of the latest new window read."+cached, "report")
	d.windowEnd = desc("window_end_timestamp_seconds", kindGauge, "End of the latest new window read."+cached, "report")
	d.up = desc("report_up", kindGauge, "1 if the last poll of the report succeeded, 0 if it failed; set as soon as a poll ends."+cached, "report")
	d.lastSuccess = desc("report_last_success_timestamp_seconds", kindGauge, "When the report was last polled successfully."+cached, "report")
	d.pollDuration = desc("report_poll_duration_seconds", kindGauge, "How long the last poll of the report took."+cached, "report")
	d.pollFailures = desc("report_poll_failures_total", kindCounter, "Failed polls and revisits by reason; restarts at 0 with the process."+cached, "report", "reason")
	d.requests = desc("api_requests_total", kindCounter, "Calls to the Wolkvox API by HTTP status (none: no response) and purpose (new windows, or chat_4 revisits). Each call spends one token of the operation's daily quota. Counted as each call ends; restarts at 0 with the process."+cached, "report", "code", "purpose")
	d.seriesOverflow = desc("series_overflow_total", kindCounter, "Observations counted under the all-\"other\" series because their metric reached --collector.max-series-per-metric label combinations."+cached, "metric")
	d.pollInterval = desc("exporter_poll_interval_seconds", kindGauge, "The configured --poll.interval.")
	d.revisitHorizon = desc("exporter_chat_revisit_seconds", kindGauge, "The configured --chat.revisit horizon; 0 when revisiting is off.")
	d.dailyQuota = desc("api_daily_quota_tokens", kindGauge, "The operation's daily token quota, as configured with --wolkvox.daily-quota.")
	d.stateSaveFailures = desc("exporter_state_save_failures_total", kindCounter, "Failed writes of the state file; while they fail, a restart re-reads and may miss what was polled since the last good save.")
	d.stateLastSave = desc("exporter_state_last_save_timestamp_seconds", kindGauge, "When the state file was last written successfully.")
	return d
}
