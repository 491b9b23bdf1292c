package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// The lifecycle tests run a 3-minute horizon polled every 5 seconds,
// which the revisit plan treats as it treats 24 hours polled every 5
// minutes (times below are scaled by the same 1/480).
const (
	lifeInterval = 5 * time.Second
	lifeHorizon  = 3 * time.Minute
)

// lifecycleCases are one case per lifecycle the issue names.
func lifecycleCases(base time.Time) []wolkvoxtest.Case {
	at := func(d time.Duration) time.Time { return base.Add(d) }
	return []wolkvoxtest.Case{
		// A chat closed within minutes, typified at the close.
		{ID: "chat", Channel: "facebook_page", SkillID: "101", AgentName: "ANA", Created: at(0), Closed: at(20 * time.Second), Typified: at(20 * time.Second), CodAct: "10"},
		// An e-mail closed 6 h (scaled: 45 s) later.
		{ID: "email", Channel: "Email", SkillID: "102", AgentName: "LUIS", Created: at(5 * time.Second), Closed: at(50 * time.Second)},
		// A survey 3 h (22 s) after the close.
		{ID: "survey", Channel: "instagram", SkillID: "101", AgentName: "ANA", Created: at(10 * time.Second), Closed: at(30 * time.Second),
			Surveyed: at(52 * time.Second), Survey: "4", Typified: at(30 * time.Second), CodAct: "11"},
		// Archived without a close.
		{ID: "archived", Channel: "twitter", SkillID: "205", AgentName: "LUIS", Created: at(15 * time.Second), Archived: at(45 * time.Second)},
		// Typified late, an hour and more after the close.
		{ID: "late", Channel: "Email", SkillID: "101", AgentName: "ANA", Created: at(20 * time.Second), Closed: at(30 * time.Second), Typified: at(100 * time.Second), CodAct: "12"},
		// Never closed.
		{ID: "open", Channel: "Email", SkillID: "102", AgentName: "LUIS", Created: at(25 * time.Second)},
		// Closed (and typified) after the horizon.
		{ID: "after", Channel: "Email", SkillID: "205", AgentName: "ANA", Created: at(30 * time.Second), Closed: at(4 * time.Minute), Typified: at(4 * time.Minute), CodAct: "13"},
	}
}

// countable is the ground truth under a filter mode: which of a case's
// events the exporter can read, and so must count once. Under
// date_creation a case is read while its creation lies within the
// horizon; under close_date only once closed, and changes until the
// horizon after the close; under the last change, every change.
type truth struct{ cases, closed, archived, surveyed, typified float64 }

func countable(cases []wolkvoxtest.Case, mode wolkvoxtest.FilterDate, horizon time.Duration) truth {
	var t truth
	for _, c := range cases {
		var filed time.Time // the date the API files the case under
		switch mode {
		case wolkvoxtest.FilterCreation:
			filed = c.Created
		case wolkvoxtest.FilterClose:
			filed = c.Closed
		case wolkvoxtest.FilterLastChange:
			filed = c.Created
		}
		if filed.IsZero() {
			continue // never returned
		}
		readable := func(e time.Time) bool {
			if e.IsZero() {
				return false
			}
			if mode == wolkvoxtest.FilterLastChange {
				return true // every change is a new last change
			}
			return !e.After(filed.Add(horizon))
		}
		t.cases++
		if readable(c.Closed) {
			t.closed++
		}
		if readable(c.Archived) {
			t.archived++
		}
		if readable(c.Surveyed) {
			t.surveyed++
		}
		if readable(c.Typified) {
			t.typified++
		}
	}
	return t
}

func (t truth) String() string {
	return fmt.Sprintf("cases %v, closed %v, archived %v, surveyed %v, typified %v", t.cases, t.closed, t.archived, t.surveyed, t.typified)
}

func exported(t *testing.T, p *Poller) truth {
	return truth{
		cases:    sum(t, p, "wolkvox_chat_interactions_total"),
		closed:   sum(t, p, "wolkvox_chat_interactions_closed_total"),
		archived: sum(t, p, "wolkvox_chat_interactions_archived_total"),
		surveyed: sum(t, p, "wolkvox_chat_survey_score"),
		typified: sum(t, p, "wolkvox_chat_typifications_total"),
	}
}

func (t truth) exceeds(u truth) bool {
	return t.cases > u.cases || t.closed > u.closed || t.archived > u.archived || t.surveyed > u.surveyed || t.typified > u.typified
}

// lifecycleFake serves data through a server whose clock is the test's.
func lifecycleFake(t *testing.T, clock *fakeClock, data wolkvoxtest.Dataset) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, TB: t, Now: clock.Now})
	t.Cleanup(srv.Close)
	return srv
}

func lifecycleConfig(srv *wolkvoxtest.Server, clock *fakeClock) Config {
	cfg := testConfig(srv, clock)
	cfg.Interval, cfg.Delay, cfg.MaxCatchup, cfg.Revisit = lifeInterval, time.Second, time.Hour, lifeHorizon
	return cfg
}

// backlogTruth is what the fake last told the exporter: the cases last
// served open, created within the horizon, and the oldest one's age.
func backlogTruth(srv *wolkvoxtest.Server, now time.Time, horizon time.Duration) (float64, float64) {
	var open, oldest float64
	for _, r := range srv.LatestServedInteractions() {
		created, err := time.ParseInLocation(time.DateTime, r.DateCreation, bogota)
		if err != nil || r.Status != "open" || created.Before(now.Add(-horizon)) {
			continue
		}
		open++
		oldest = max(oldest, now.Sub(created).Seconds())
	}
	return open, oldest
}

func TestEveryLifecycleUnderEveryFilterDate(t *testing.T) {
	for _, mode := range []wolkvoxtest.FilterDate{wolkvoxtest.FilterCreation, wolkvoxtest.FilterClose, wolkvoxtest.FilterLastChange} {
		t.Run(mode.String(), func(t *testing.T) {
			clock := exportertest.NewClock(t0)
			cases := lifecycleCases(t0.Add(10 * time.Second))
			srv := lifecycleFake(t, clock, &wolkvoxtest.Lifecycles{Location: bogota, FilterOn: mode, Extra: cases})
			p := startPoller(t, lifecycleConfig(srv, clock))
			want := countable(cases, mode, lifeHorizon)
			// Until every event has happened and the horizon after it has
			// passed, and one more sweep.
			until := t0.Add(4*time.Minute + 2*lifeHorizon)
			for clock.Now().Before(until) {
				p.PollOnce(context.Background())
				if got := exported(t, p); got.exceeds(want) {
					t.Fatalf("at %v: exported %v exceeds the truth %v", clock.Now().Sub(t0), got, want)
				}
				open, oldest := backlogTruth(srv, clock.Now(), lifeHorizon)
				if got := sum(t, p, "wolkvox_chat_open_interactions"); got != open {
					t.Fatalf("at %v: backlog %v, the fake last served %v open cases within the horizon", clock.Now().Sub(t0), got, open)
				}
				if got := maxValue(t, p, "wolkvox_chat_oldest_open_age_seconds"); got != oldest {
					t.Fatalf("at %v: oldest open age %v, truth %v", clock.Now().Sub(t0), got, oldest)
				}
				clock.Advance(lifeInterval)
			}
			if got := exported(t, p); got != want {
				t.Errorf("exported %v\nwant      %v", got, want)
			}
			if up := sum(t, p, "wolkvox_report_up", "report=chat_4"); up != 1 {
				t.Errorf("chat_4 up = %v", up)
			}
			if got := sum(t, p, "wolkvox_api_requests_total", "purpose=revisit"); got == 0 {
				t.Error("no revisit calls were counted")
			}
			wantFilter := map[wolkvoxtest.FilterDate]string{
				wolkvoxtest.FilterCreation: "date_creation", wolkvoxtest.FilterClose: "unknown", wolkvoxtest.FilterLastChange: "last_change",
			}[mode]
			if got := sum(t, p, "wolkvox_chat_filter_date_info", "filter="+wantFilter); got != 1 {
				t.Errorf("filter date info: %q is not the verdict (%+v)", wantFilter, p.ledger.Filter)
			}
		})
	}
}

func maxValue(t *testing.T, p *Poller, name string) float64 {
	t.Helper()
	var m float64
	for _, metric := range gather(t, p)[name].GetMetric() {
		m = max(m, metric.GetGauge().GetValue())
	}
	return m
}

var _ = wolkvox.ReportInteractions
