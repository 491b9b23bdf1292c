package poller

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// followRun is a simulated operation whose new cases stop after a day,
// so that every case's life ends within the run: e-mails that close up to
// three days after they open (two to three revisit horizons), chats the
// platform closes at about 23 h, and cases that never close. Following is
// on, with a max-age of four days.
type followRun struct {
	perDay int
	mode   wolkvoxtest.FilterDate
	follow bool
	maxAge time.Duration
	budget int
	until  time.Duration // how long the run lasts
	onPoll func(i int, now, lastEnd time.Time, p *Poller)
	// crashEvery, when > 0, kills the poller every so many polls in the
	// middle of a poll, after it read and counted but before it saved,
	// and starts a new one from the state file, as kill -9 and a restart
	// do.
	crashEvery int
	// crashedFollowing counts the crashes in a poll that made follow calls.
	crashedFollowing *int
	logger           log.Logger
	// stateless runs without a state file: what the test checks does
	// not need one, and a save per poll is most of a run's time.
	stateless bool
	// configure, when set, changes the poller's configuration.
	configure func(*Config)
}

const followMaxAge = 4 * 24 * time.Hour

func (r followRun) lifecycles() *wolkvoxtest.Lifecycles {
	return &wolkvoxtest.Lifecycles{
		Seed: 11, Location: bogota, PerMinute: r.perDay / (24 * 60), BodyBytes: 16, FilterOn: r.mode,
		LongEmails:   wolkvoxtest.LongEmails{Percent: 50, Min: 30 * time.Hour, Max: 3 * 24 * time.Hour},
		CreatedUntil: t0.Add(24 * time.Hour),
	}
}

func (r followRun) config(t *testing.T, srv *wolkvoxtest.Server, clock *fakeClock) Config {
	cfg := testConfig(srv, clock)
	cfg.Revisit = 24 * time.Hour
	if !r.stateless {
		cfg.StateFile = filepath.Join(t.TempDir(), "state")
	}
	cfg.Follow = ledger.FollowSettings{Enabled: r.follow, MaxAge: r.maxAge, CallsPerDay: r.budget}
	cfg.OpenTarget = 48 * time.Hour
	if r.logger != nil {
		cfg.Logger = r.logger
	}
	if r.configure != nil {
		r.configure(&cfg)
	}
	return cfg
}

// run polls data from t0 for r.until.
func (r followRun) run(t *testing.T, data *wolkvoxtest.Lifecycles) *Poller {
	t.Helper()
	clock := exportertest.NewClock(t0)
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, Now: clock.Now, TB: t})
	t.Cleanup(srv.Close)
	cfg := r.config(t, srv, clock)
	p := startPoller(t, cfg)
	steps := int(r.until / cfg.Interval)
	for i := range steps {
		if r.crashEvery > 0 && i%r.crashEvery == r.crashEvery-1 {
			// The poll runs to its end in a poller that then dies
			// unsaved: its save goes to a file nobody reads again.
			saved, err := os.ReadFile(cfg.StateFile)
			if err != nil {
				t.Fatal(err)
			}
			before := sum(t, p, "wolkvox_api_requests_total", "purpose=follow")
			p.PollOnce(context.Background())
			if r.crashedFollowing != nil && sum(t, p, "wolkvox_api_requests_total", "purpose=follow") > before {
				*r.crashedFollowing++
			}
			p.Close()
			if err := os.WriteFile(cfg.StateFile, saved, 0o600); err != nil {
				t.Fatal(err)
			}
			p = startPoller(t, cfg)
		}
		p.PollOnce(context.Background())
		if r.onPoll != nil {
			r.onPoll(i, clock.Now(), clock.Now().Add(-cfg.Delay), p)
		}
		clock.Advance(cfg.Interval)
	}
	return p
}

// assertSettled checks a followRun's end against the truth, exactly:
// every case created from the first window (a poll interval and the delay
// before t0) to the day's end counted once, with each change, and every
// case never closed given up.
func assertSettled(t *testing.T, p *Poller, data *wolkvoxtest.Lifecycles) (truth, float64) {
	t.Helper()
	want, never := settled(data.Cases(t0.Add(-6*time.Minute), t0.Add(24*time.Hour)))
	got := exported(t, p)
	if got != want {
		t.Errorf("exported %+v\nwant exactly %+v", got, want)
	}
	if gaveUp := sum(t, p, "wolkvox_chat_follow_given_up_total"); gaveUp != never {
		t.Errorf("given up on %v cases; %v never closed", gaveUp, never)
	}
	return got, never
}

// settled is the truth once every life has ended: every case created
// from origin, each change counted once, and the cases never closed.
func settled(cases []wolkvoxtest.Case) (truth, float64) {
	var tr truth
	var never float64
	for _, c := range cases {
		tr.cases++
		switch {
		case !c.Closed.IsZero():
			tr.closed++
		case !c.Archived.IsZero():
			tr.archived++
		default:
			never++
		}
		if !c.Surveyed.IsZero() {
			tr.surveyed++
		}
		if !c.Typified.IsZero() {
			tr.typified++
		}
	}
	return tr, never
}

// TestFollowingCountsEveryLateChange runs a day of a large operation's
// cases (100,000 a day; 10,000 under the race detector) in creation mode
// to their ends, with following on: every close, survey and typification
// is counted exactly, however late; every case never closed is given up
// once at the max-age; the backlog matches the truth at every hour within
// the documented staleness; the follow calls stay within the budget.
func TestFollowingCountsEveryLateChange(t *testing.T) {
	perDay := 100_000
	if raceEnabled {
		perDay = 10_000
	}
	const staleness = 6*time.Hour + 15*time.Minute // the oldest tier's period, and three polls
	var checks, peakHeap uint64
	var ms runtime.MemStats
	var maxFollowed float64
	r := followRun{perDay: perDay, mode: wolkvoxtest.FilterCreation, follow: true, maxAge: followMaxAge, budget: ledger.DefaultFollowCallsPerDay,
		until: 5*24*time.Hour + 3*time.Hour}
	var data *wolkvoxtest.Lifecycles
	origin := t0.Add(-time.Minute - 5*time.Minute)
	r.onPoll = func(i int, now, lastEnd time.Time, p *Poller) {
		if i%12 != 11 {
			return
		}
		if i%144 == 143 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
		}
		checks++
		maxFollowed = max(maxFollowed, sum(t, p, "wolkvox_chat_followed_interactions"))
		cases := data.Cases(origin, lastEnd)
		var lo, hi, oldest float64
		for _, c := range cases {
			age := now.Sub(c.Created)
			if c.StatusAt(now) == "open" && age <= followMaxAge-staleness {
				lo++
				oldest = max(oldest, age.Seconds())
			}
			if c.StatusAt(now.Add(-staleness)) == "open" && age <= followMaxAge+staleness {
				hi++
			}
		}
		open := sum(t, p, "wolkvox_chat_open_interactions")
		if open < lo || open > hi {
			t.Errorf("%v: %v cases shown open; the truth, within %v of staleness, is between %v and %v", now, open, staleness, lo, hi)
		}
		if got := maxValue(t, p, "wolkvox_chat_oldest_open_age_seconds"); got < oldest {
			t.Errorf("%v: the oldest open case is %v old, the gauge says %v", now, time.Duration(oldest)*time.Second, time.Duration(got)*time.Second)
		}
		if days := now.Sub(t0).Hours() / 24; sum(t, p, "wolkvox_api_requests_total", "purpose=follow") > float64(ledger.DefaultFollowCallsPerDay)*days+2 {
			t.Errorf("%v: %v follow calls in %.2f days, over the budget of %d a day", now, sum(t, p, "wolkvox_api_requests_total", "purpose=follow"), days, ledger.DefaultFollowCallsPerDay)
		}
	}
	data = r.lifecycles()
	p := r.run(t, data)

	got, never := assertSettled(t, p, data)
	if open := sum(t, p, "wolkvox_chat_open_interactions"); open != 0 {
		t.Errorf("%v cases still shown open after every one closed or was given up", open)
	}
	follow := sum(t, p, "wolkvox_api_requests_total", "purpose=follow")
	if follow == 0 {
		t.Error("no follow call: the test did not exercise following")
	}
	info, err := os.Stat(p.cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cases a day for a day, followed for %v: %d backlog checks; follow calls %v (%v new, %v revisit); at most %v cases followed; peak heap %.1f MiB (the fake's cases included); state file at the end %.1f MiB (%d case entries); exported %+v, given up %v",
		perDay, r.until, checks, follow, sum(t, p, "wolkvox_api_requests_total", "purpose=new"), sum(t, p, "wolkvox_api_requests_total", "purpose=revisit"),
		maxFollowed, float64(peakHeap)/(1<<20), float64(info.Size())/(1<<20), p.ledger.CaseEntries(), got, never)
	_ = wolkvox.ReportInteractions
}

// Close-date and last-change filtering gain nothing from re-reading
// creation windows: with following on, every number is the same as
// without it, and following spends no call.
func TestFollowingChangesNothingUnderCloseAndLastChangeFiltering(t *testing.T) {
	for _, mode := range []wolkvoxtest.FilterDate{wolkvoxtest.FilterClose, wolkvoxtest.FilterLastChange} {
		t.Run(mode.String(), func(t *testing.T) {
			perDay := 3_000
			if raceEnabled {
				perDay = 1_440 // one a minute: the fake reads 4 days back per call in these modes
			}
			var got [2]truth
			for i, follow := range []bool{false, true} {
				var logs syncBuffer
				r := followRun{perDay: perDay, mode: mode, follow: follow, maxAge: followMaxAge, budget: ledger.DefaultFollowCallsPerDay, until: 4 * 24 * time.Hour,
					logger: log.NewLogfmtLogger(&logs), stateless: true}
				p := r.run(t, r.lifecycles())
				got[i] = exported(t, p)
				if calls := sum(t, p, "wolkvox_api_requests_total", "purpose=follow"); calls != 0 {
					t.Errorf("follow=%v: %v follow calls", follow, calls)
				}
				if stale := sum(t, p, "wolkvox_chat_open_staleness_seconds"); follow && mode == wolkvoxtest.FilterLastChange && stale != 0 {
					t.Errorf("staleness %v s under last-change filtering, where a case not read again has not changed", stale)
				}
				said := strings.Count(logs.String(), "following open cases has nothing to read again")
				if follow && said != 1 || !follow && said != 0 {
					t.Errorf("follow=%v: the log says %d times that following reads nothing", follow, said)
				}
			}
			if got[0] != got[1] {
				t.Errorf("without following %+v\nwith following    %+v", got[0], got[1])
			}
		})
	}
}

// kill -9 in the middle of polls while cases are followed, a dozen times
// over the run, and a restart from the state file each time: every count
// is still exact.
func TestCrashWhileFollowingLosesAndDoublesNothing(t *testing.T) {
	var crashedFollowing int
	r := followRun{perDay: 5_000, mode: wolkvoxtest.FilterCreation, follow: true, maxAge: followMaxAge, budget: ledger.DefaultFollowCallsPerDay,
		until: 5*24*time.Hour + 3*time.Hour, crashEvery: 5, crashedFollowing: &crashedFollowing}
	data := r.lifecycles()
	p := r.run(t, data)
	assertSettled(t, p, data)
	if crashedFollowing < 3 {
		t.Errorf("%d crashes in a poll that followed cases: the test did not exercise following", crashedFollowing)
	}
	t.Logf("%d crashes, %d of them in a poll that made follow calls", int(r.until/(5*time.Minute))/r.crashEvery, crashedFollowing)
}

// An operation's e-mails can be so large that a window sized for 20,000
// records is a response over the API's 256 MB: following then sizes its
// windows for fewer, and still counts every late change exactly. The
// limit is scaled down here with the records.
func TestFollowingShrinksWindowsTooLargeForTheAPI(t *testing.T) {
	var logs syncBuffer
	r := followRun{perDay: 5_000, mode: wolkvoxtest.FilterCreation, follow: true, maxAge: followMaxAge, budget: ledger.DefaultFollowCallsPerDay,
		until: 5*24*time.Hour + 3*time.Hour, stateless: true, logger: log.NewLogfmtLogger(&logs),
		configure: func(cfg *Config) { cfg.Client.MaxBodyBytes = 256 << 10 }}
	data := r.lifecycles()
	p := r.run(t, data)
	assertSettled(t, p, data)
	if !strings.Contains(logs.String(), "sized for fewer records") {
		t.Error("no window was too large: the test did not exercise the limit")
	}
	t.Logf("%v follow calls, %d resizes", sum(t, p, "wolkvox_api_requests_total", "purpose=follow"), strings.Count(logs.String(), "sized for fewer records"))
}

// A case still open at the max-age is given up once: counted, logged in
// one line, no longer shown open, and its close, when it comes days
// later, is never counted.
func TestCaseOpenPastTheMaxAgeIsGivenUpOnce(t *testing.T) {
	created := t0.Add(30 * time.Second)
	late := wolkvoxtest.Case{ID: "late-1", Channel: "Email", AgentName: "ANA", SkillID: "101", Created: created,
		Closed: created.Add(followMaxAge + 12*time.Hour), Surveyed: created.Add(followMaxAge + 13*time.Hour), Survey: "5",
		Typified: created.Add(followMaxAge + 12*time.Hour), CodAct: "RESUELTO"}
	onTime := late
	onTime.ID, onTime.Closed, onTime.Surveyed, onTime.Typified = "late-2", created.Add(3*24*time.Hour), time.Time{}, created.Add(3*24*time.Hour)
	data := &wolkvoxtest.Lifecycles{Location: bogota, Extra: []wolkvoxtest.Case{late, onTime}}
	clock := exportertest.NewClock(t0)
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, Now: clock.Now, TB: t})
	t.Cleanup(srv.Close)
	r := followRun{follow: true, maxAge: followMaxAge, budget: ledger.DefaultFollowCallsPerDay}
	cfg := r.config(t, srv, clock)
	var logs syncBuffer
	cfg.Logger = log.NewLogfmtLogger(&logs)
	p := startPoller(t, cfg)
	for clock.Now().Before(t0.Add(followMaxAge + 2*24*time.Hour)) {
		p.PollOnce(context.Background())
		if at := clock.Now().Sub(created); at > 26*time.Hour && at < followMaxAge-6*time.Hour {
			if open := sum(t, p, "wolkvox_chat_open_interactions"); open < 1 {
				t.Fatalf("at %v of age: the late case is not shown open", at)
			}
		}
		clock.Advance(cfg.Interval)
	}
	if got := sum(t, p, "wolkvox_chat_follow_given_up_total", "channel=Email"); got != 1 {
		t.Errorf("given up = %v, want 1", got)
	}
	if got := sum(t, p, "wolkvox_chat_interactions_closed_total"); got != 1 {
		t.Errorf("closed = %v, want only the case closed on time (1): a case given up is never counted closed", got)
	}
	if got := sum(t, p, "wolkvox_chat_survey_score"); got != 0 {
		t.Errorf("surveys = %v: the given-up case's survey was counted", got)
	}
	if open := sum(t, p, "wolkvox_chat_open_interactions"); open != 0 {
		t.Errorf("%v shown open after the give-up", open)
	}
	if n := strings.Count(logs.String(), "gave up following"); n != 1 {
		t.Errorf("%d log lines about giving up, want 1:\n%s", n, logs.String())
	}
}

// syncBuffer is a log destination the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// BenchmarkFollowSteadyState runs a large operation (100,000 cases a day,
// a quarter of its e-mails answered 30 hours to 6 days after they open,
// an eighth of all cases never closed) for WOLKVOX_FOLLOW_DAYS days (7 by
// default) in creation mode with the defaults, and reports what following
// costs once it is steady: its calls on the last day against the budget,
// the cases followed and held in the book, the state file and peak heap.
//
//	go test ./internal/poller -run '^$' -bench FollowSteadyState -benchtime 1x -timeout 1h
func BenchmarkFollowSteadyState(b *testing.B) {
	days := 7
	if n, err := strconv.Atoi(os.Getenv("WOLKVOX_FOLLOW_DAYS")); err == nil && n > 1 {
		days = n
	}
	for b.Loop() {
		clock := exportertest.NewClock(t0)
		data := &wolkvoxtest.Lifecycles{Seed: 21, Location: bogota, PerMinute: 100_000 / (24 * 60), BodyBytes: 16, FilterOn: wolkvoxtest.FilterCreation,
			LongEmails: wolkvoxtest.LongEmails{Percent: 25, Min: 30 * time.Hour, Max: 6 * 24 * time.Hour}}
		srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, Now: clock.Now, TB: b, ForgetServed: true})
		cfg := testConfig(srv, clock)
		cfg.Revisit = 24 * time.Hour
		cfg.StateFile = filepath.Join(b.TempDir(), "state")
		cfg.Follow = ledger.FollowSettings{Enabled: true, MaxAge: ledger.DefaultFollowMaxAge, CallsPerDay: ledger.DefaultFollowCallsPerDay}
		p, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		calls := func() float64 { return sum(b, p, "wolkvox_api_requests_total", "purpose=follow") }
		var lastDay, peakHeap uint64
		var ms runtime.MemStats
		steps := days * 24 * 12
		for i := range steps {
			if i == steps-24*12 {
				lastDay = uint64(calls())
			}
			p.PollOnce(context.Background())
			if i%72 == 0 {
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapAlloc)
			}
			clock.Advance(cfg.Interval)
		}
		info, err := os.Stat(cfg.StateFile)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(calls()-float64(lastDay), "follow-calls/last-day")
		b.ReportMetric(sum(b, p, "wolkvox_chat_followed_interactions"), "followed")
		b.ReportMetric(float64(p.ledger.CaseEntries()), "book-entries")
		b.ReportMetric(sum(b, p, "wolkvox_chat_open_staleness_seconds")/3600, "staleness-h")
		b.ReportMetric(float64(info.Size())/(1<<20), "state-MiB")
		b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
		p.Close()
		srv.Close()
	}
}
