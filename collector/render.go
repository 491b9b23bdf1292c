package collector

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// render turns the aggregate into constant metrics. It runs once per poll,
// not per scrape, so a scrape only replays the slice. Known label values
// (the documented type_calls, channels and statuses, every failure reason)
// are rendered at 0 before they first occur, so that rate() sees the
// first increase.
func (a *Aggregate) render(interval time.Duration, dailyQuota float64) []prometheus.Metric {
	var out []prometheus.Metric
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...))
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	hist := func(d *prometheus.Desc, h *histogram, labels ...string) {
		out = append(out, prometheus.MustNewConstHistogram(d, h.count, h.sum, h.cumulative(), labels...))
	}

	// Transfers.
	transfers := withZeros(a.transfers, func(k transferKey) string { return k.skill }, noneLabel,
		wolkvox.TypeCalls, func(skill, tc string) transferKey { return transferKey{tc, skill} })
	for k, v := range transfers {
		counter(descs.transfers, v, k.typeCall, k.skill)
	}
	for tc, h := range a.transferDuration {
		hist(descs.transferDuration, h, tc)
	}
	for k, v := range a.agentTransfers {
		counter(descs.agentTransfers, v, k.agentID, k.role, k.typeCall)
	}
	for id, seen := range a.agents {
		if seen.name != "" {
			gauge(descs.agentInfo, 1, id, seen.name)
		}
	}

	// Interactions.
	chatZero := func(skill, channel string) chatKey { return chatKey{channel, skill} }
	chatSkill := func(k chatKey) string { return k.skill }
	for k, v := range withZeros(a.chats, chatSkill, noneLabel, wolkvox.Channels, chatZero) {
		counter(descs.chats, v, k.channel, k.skill)
	}
	for k, v := range withZeros(a.chatsClosed, chatSkill, noneLabel, wolkvox.Channels, chatZero) {
		counter(descs.chatsClosed, v, k.channel, k.skill)
	}
	for k, v := range a.agentChats {
		counter(descs.agentChats, v, k.agent, k.channel)
	}
	for name, s := range a.agentSurvey {
		out = append(out, prometheus.MustNewConstSummary(descs.agentSurvey, uint64(s[1]), s[0], nil, name))
	}
	for ch, h := range a.survey {
		hist(descs.survey, h, ch)
	}
	for ch, h := range a.resolution {
		hist(descs.resolution, h, ch)
	}
	for k, v := range a.typifications {
		counter(descs.typifications, v, k.code, k.channel)
	}
	for code, description := range a.typificationInfo {
		gauge(descs.typificationInfo, 1, code, description)
	}

	// The latest windows.
	tr := a.reports[wolkvox.ReportTransfers]
	windowTransfers := map[string]float64{}
	for _, tc := range wolkvox.TypeCalls {
		windowTransfers[tc] = 0
	}
	for tc, v := range tr.windowTransfers {
		windowTransfers[tc] = v
	}
	for tc, v := range windowTransfers {
		gauge(descs.windowTransfers, v, tc)
	}
	ch := a.reports[wolkvox.ReportInteractions]
	windowChats := map[windowChatKey]float64{}
	for _, c := range wolkvox.Channels {
		for _, s := range wolkvox.Statuses {
			windowChats[windowChatKey{c, s}] = 0
		}
	}
	for k, v := range ch.windowChats {
		windowChats[k] = v
	}
	for k, v := range windowChats {
		gauge(descs.windowChats, v, k.channel, k.status)
	}
	for c, s := range ch.windowSurvey {
		if s[1] > 0 {
			gauge(descs.windowSurveyAverage, s[0]/s[1], c)
		}
	}

	// The exporter's own health, per report.
	for _, report := range wolkvox.Reports {
		rs, r := a.reports[report], string(report)
		if !rs.window.End.IsZero() {
			gauge(descs.windowStart, unix(rs.window.Start), r)
			gauge(descs.windowEnd, unix(rs.window.End), r)
		}
		if rs.polled {
			gauge(descs.up, boolValue(rs.up), r)
			gauge(descs.pollDuration, rs.pollDuration.Seconds(), r)
		}
		if !rs.lastSuccess.IsZero() {
			gauge(descs.lastSuccess, unix(rs.lastSuccess), r)
		}
		for _, reason := range wolkvox.Reasons {
			counter(descs.pollFailures, rs.failures[reason], r, string(reason))
		}
		counter(descs.records, rs.records, r)
		counter(descs.duplicates, rs.duplicates, r)
		for _, f := range wolkvox.AllFields() {
			counter(descs.invalid, rs.invalid[f.String()], r, f.String())
		}
		requests := map[string]float64{"200": 0}
		for code, v := range rs.requests {
			requests[code] = v
		}
		for code, v := range requests {
			counter(descs.requests, v, r, code)
		}
		counter(descs.skipped, rs.skippedSeconds, r)
	}
	gauge(descs.pollInterval, interval.Seconds())
	if dailyQuota > 0 {
		gauge(descs.dailyQuota, dailyQuota)
	}
	return out
}

// withZeros returns m plus a zero entry for every known value of one label
// combined with every value the other label has taken (and fallback).
func withZeros[K comparable](m map[K]float64, other func(K) string, fallback string, known []string, key func(other, known string) K) map[K]float64 {
	others := map[string]bool{fallback: true}
	for k := range m {
		others[other(k)] = true
	}
	out := make(map[K]float64, len(m)+len(others)*len(known))
	for o := range others {
		for _, kv := range known {
			out[key(o, kv)] = 0
		}
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// httpCode is the api_requests_total code label of one call.
func httpCode(status int) string {
	if status == 0 {
		return noneLabel
	}
	return strconv.Itoa(status)
}
