package collector

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
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
