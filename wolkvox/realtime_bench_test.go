package wolkvox_test

import (
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// The snapshots' decoders on a large operation's answers, in the mixed
// format (every style of number in one body). A poll decodes one of each.
//
// Reproduce: go test ./wolkvox -run '^$' -bench 'Decode(Agents|Skills)' -benchmem

func BenchmarkDecodeAgents2000(b *testing.B) {
	rt := &wolkvoxtest.Realtime{Seed: 1, Location: time.UTC, Agents: 5000}
	rows := rt.AgentsAt(time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC))
	if len(rows) < 2000 {
		b.Fatalf("only %d agents on shift", len(rows))
	}
	body := wolkvoxtest.AgentsResponse(rows[:2000], wolkvoxtest.Format{Mixed: true})
	benchmarkSnapshot(b, body, func() (int, error) { a, err := wolkvox.DecodeAgents(body); return len(a), err })
}

func BenchmarkDecodeSkills300(b *testing.B) {
	rt := &wolkvoxtest.Realtime{Seed: 1, Location: time.UTC, Skills: 300}
	rows := rt.SkillsAt(time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC))
	body := wolkvoxtest.SkillsResponse(rows, wolkvoxtest.Format{Mixed: true})
	benchmarkSnapshot(b, body, func() (int, error) { s, err := wolkvox.DecodeSkills(body); return len(s), err })
}

func benchmarkSnapshot(b *testing.B, body []byte, decode func() (int, error)) {
	want, err := decode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := decode(); err != nil || n != want {
			b.Fatal(n, err)
		}
	}
}
