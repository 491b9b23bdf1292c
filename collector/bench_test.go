package collector

import (
	"context"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// bigAggregate holds 2,000 agents who each made and received every type of
// transfer and handled every channel: about 40,000 series.
func bigAggregate() *ledger.Ledger {
	l := ledger.New(ledger.Settings{AgentMetrics: true, AgentTTL: 24 * time.Hour, Interval: 5 * time.Minute, Revisit: 24 * time.Hour})
	var recs []wolkvox.Transfer
	var chats []wolkvox.Interaction
	for i := range 2000 {
		id := strconv.Itoa(10000 + i)
		name := "AGENTE NÚMERO " + id
		for j, tc := range wolkvox.TypeCalls {
			recs = append(recs, wolkvox.Transfer{ConnID: id + "." + tc, Date: t0, OriginAgentID: id, OriginAgentName: name,
				DestinationAgentID: strconv.Itoa(10000 + (i+j+1)%2000), TypeCall: tc, SkillID: strconv.Itoa(100 + i%20), Duration: time.Minute, HasDuration: true})
		}
		for _, ch := range wolkvox.Channels {
			chats = append(chats, wolkvox.Interaction{CaseID: id + ch, Channel: ch, AgentName: name, Status: "open"})
		}
	}
	l.ApplyTransfers(recs, t0, map[uint64]string{})
	l.ApplyInteractions(chats, t0)
	return l
}

// BenchmarkScrape compares a scrape of the exporter's collector with one of
// the same series from a plain registry of prebuilt const metrics.
// Reproduce: go test ./collector -run '^$' -bench 'Scrape|Render' -benchmem -count 5
func BenchmarkScrape(b *testing.B) {
	a := bigAggregate()
	metrics := Render(a, t0, benchSettings, benchDescs)
	b.Logf("%d series", len(metrics))
	b.Run("collector", func(b *testing.B) {
		c := NewCollector(benchDescs, nil)
		c.Publish(metrics)
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		exportertest.ScrapeLoop(b, reg)
	})
	b.Run("prebuilt", func(b *testing.B) {
		// Independent copies of the metrics, so neither side shares state.
		reg := prometheus.NewRegistry()
		reg.MustRegister(exportertest.Prebuilt(Render(bigAggregate(), t0, benchSettings, benchDescs)))
		exportertest.ScrapeLoop(b, reg)
	})
}

var (
	benchSettings = ledger.RenderSettings{Interval: 5 * time.Minute, Revisit: 24 * time.Hour}
	benchDescs    = NewDescs(prometheus.Labels{"operation": "bench"})
)

// BenchmarkRender is the cost moved from every scrape to every poll.
func BenchmarkRender(b *testing.B) {
	a := bigAggregate()
	b.ReportAllocs()
	for b.Loop() {
		_ = Render(a, t0, benchSettings, benchDescs)
	}
}

// BenchmarkScrapeSnapshots compares a scrape of a large operation's
// real-time snapshots (2,000 agents with per-agent metrics, 300 skills)
// served by the collector with the same series from prebuilt constants;
// and the render a snapshot read costs, once per read, not per scrape.
// Reproduce: go test ./collector -run '^$' -bench 'Snapshots' -benchmem -count 3
func BenchmarkScrapeSnapshots(b *testing.B) {
	at := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	agentRows, skillRows := snapshotRows(b, at)
	render := func() []prometheus.Metric {
		agents, _ := RenderAgents(agentRows, true, 20000, benchDescs)
		skills, _ := RenderSkills(skillRows, Targets{ServiceLevel: 0.8, ServiceLevelSeconds: 20, Queue: 10, Abandoned: 0.1}, benchDescs)
		return append(agents, skills...)
	}
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = render()
		}
	})
	metrics := render()
	b.Logf("%d series", len(metrics))
	b.Run("collector", func(b *testing.B) {
		c := NewCollector(benchDescs, nil)
		c.PublishSnapshot(wolkvox.ReportAgents, metrics, at.Add(time.Hour))
		c.SetClock(func() time.Time { return at })
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		exportertest.ScrapeLoop(b, reg)
	})
	b.Run("prebuilt", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(exportertest.Prebuilt(render()))
		exportertest.ScrapeLoop(b, reg)
	})
}

// snapshotRows decodes a 2,000-agent and a 300-skill answer of the fake,
// as a read would.
func snapshotRows(b *testing.B, at time.Time) ([]wolkvox.AgentSnapshot, []wolkvox.SkillSnapshot) {
	rt := &wolkvoxtest.Realtime{Seed: 1, Location: time.UTC, Agents: 5000, Skills: 300}
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Realtime: &wolkvoxtest.FixedSnapshots{Skills: rt.SkillsAt(at), Agents: rt.AgentsAt(at)[:2000]},
		RealtimeFormat: wolkvoxtest.Format{Mixed: true}})
	defer srv.Close()
	c, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	agents, err := c.Agents(context.Background(), wolkvox.PurposeSnapshot)
	if err != nil {
		b.Fatal(err)
	}
	skills, err := c.Skills(context.Background(), wolkvox.PurposeSnapshot, nil)
	if err != nil || len(agents) != 2000 || len(skills) != 300 {
		b.Fatalf("%d agents, %d skills, %v", len(agents), len(skills), err)
	}
	return agents, skills
}
