package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// faultCase is one row of the fault matrix: the fault, what the exporter
// must report while it lasts, and, for faults in the records themselves,
// the records that carry it.
type faultCase struct {
	name   string
	fault  *wolkvoxtest.Fault // applied to every request while it lasts
	reason wolkvox.Reason     // "" means the polls succeed
	// transfers and interactions are added to the fake during the fault.
	transfers    []wolkvoxtest.RawTransfer
	interactions []wolkvoxtest.RawInteraction
	// check runs after recovery, on top of the counts matching.
	check func(t *testing.T, p *Poller, srv *wolkvoxtest.Server)
	edit  func(cfg *Config)
}

func body(s string) *wolkvoxtest.Fault { return &wolkvoxtest.Fault{Status: 200, Body: s} }

// faultMatrix lists every fault the exporter must survive. The README's
// Reliability section lists the same rows.
func faultMatrix() []faultCase {
	at := t0.Add(-3 * time.Minute).Add(5 * time.Minute).Format(time.DateTime) // inside the fault's window
	return []faultCase{
		{name: "slow beyond the timeout", fault: &wolkvoxtest.Fault{Latency: 2 * time.Second}, reason: wolkvox.ReasonTimeout,
			edit: func(cfg *Config) { cfg.Client.Timeout = time.Second }}, // well under the latency, well over a healthy call
		{name: "5xx with an HTML body", fault: &wolkvoxtest.Fault{Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}, reason: wolkvox.ReasonHTTP5xx},
		{name: "403 token limit exceeded", fault: ptr(wolkvoxtest.Forbidden(wolkvoxtest.TextQuota)), reason: wolkvox.ReasonQuota},
		{name: "403 simultaneous requests", fault: ptr(wolkvoxtest.Forbidden(wolkvoxtest.TextConcurrency)), reason: wolkvox.ReasonConcurrency},
		{name: "403 validate token", fault: ptr(wolkvoxtest.Forbidden(wolkvoxtest.TextBadToken)), reason: wolkvox.ReasonAuth},
		{name: "403 during backups", fault: &wolkvoxtest.Fault{Status: 403, Body: "<html><head><title>403 Forbidden</title></head></html>"}, reason: wolkvox.ReasonForbidden},
		{name: "401", fault: &wolkvoxtest.Fault{Status: 401, Body: wolkvoxtest.TextNoToken}, reason: wolkvox.ReasonAuth},
		{name: "404 for an empty window", fault: &wolkvoxtest.Fault{Status: 404}},
		{name: "truncated body", fault: &wolkvoxtest.Fault{CutAfter: 700}, reason: wolkvox.ReasonNetwork},
		{name: "PHP warning before the JSON", fault: &wolkvoxtest.Fault{PHPWarning: true}, reason: wolkvox.ReasonDecode},
		{name: "code as a string", fault: &wolkvoxtest.Fault{Code: "200"}},
		{name: "code as a number", fault: &wolkvoxtest.Fault{Code: 200}},
		{name: `code "0"`, fault: &wolkvoxtest.Fault{Code: "0"}},
		{name: "data null", fault: body(`{"code":"200","error":null,"msg":"0 records were found","data":null}`)},
		{name: "data missing", fault: body(`{"code":"200","error":null,"msg":"0 records were found"}`), reason: wolkvox.ReasonDecode},
		{name: "data an object", fault: body(`{"code":"200","error":null,"data":{"0":{"conn_id_transfer":"1"}}}`), reason: wolkvox.ReasonDecode},
		{name: "error set in the envelope", fault: &wolkvoxtest.Fault{Error: "INTERNAL ERROR"}, reason: wolkvox.ReasonAPIError},
		{name: "a 60,000-record response", edit: func(cfg *Config) { cfg.Client.MaxRecords = 0 }, // the documented default
			transfers: manyTransfers(60000, t0.Add(2*time.Minute)), // spread over the fault's first window
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				if calls := sum(t, p, "wolkvox_api_requests_total", "report=agent_13_1"); calls < 4 {
					t.Errorf("%v calls: the window was not split", calls)
				}
			}},
		{name: "a record with every field empty", transfers: []wolkvoxtest.RawTransfer{{Date: at}}, interactions: []wolkvoxtest.RawInteraction{{DateCreation: at}},
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				if got := sum(t, p, "wolkvox_transfers_total", "type_call=none", "skill_id=none"); got != 1 {
					t.Errorf("empty transfer counted %v times under none", got)
				}
			}},
		{name: "invalid UTF-8", transfers: []wolkvoxtest.RawTransfer{{ConnIDTransfer: "u1", Date: at, OriginAgentID: "77", OriginAgentName: "MU\xd1OZ", TypeCall: "transfer"}},
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				if !hasSeries(t, p, "wolkvox_agent_info", "agent_id=77", "agent_name=MUÑOZ") {
					t.Error("MU\\xd1OZ was not repaired to MUÑOZ")
				}
			}},
		{name: "a 1 MB string field", transfers: []wolkvoxtest.RawTransfer{{ConnIDTransfer: "big", Date: at, OriginAgentID: "78", OriginAgentName: strings.Repeat("Ñ", 1<<19), TypeCall: "transfer"}},
			interactions: []wolkvoxtest.RawInteraction{{CaseID: "big", DateCreation: at, Channel: "Email", Body: strings.Repeat("x", 1<<20)}},
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				for _, m := range gather(t, p)["wolkvox_agent_info"].GetMetric() {
					for _, l := range m.GetLabel() {
						if len(l.GetValue()) > wolkvox.MaxFieldLen {
							t.Errorf("label %s is %d bytes long", l.GetName(), len(l.GetValue()))
						}
					}
				}
			}},
		{name: "nested JSON where a string was expected",
			transfers: []wolkvoxtest.RawTransfer{{ConnIDTransfer: "n1", Date: at, TypeCall: "transfer", Override: map[string]string{"origin_agent_name": `{"first":"ANA","last":["X"]}`, "skill_id": "[1,2]"}}},
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				if got := sum(t, p, "wolkvox_report_invalid_fields_total", "report=agent_13_1", "field=text"); got != 1 {
					t.Errorf("invalid text fields = %v, want 1", got)
				}
			}},
		{name: "dates in the wrong format",
			interactions: []wolkvoxtest.RawInteraction{{CaseID: "d1", Channel: "Email", Status: "close", DateCreation: at, CloseDate: "01/06/2026 10:00", EvaluationSurvey: "N/A"}},
			check: func(t *testing.T, p *Poller, srv *wolkvoxtest.Server) {
				for field, want := range map[string]float64{"close_date": 1, "evaluation_survey": 1} {
					if got := sum(t, p, "wolkvox_report_invalid_fields_total", "report=chat_4", "field="+field); got != want {
						t.Errorf("invalid %s = %v, want %v", field, got, want)
					}
				}
				// Every case an agent closed with good dates has a
				// resolution time; the one with a bad close date has none,
				// nor do closes by the platform's timeout.
				var want float64
				for _, c := range srv.ServedInteractions() {
					if c.Status == "close" && c.CaseID != "d1" && !strings.HasPrefix(strings.ToUpper(c.CodAct), "TIMEOUT") {
						want++
					}
				}
				if got := sum(t, p, "wolkvox_chat_resolution_duration_seconds"); got != want {
					t.Errorf("resolution times observed: %v, want %v", got, want)
				}
			}},
	}
}

func ptr(f wolkvoxtest.Fault) *wolkvoxtest.Fault { return &f }

// manyTransfers returns n transfers spread over the five minutes before end.
func manyTransfers(n int, end time.Time) []wolkvoxtest.RawTransfer {
	out := make([]wolkvoxtest.RawTransfer, n)
	for i := range out {
		date := end.Add(-time.Duration(i%300) * time.Second).Format(time.DateTime)
		out[i] = wolkvoxtest.RawTransfer{ConnIDTransfer: "m" + itoa(i), Date: date, OriginAgentID: "1", TypeCall: "inbound", Time: "00:01:00"}
	}
	return out
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}

// TestFaultMatrix: for each fault, polls go on, report_up and the failure
// reason say what happened, and once it clears, the counters equal what the
// fake served: no gap, no double count.
func TestFaultMatrix(t *testing.T) {
	for _, tc := range faultMatrix() {
		t.Run(tc.name, func(t *testing.T) {
			store := &wolkvoxtest.Store{Location: bogota}
			srv := newFake(t, wolkvoxtest.Merge{busyTraffic(), store})
			clock := exportertest.NewClock(t0)
			cfg := testConfig(srv, clock)
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			p := startPoller(t, cfg)
			ctx := context.Background()
			pollEvery(ctx, p, clock, 1, 5*time.Minute)

			// The fault lasts two polls.
			store.AddTransfers(tc.transfers...)
			store.AddInteractions(tc.interactions...)
			if tc.fault != nil {
				srv.FailAll(*tc.fault)
			}
			pollEvery(ctx, p, clock, 2, 5*time.Minute)
			wantUp := 1.0
			if tc.reason != "" {
				wantUp = 0
			}
			for _, report := range wolkvox.Reports {
				if up := sum(t, p, "wolkvox_report_up", "report="+string(report)); up != wantUp {
					t.Errorf("%s: report_up = %v during the fault, want %v", report, up, wantUp)
				}
			}
			if tc.reason != "" {
				if f := sum(t, p, "wolkvox_report_poll_failures_total", "reason="+string(tc.reason)); f != 4 {
					t.Errorf("poll_failures_total{reason=%q} = %v, want 4 (2 polls x 2 reports)", tc.reason, f)
				}
			}
			if _, err := gatherErr(p); err != nil {
				t.Errorf("metrics unavailable during the fault: %v", err)
			}

			healAndAssertRecovered(ctx, t, p, clock, srv)
			if tc.check != nil {
				tc.check(t, p, srv)
			}
		})
	}
}

func TestAPIDownThenUp(t *testing.T) {
	// Reserve a port with nothing listening on it: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := wolkvoxtest.NewUnstartedServer(wolkvoxtest.Config{Location: bogota, Data: busyTraffic(), TB: t})
	clock := exportertest.NewClock(t0)
	cfg := testConfig(srv, clock)
	cfg.Client.BaseURL = "http://" + addr
	p := startPoller(t, cfg)
	ctx := context.Background()
	pollEvery(ctx, p, clock, 2, 5*time.Minute)
	if f := sum(t, p, "wolkvox_report_poll_failures_total", "reason=network"); f != 4 {
		t.Errorf("network failures = %v, want 4", f)
	}
	if up := sum(t, p, "wolkvox_report_up"); up != 0 {
		t.Errorf("report_up = %v while the API is down", up)
	}
	// The API comes back on the same address. Only another process taking
	// the port in these milliseconds could stop it; fail rather than skip,
	// so that CI cannot pass without this test.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("could not listen on %s again: %v", addr, err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	pollEvery(ctx, p, clock, 1, 5*time.Minute)
	assertCountsMatchServed(t, p, srv)
	// The catch-up covered the whole outage, from the first window on.
	if first := srv.Requests()[0]; !first.Start.Equal(t0.Add(-6 * time.Minute)) {
		t.Errorf("catch-up window starts at %v, want %v", first.Start, t0.Add(-6*time.Minute))
	}
}

func gatherErr(p *Poller) (int, error) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	mfs, err := reg.Gather()
	return len(mfs), err
}
