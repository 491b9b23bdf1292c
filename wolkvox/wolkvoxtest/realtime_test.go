package wolkvoxtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

var bogota = func() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		panic(err)
	}
	return loc
}()

func spiky() (*Realtime, time.Time, time.Time) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, bogota)
	end := start.Add(20 * time.Minute)
	traffic := &Traffic{Seed: 1, Location: bogota}
	traffic.AddSpike(Spike{Start: start, End: end, SkillID: "101", TypeCall: "inbound", PerMinute: 10})
	return &Realtime{Seed: 9, Location: bogota, Skills: 3, Agents: 40, Traffic: traffic}, start, end
}

func skill(rows []SkillRow, id string) SkillRow {
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	panic("no skill " + id)
}

// TestRealtimeSpikeFillsTheQueue: during a spike of a skill its queue
// grows, its abandons rise and its service level falls; other skills are
// left alone.
func TestRealtimeSpikeFillsTheQueue(t *testing.T) {
	rt, start, end := spiky()
	before := rt.SkillsAt(start.Add(-time.Minute))
	early := rt.SkillsAt(start.Add(2 * time.Minute))
	late := rt.SkillsAt(start.Add(9 * time.Minute))
	after := rt.SkillsAt(end.Add(15 * time.Minute))
	b, e, l, a := skill(before, "101"), skill(early, "101"), skill(late, "101"), skill(after, "101")
	if !(b.InQueue < e.InQueue && e.InQueue < l.InQueue && a.InQueue <= 2) {
		t.Errorf("queue %d, %d, %d, %d: want growing in the spike, small after", b.InQueue, e.InQueue, l.InQueue, a.InQueue)
	}
	if !(l.AbandonRatio > b.AbandonRatio && l.ServiceLevel[20] < b.ServiceLevel[20]) {
		t.Errorf("abandons %v -> %v, service level %v -> %v: want up and down", b.AbandonRatio, l.AbandonRatio, b.ServiceLevel[20], l.ServiceLevel[20])
	}
	if o := skill(late, "102"); o.InQueue > 2 {
		t.Errorf("skill 102 queue %d in another skill's spike", o.InQueue)
	}
	for _, r := range late {
		if r.Inbound != r.Answered+r.Abandoned || r.ServiceLevel[10] > r.ServiceLevel[20] || r.ServiceLevel[20] > r.ServiceLevel[30] {
			t.Errorf("inconsistent row %+v", r)
		}
	}
}

// TestRealtimeDayCounters: stat_* grow through the day and reset at the
// operation's midnight, not UTC's.
func TestRealtimeDayCounters(t *testing.T) {
	rt := &Realtime{Seed: 2, Location: bogota}
	day := time.Date(2026, 6, 2, 0, 0, 0, 0, bogota)
	last := -1
	for h := 0; h < 24; h += 3 {
		n := skill(rt.SkillsAt(day.Add(time.Duration(h)*time.Hour+30*time.Minute)), "101").Inbound
		if n <= last {
			t.Errorf("%02d:30: %d calls, not more than %d", h, n, last)
		}
		last = n
	}
	if n := skill(rt.SkillsAt(day.Add(24*time.Hour)), "101").Inbound; n >= last || n > 5 {
		t.Errorf("just after midnight: %d calls, want the count reset", n)
	}
	if a, b := rt.SkillsAt(day.Add(5*time.Hour)), rt.SkillsAt(day.Add(5*time.Hour)); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("two calls at one moment differ")
	}
}

// TestRealtimeAgentsLive: agents come and go with their shifts, change
// state, take auxiliary states with accents, and their times add up.
func TestRealtimeAgentsLive(t *testing.T) {
	rt, start, _ := spiky()
	statuses := map[string]int{}
	var prev map[string]string
	changed := 0
	for m := 0; m < 120; m += 5 {
		now := start.Add(time.Duration(m) * time.Minute)
		cur := map[string]string{}
		for _, a := range rt.AgentsAt(now) {
			statuses[a.Status]++
			cur[a.ID] = a.Status
			if prev != nil && prev[a.ID] != "" && prev[a.ID] != a.Status {
				changed++
			}
			if a.Calls != a.Inbound+a.Outbound+a.Internal || a.InStatus < 0 || a.InStatus > a.Login ||
				a.Ready+a.InboundTime+a.OutboundTime+a.ACW+a.Ring+a.Aux > a.Login || a.Occupancy > 1 {
				t.Errorf("inconsistent agent %+v", a)
			}
		}
		prev = cur
	}
	if changed < 50 {
		t.Errorf("%d status changes in two hours of 40 agents", changed)
	}
	for _, s := range []string{"READY", "INBOUND", "ACW"} {
		if statuses[s] == 0 {
			t.Errorf("no agent ever %s: %v", s, statuses)
		}
	}
	aux := 0
	for s, n := range statuses {
		if strings.ContainsAny(s, "ÓÑ") || s == "BREAK" || s == "LUNCH" {
			aux += n
		}
	}
	if aux == 0 {
		t.Errorf("no auxiliary state: %v", statuses)
	}
	if n := len(rt.AgentsAt(time.Date(2026, 6, 1, 3, 0, 0, 0, bogota))); n != 0 {
		t.Errorf("%d agents at 03:00, before every shift", n)
	}
}

type recordingTB struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func get(t *testing.T, srv *Server, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("wolkvox-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// TestRealtimeOverlapAndFaults: two requests at once with one token to
// the new endpoints are caught as any others, and faults target them by
// report.
func TestRealtimeOverlapAndFaults(t *testing.T) {
	rt, start, _ := spiky()
	tb := &recordingTB{}
	srv := NewServer(Config{Location: bogota, Realtime: rt, Now: func() time.Time { return start }, TB: tb})
	defer srv.Close()
	srv.FailNext(1, Fault{Reports: []wolkvox.Report{wolkvox.ReportAgents}, Latency: 200 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { get(t, srv, srv.Token(), "/api/v2/real_time.php?api=agents") })
	time.Sleep(50 * time.Millisecond)
	status, _ := get(t, srv, srv.Token(), "/api/v2/information.php?api=token_info")
	wg.Wait()
	if status != http.StatusForbidden || srv.Overlaps() != 1 || len(tb.msgs) != 1 {
		t.Errorf("status %d, %d overlaps, TB told %q: want the overlap caught", status, srv.Overlaps(), tb.msgs)
	}
	srv.FailNext(1, Fault{Reports: []wolkvox.Report{wolkvox.ReportSkills}, Status: 500, Body: "boom"})
	if status, _ := get(t, srv, srv.Token(), "/api/v2/real_time.php?api=agents"); status != 200 {
		t.Errorf("agents: %d; the fault was for skills", status)
	}
	if status, _ := get(t, srv, srv.Token(), "/api/v2/real_time.php?api=skills&skill_id=all"); status != 500 {
		t.Errorf("skills: %d, want the fault's 500", status)
	}
	for path, want := range map[string]int{
		"/api/v2/real_time.php?api=skills":              400, // no skill_id
		"/api/v2/real_time.php?api=latency":             400,
		"/api/v2/information.php?api=agents":            400,
		"/api/v2/real_time.php?api=skills&skill_id=102": 200,
	} {
		if status, body := get(t, srv, srv.Token(), path); status != want {
			t.Errorf("%s: %d %s, want %d", path, status, body, want)
		}
	}
}

var thousands = regexp.MustCompile(`"[0-9]{1,3},[0-9]{3}"`)

// TestRealtimeFormats: the formats FACTS.md lists appear, as asked.
func TestRealtimeFormats(t *testing.T) {
	rt, start, _ := spiky()
	now := start.Add(8 * time.Hour)
	skills, agents := rt.SkillsAt(now), rt.AgentsAt(now)
	for _, c := range []struct {
		f    Format
		want []string
	}{
		{Format{}, []string{`"code":"200"`, `"data":[{`, `"by_abandon":"`, `"service_level_0seg":"0.00"`}},
		{Format{CodeNumber: true, Numbers: true}, []string{`"code":200`, `"stat_inbound":1`}},
		{Format{PercentSign: true, Thousands: true}, []string{` %"`}},
		{Format{Data: DataKeyed}, []string{`"data":{"101":{`}},
		{Format{Data: DataBare}, []string{`[{"skill_id"`}},
	} {
		body := string(SkillsResponse(skills, c.f))
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%+v: no %q in %.300s", c.f, w, body)
			}
		}
		if grouped := thousands.MatchString(body); grouped != c.f.Thousands {
			t.Errorf("%+v: thousands separators %v", c.f, grouped)
		}
	}
	if body := string(AgentsResponse(agents, Format{Clock: true, Thousands: true})); !strings.Contains(body, `"login_time":"0`) || !strings.Contains(body, `"agent_dni":"`) {
		t.Errorf("agents in clock format: %.400s", body)
	}
	mixed := string(AgentsResponse(agents, Format{Mixed: true}))
	if !thousands.MatchString(mixed) {
		t.Error("mixed: no thousands separator")
	}
	for _, w := range []string{`":"0`, `:1`, ` %"`} {
		if !strings.Contains(mixed, w) {
			t.Errorf("mixed: no %q", w)
		}
	}
}

// TestAgentsAroundTheClock: with AroundTheClock some agents are on shift
// at every second of the day, midnight and its last second included, so
// that a demo started at any hour shows agents.
func TestAgentsAroundTheClock(t *testing.T) {
	rt := &Realtime{Seed: 4, Location: bogota, AroundTheClock: true}
	day := time.Date(2026, 6, 2, 0, 0, 0, 0, bogota)
	for _, at := range []time.Duration{0, time.Second, 7*time.Hour + 59*time.Minute + 59*time.Second, 8 * time.Hour, 15*time.Hour + 59*time.Minute, 16 * time.Hour, 23*time.Hour + 59*time.Minute + 59*time.Second} {
		if n := len(rt.AgentsAt(day.Add(at))); n == 0 {
			t.Errorf("no agent on shift at %v", day.Add(at).Format(time.TimeOnly))
		}
	}
	if n := len((&Realtime{Seed: 4, Location: bogota}).AgentsAt(day.Add(3 * time.Hour))); n != 0 {
		t.Errorf("%d agents at 03:00 without AroundTheClock, where day shifts are the default", n)
	}
}
