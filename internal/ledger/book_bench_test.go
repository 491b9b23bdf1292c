package ledger

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// legacyCaseEntry is the case book's entry before following (two label
// strings and 64-bit times), kept here only to measure the compact entry
// against it in the same run.
type legacyCaseEntry struct {
	at, created    int64
	flags          uint8
	channel, skill string
}

// BenchmarkCaseBook measures the case book of an operation with 100,000
// cases a day, 10 % of them e-mails followed for up to 14 days: two days
// of every case (the book's retention) and twelve more days of the
// e-mails still open, 320,000 entries. It reports the heap of the compact
// book, of the same keys in the entries used before following, and the
// state file's size, per case.
//
//	go test ./internal/ledger -run '^$' -bench CaseBook -benchtime 1x
func BenchmarkCaseBook(b *testing.B) {
	const perDay, days, followedDays = 100_000, 2, 12
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	channels := wolkvox.Channels
	skills := []string{"101", "102", "205", "301", "302", "303", "401", "402"}
	records := func() []wolkvox.Interaction {
		var recs []wolkvox.Interaction
		for i := range perDay * days {
			created := now.Add(-time.Duration(i) * (days * 24 * time.Hour / (perDay * days)))
			status := "close"
			if i%5 == 0 {
				status = "open"
			}
			recs = append(recs, wolkvox.Interaction{CaseID: strconv.Itoa(i), Channel: channels[i%len(channels)], SkillID: skills[i%len(skills)], Created: created, Status: status})
		}
		for i := range perDay / 10 * followedDays {
			created := now.Add(-days*24*time.Hour - time.Duration(i)*(followedDays*24*time.Hour/(perDay/10*followedDays)))
			recs = append(recs, wolkvox.Interaction{CaseID: "e" + strconv.Itoa(i), Channel: "Email", SkillID: skills[i%len(skills)], Created: created, Status: "open"})
		}
		return recs
	}()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for b.Loop() {
		before := heap()
		l := New(Settings{Interval: 5 * time.Minute, Revisit: 24 * time.Hour, Follow: FollowSettings{Enabled: true, MaxAge: DefaultFollowMaxAge, CallsPerDay: DefaultFollowCallsPerDay}})
		l.ApplyInteractions(records, now)
		l.Prune(now)
		compact := heap() - before
		n := l.CaseEntries()
		if n != len(records) {
			b.Fatalf("%d entries, want %d", n, len(records))
		}
		var state bytes.Buffer
		if err := l.Encode(&state, now); err != nil {
			b.Fatal(err)
		}
		before = heap()
		legacy := map[uint64]legacyCaseEntry{}
		for k, e := range l.cases.seen {
			p := l.agg.caseLabels.get(e.labels)
			legacy[k] = legacyCaseEntry{at: int64(e.at), created: int64(e.created), flags: e.flags, channel: p.channel, skill: p.skill}
		}
		old := heap() - before
		runtime.KeepAlive(legacy)
		runtime.KeepAlive(l)
		b.ReportMetric(float64(n), "cases")
		b.ReportMetric(float64(compact)/float64(n), "book-B/case")
		b.ReportMetric(float64(old)/float64(n), "legacy-B/case")
		b.ReportMetric(float64(compact)/(1<<20), "book-MiB")
		b.ReportMetric(float64(old)/(1<<20), "legacy-MiB")
		b.ReportMetric(float64(state.Len())/(1<<20), "state-MiB")
	}
}
