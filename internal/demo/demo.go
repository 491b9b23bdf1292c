// Package demo runs the built-in fake Wolkvox API behind --demo: lively
// traffic whose chat cases live (open, close, get surveyed), with a
// transfer spike soon after start and then every half hour. The fake
// itself is wolkvoxtest's, the one the tests use, so the demo shows what
// the tests prove.
package demo

import (
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// Transfer spikes: one skill, a few minutes long, soon after start and
// then every half hour, so the dashboard shows them and the spike alert
// fires with examples/demo/wolkvox.rules.yml, whose time ranges are short
// enough for a demo (the shipped rules need a 2-hour baseline).
const (
	SpikeFirst  = 8 * time.Minute
	SpikeEvery  = 30 * time.Minute
	SpikeLength = 4 * time.Minute
)

// Polling defaults for the demo, where a flag does not set them: the
// generated chats close within minutes, so a short revisit horizon shows
// them close.
const (
	Interval = 15 * time.Second
	Delay    = 0
	Revisit  = 30 * time.Minute
	// QuotaInterval reads token_info every minute, so the quota panel
	// moves in a demo.
	QuotaInterval = time.Minute
	// FirstWindow is the history the demo's first poll reads: every panel
	// (closes, surveys, resolution times, top agents) has data at once.
	FirstWindow = 24 * time.Hour
	// DailyQuota is the demo operation's quota, so the quota panel and
	// alert have one to compare with.
	DailyQuota = 1_000_000
)

// Start starts a fake API with lively traffic and transfer spikes, on a
// free loopback port. Close it when done.
func Start(loc *time.Location) *wolkvoxtest.Server {
	now := time.Now()
	traffic := &wolkvoxtest.Traffic{
		Seed: uint64(now.UnixNano()), Location: loc,
		// Lively enough that each 15-second window holds both kinds of
		// record: the first poll already shows nonzero counters.
		TransfersPerMinute: 60, InteractionsPerMinute: 40, BodyBytes: 1024,
	}
	first := now.Add(SpikeFirst).Truncate(time.Minute)
	traffic.AddSpike(wolkvoxtest.Spike{
		Start: first, End: first.Add(SpikeLength), Every: SpikeEvery,
		TypeCall: "transfer", SkillID: "101", PerMinute: 60,
	})
	// Real time follows the same traffic: the spike's skill queues up,
	// its service level falls and abandons rise; agents change status. The
	// formats are the API's messiest, mixed, as the client must read them.
	// Around the clock: the demo runs whenever it is started, and its
	// agent panels must show agents at any hour (tests run it at night).
	realtime := &wolkvoxtest.Realtime{Seed: uint64(now.UnixNano()), Location: loc, Traffic: traffic, AroundTheClock: true}
	return wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, ForgetServed: true, Data: traffic,
		Realtime: realtime, RealtimeFormat: wolkvoxtest.Format{Mixed: true}})
}
