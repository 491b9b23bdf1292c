package collector

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Targets are what the alert rules compare a skill's real-time figures
// with: the operation's, unless its skill sets its own.
type Targets struct {
	ServiceLevel        float64 // the share of calls to answer within ServiceLevelSeconds
	ServiceLevelSeconds int
	Queue               float64 // the most calls a queue should hold
	Abandoned           float64 // the highest share of abandoned calls
	// Skills overrides some of the above by skill id; a zero field keeps
	// the operation's.
	Skills map[string]Targets
}

// forSkill returns the targets of skill id.
func (t Targets) forSkill(id string) Targets {
	own, ok := t.Skills[id]
	if !ok {
		return t
	}
	if own.ServiceLevel == 0 {
		own.ServiceLevel = t.ServiceLevel
	}
	if own.ServiceLevelSeconds == 0 {
		own.ServiceLevelSeconds = t.ServiceLevelSeconds
	}
	if own.Queue == 0 {
		own.Queue = t.Queue
	}
	if own.Abandoned == 0 {
		own.Abandoned = t.Abandoned
	}
	return own
}

// snapshotMetrics builds constant metrics of the snapshot families. A
// sample carries the snapshot's own time where Prometheus conventions
// allow it: not here, because a timestamped sample that stops being
// exposed stays in Prometheus's lookback for five minutes, while the
// exporter's freshness rule wants it gone with the next scrape.
type snapshotMetrics struct {
	d   *Descs
	out []prometheus.Metric
}

func (s *snapshotMetrics) gauge(name string, v float64, labels ...string) {
	s.out = append(s.out, prometheus.MustNewConstMetric(s.d.Of(name), prometheus.GaugeValue, v, labels...))
}

func (s *snapshotMetrics) num(name string, n wolkvox.Num, labels ...string) {
	if v, ok := n.Get(); ok {
		s.gauge(name, v, labels...)
	}
}

// Thresholds are the service levels the API reports, in seconds: the
// only ones exported, so an answer with service_level_1seg to
// service_level_86400seg cannot make thousands of series.
func thresholds() [3]int { return [3]int{10, 20, 30} }

// MaxSkills bounds the skills of a snapshot exported; a real operation has
// tens. The rest are dropped and counted (series_overflow_total).
const MaxSkills = 1000

// RenderSkills renders a skills snapshot and each skill's targets, and
// says how many skills it dropped past MaxSkills.
func RenderSkills(rows []wolkvox.SkillSnapshot, targets Targets, d *Descs) ([]prometheus.Metric, int) {
	s := snapshotMetrics{d: d}
	seen := map[string]bool{}
	dropped := 0
	for _, r := range rows {
		id := ledger.OrNone(r.SkillID)
		if seen[id] {
			continue // a skill twice in one response: the first row is taken
		}
		if len(seen) >= MaxSkills {
			dropped++
			continue
		}
		seen[id] = true
		if r.SkillName != "" {
			s.gauge(ledger.SkillInfo, 1, id, r.SkillName)
		}
		s.num(ledger.SkillCallsInQueue, r.CallsInQueue, id)
		for _, secs := range thresholds() {
			if v, ok := r.ServiceLevel[secs]; ok {
				s.gauge(ledger.SkillServiceLevel, v, id, strconv.Itoa(secs))
			}
		}
		s.num(ledger.SkillAbandoned, r.AbandonedRatio, id)
		s.num(ledger.SkillInboundToday, r.Inbound, id)
		s.num(ledger.SkillAnsweredToday, r.Answered, id)
		s.num(ledger.SkillAbandonedToday, r.Abandoned, id)
		t := targets.forSkill(id)
		if t.ServiceLevel > 0 && t.ServiceLevelSeconds > 0 {
			s.gauge(ledger.TargetServiceLevel, t.ServiceLevel, id, strconv.Itoa(t.ServiceLevelSeconds))
		}
		if t.Queue > 0 {
			s.gauge(ledger.TargetQueue, t.Queue, id)
		}
		if t.Abandoned > 0 {
			s.gauge(ledger.TargetAbandoned, t.Abandoned, id)
		}
	}
	return s.out, dropped
}

// maxStatuses bounds the distinct agent statuses exported; an operation
// defines a dozen or two.
const maxStatuses = 100

// AgentSeries is how many series one agent's figures make in the
// largest per-agent family (its seven state times): the agents exported
// are capped at the series cap divided by it.
const AgentSeries = 7

// RenderAgents renders an agents snapshot: agents by status always (an
// agent without an id included), and each agent's figures when perAgent,
// for at most maxAgents agents; it says how many it left out of those.
func RenderAgents(rows []wolkvox.AgentSnapshot, perAgent bool, maxAgents int, d *Descs) ([]prometheus.Metric, int) {
	s := snapshotMetrics{d: d}
	byStatus := map[string]float64{}
	seen := map[string]bool{}
	dropped := 0
	for _, r := range rows {
		id := r.AgentID
		if id != "" && seen[id] {
			continue
		}
		status := ledger.OrNone(r.Status)
		if _, known := byStatus[status]; !known && len(byStatus) >= maxStatuses {
			status = "other" // statuses are free text: a broken response must not make thousands of series
		}
		byStatus[status]++
		if id == "" || !perAgent {
			continue
		}
		seen[id] = true
		if len(seen) > maxAgents {
			dropped++
			continue
		}
		s.gauge(ledger.AgentStatus, 1, id, r.AgentName, status)
		s.num(ledger.AgentStatusSeconds, r.SecondsInStatus, id)
		for _, c := range []struct {
			dir string
			n   wolkvox.Num
		}{{"all", r.Calls}, {"inbound", r.Inbound}, {"outbound", r.Outbound}, {"internal", r.Internal}} {
			s.num(ledger.AgentCallsToday, c.n, id, c.dir)
		}
		for _, c := range []struct {
			state string
			n     wolkvox.Num
		}{{"ready", r.ReadyTime}, {"inbound", r.InboundTime}, {"outbound", r.OutboundTime}, {"acw", r.ACWTime},
			{"ring", r.RingTime}, {"login", r.LoginTime}, {"aux", r.AuxTime}} {
			s.num(ledger.AgentStateTimeToday, c.n, id, c.state)
		}
		s.num(ledger.AgentHandleTime, r.AHT, id)
		s.num(ledger.AgentOccupancy, r.Occupancy, id)
	}
	for status, n := range byStatus {
		s.gauge(ledger.Agents, n, status)
	}
	return s.out, dropped
}

// RenderTokenInfo renders what token_info says of the day's quota.
func RenderTokenInfo(info wolkvox.TokenInfo, d *Descs) []prometheus.Metric {
	s := snapshotMetrics{d: d}
	s.num(ledger.QuotaLimit, info.TokenLimit)
	s.num(ledger.QuotaUsedToday, info.TokenUseToday, "token")
	s.num(ledger.QuotaUsedToday, info.AllTokenToday, "operation")
	return s.out
}

// snapshotSet is one snapshot's published metrics and until when they
// are fresh.
type snapshotSet struct {
	metrics []prometheus.Metric
	until   time.Time
}
