package poller

import (
	"context"
	"errors"
	"time"

	"github.com/go-kit/log/level"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Realtime configures what an operation reads of what is happening now:
// the real-time API's skills and agents, and token_info's count of the
// day's tokens. Each call spends a token of the operation's daily quota.
type Realtime struct {
	// Interval between snapshots of skills and agents; 0 turns them off.
	Interval time.Duration
	// Skills lists the skills to ask for one call each, where the API
	// refuses skill_id=all or not every skill is wanted; empty: all, in
	// one call.
	Skills []string
	// QuotaInterval between reads of token_info; 0 turns them off.
	QuotaInterval time.Duration
	// Targets are exported beside each skill for the alert rules.
	Targets collector.Targets
}

func (r Realtime) enabled() bool { return r.Interval > 0 || r.QuotaInterval > 0 }

// reports are the snapshots r reads.
func (r Realtime) reports() []wolkvox.Report {
	var out []wolkvox.Report
	if r.Interval > 0 {
		out = append(out, wolkvox.ReportSkills, wolkvox.ReportAgents)
	}
	if r.QuotaInterval > 0 {
		out = append(out, wolkvox.ReportTokenInfo)
	}
	return out
}

// callsPerDay is what r plans to spend a day.
func (r Realtime) callsPerDay() float64 {
	day := float64(24 * time.Hour)
	var n float64
	if r.Interval > 0 {
		skills := 1.0
		if len(r.Skills) > 0 {
			skills = float64(len(r.Skills))
		}
		n += (1 + skills) * day / float64(r.Interval)
	}
	if r.QuotaInterval > 0 {
		n += day / float64(r.QuotaInterval)
	}
	return n
}

// runSnapshots reads the snapshots at their cadences until ctx is done:
// agents and skills every Interval, token_info every QuotaInterval, each
// published for two of its intervals and withdrawn when a read fails.
func (p *Poller) runSnapshots(ctx context.Context) {
	for {
		due := p.SnapshotOnce(ctx)
		t := time.NewTimer(max(due.Sub(p.cfg.Clock.Now()), time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// SnapshotOnce reads the snapshots due at the clock's now, and returns
// when the next is due. Only the snapshots' goroutine calls it (tests on a
// fake clock call it in its stead).
func (p *Poller) SnapshotOnce(ctx context.Context) time.Time {
	rt, s := p.cfg.Realtime, &p.snapshots
	now := p.cfg.Clock.Now()
	if rt.Interval > 0 && !now.Before(s.nextSnap) {
		p.readAgents(ctx)
		if !s.skillsRefused {
			s.skillsRefused = p.readSkills(ctx)
		}
		s.nextSnap = now.Add(rt.Interval)
	}
	if rt.QuotaInterval > 0 && !now.Before(s.nextQuota) {
		p.readTokenInfo(ctx)
		s.nextQuota = now.Add(rt.QuotaInterval)
	}
	switch {
	case rt.Interval <= 0:
		return s.nextQuota
	case rt.QuotaInterval > 0 && s.nextQuota.Before(s.nextSnap):
		return s.nextQuota
	}
	return s.nextSnap
}

// snapshotSchedule is when the snapshots are next due.
type snapshotSchedule struct {
	nextSnap, nextQuota time.Time
	// skillsRefused is set once the API refused skill_id=all.
	skillsRefused bool
}

// fresh is until when a snapshot read at now stays served.
func (p *Poller) fresh(interval time.Duration) time.Time {
	return p.cfg.Clock.Now().Add(2 * interval)
}

// snapshotFailed records a failed snapshot read and withdraws its gauges.
// It reports whether the read failed (a cancel by shutdown included).
func (p *Poller) snapshotFailed(report wolkvox.Report, err error, took time.Duration) bool {
	if err == nil {
		return false
	}
	if p.failed(report, err, took) {
		if wolkvox.ReasonOf(err) != wolkvox.ReasonCanceled {
			p.collector.PublishSnapshot(report, nil, time.Time{})
		}
		logFailure(p.logger, "snapshot failed; its gauges leave /metrics until the next one succeeds", err, "report", report)
	}
	return true
}

func (p *Poller) snapshotDone(report wolkvox.Report, took time.Duration) {
	h := p.health()
	h.PollSucceeded(report, p.cfg.Clock.Now(), wolkvox.Window{})
	h.PollTook(report, took)
}

func (p *Poller) readAgents(ctx context.Context) {
	began := time.Now()
	rows, err := p.client.Agents(ctx, wolkvox.PurposeSnapshot)
	if p.snapshotFailed(wolkvox.ReportAgents, err, time.Since(began)) {
		return
	}
	for _, r := range rows {
		p.health().SnapshotInvalid(wolkvox.ReportAgents, r.Invalid)
	}
	maxSeries := p.cfg.MaxSeriesPerMetric
	if maxSeries <= 0 {
		maxSeries = ledger.DefaultMaxSeriesPerMetric
	}
	metrics, dropped := collector.RenderAgents(rows, p.cfg.AgentMetrics, max(1, maxSeries/collector.AgentSeries), p.descs)
	p.health().SnapshotOverflow(ledger.AgentStatus, dropped)
	p.collector.PublishSnapshot(wolkvox.ReportAgents, metrics, p.fresh(p.cfg.Realtime.Interval))
	p.snapshotDone(wolkvox.ReportAgents, time.Since(began))
}

// readSkills reads the skills snapshot, and reports whether the API
// refused skill_id=all: then it is said once, shown as report_up 0 with
// the reason, and not asked again (each refusal spends a token) until a
// reload configures the skills.
func (p *Poller) readSkills(ctx context.Context) (refused bool) {
	began := time.Now()
	rows, err := p.client.Skills(ctx, wolkvox.PurposeSnapshot, p.cfg.Realtime.Skills)
	if errors.Is(err, wolkvox.ErrAllSkillsRefused) {
		p.failed(wolkvox.ReportSkills, err, time.Since(began))
		p.collector.PublishSnapshot(wolkvox.ReportSkills, nil, time.Time{})
		level.Error(p.logger).Log("msg", "the real-time API refuses skill_id=all; list the operation's skills (skills: in the config file, or --realtime.skill) and reload. Skills are not asked for again until then", "report", wolkvox.ReportSkills)
		return true
	}
	if p.snapshotFailed(wolkvox.ReportSkills, err, time.Since(began)) {
		return false
	}
	for _, r := range rows {
		p.health().SnapshotInvalid(wolkvox.ReportSkills, r.Invalid)
	}
	metrics, dropped := collector.RenderSkills(rows, p.cfg.Realtime.Targets, p.descs)
	p.health().SnapshotOverflow(ledger.SkillInfo, dropped)
	p.collector.PublishSnapshot(wolkvox.ReportSkills, metrics, p.fresh(p.cfg.Realtime.Interval))
	p.snapshotDone(wolkvox.ReportSkills, time.Since(began))
	return false
}

func (p *Poller) readTokenInfo(ctx context.Context) {
	began := time.Now()
	info, err := p.client.TokenInfo(ctx, wolkvox.PurposeQuota)
	if p.snapshotFailed(wolkvox.ReportTokenInfo, err, time.Since(began)) {
		return
	}
	p.health().SnapshotInvalid(wolkvox.ReportTokenInfo, info.Invalid)
	p.collector.PublishSnapshot(wolkvox.ReportTokenInfo, collector.RenderTokenInfo(info, p.descs), p.fresh(p.cfg.Realtime.QuotaInterval))
	p.snapshotDone(wolkvox.ReportTokenInfo, time.Since(began))
}
