package wolkvox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

var bogota = mustZone("America/Bogota")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// day is a fixed window used by most tests.
var day = wolkvox.Window{
	Start: time.Date(2026, 6, 1, 0, 0, 0, 0, bogota),
	End:   time.Date(2026, 6, 1, 23, 59, 59, 0, bogota),
}

func newFake(t *testing.T, data wolkvoxtest.Dataset) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, TB: t})
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *wolkvoxtest.Server, edit ...func(*wolkvox.Config)) *wolkvox.Client {
	t.Helper()
	cfg := wolkvox.Config{
		BaseURL:  srv.URL,
		Token:    srv.Token(),
		Location: bogota,
		Timeout:  5 * time.Second,
		Retry:    wolkvox.RetryPolicy{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond},
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := wolkvox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func transfersOf(t *testing.T, c *wolkvox.Client, w wolkvox.Window) ([]wolkvox.Transfer, wolkvox.FetchStats, error) {
	t.Helper()
	var all []wolkvox.Transfer
	stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, w, func(_ wolkvox.Window, recs []wolkvox.Transfer) error {
		all = append(all, recs...)
		return nil
	})
	return all, stats, err
}

func interactionsOf(t *testing.T, c *wolkvox.Client, w wolkvox.Window) ([]wolkvox.Interaction, wolkvox.FetchStats, error) {
	t.Helper()
	var all []wolkvox.Interaction
	stats, err := c.FetchInteractions(context.Background(), wolkvox.PurposeNew, w, func(_ wolkvox.Window, recs []wolkvox.Interaction) error {
		all = append(all, recs...)
		return nil
	})
	return all, stats, err
}

func traffic() *wolkvoxtest.Traffic {
	return &wolkvoxtest.Traffic{Seed: 7, Location: bogota, TransfersPerMinute: 2, InteractionsPerMinute: 1, BodyBytes: 512}
}

func TestFetchDeliversEveryRecordServed(t *testing.T) {
	srv := newFake(t, traffic())
	c := newClient(t, srv)
	w := wolkvox.Window{Start: day.Start, End: day.Start.Add(2*time.Hour - time.Second)}
	transfers, stats, err := transfersOf(t, c, w)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls != 1 {
		t.Errorf("calls = %d, want 1", stats.Calls)
	}
	want := srv.ServedTransfers()
	if len(transfers) != len(want) || len(want) < 120 {
		t.Fatalf("got %d transfers, fake served %d (want > 120)", len(transfers), len(want))
	}
	for _, tr := range transfers {
		if tr.Date.Before(w.Start) || tr.Date.After(w.End) {
			t.Errorf("record dated %v outside %v", tr.Date, w)
		}
		if tr.ConnID == "" || tr.OriginAgentID == "" || tr.TypeCall == "" || !tr.HasDuration || tr.Invalid != 0 {
			t.Errorf("incomplete record %+v", tr)
		}
		if tr.Date.Location() != bogota {
			t.Errorf("date in %v, want the operation's zone", tr.Date.Location())
		}
	}
	interactions, _, err := interactionsOf(t, c, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(interactions) != len(srv.ServedInteractions()) || len(interactions) == 0 {
		t.Fatalf("got %d interactions, fake served %d", len(interactions), len(srv.ServedInteractions()))
	}
}

func TestRequestFormat(t *testing.T) {
	srv := newFake(t, traffic())
	c := newClient(t, srv, func(c *wolkvox.Config) { c.UserAgent = "wolkvox_exporter/1.2.3" })
	w := wolkvox.Window{Start: time.Date(2026, 6, 1, 8, 5, 0, 0, bogota), End: time.Date(2026, 6, 1, 8, 9, 59, 0, bogota)}
	if _, _, err := transfersOf(t, c, w); err != nil {
		t.Fatal(err)
	}
	// The same window asked for in UTC must go out in operation-local time.
	wUTC := wolkvox.Window{Start: w.Start.UTC(), End: w.End.UTC()}
	if _, _, err := interactionsOf(t, c, wUTC); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, want := range []string{
		"api=agent_13_1&date_end=20260601080959&date_ini=20260601080500",
		"api=chat_4&date_end=20260601080959&date_ini=20260601080500&include_attachments=false",
	} {
		if reqs[i].Query != want {
			t.Errorf("query %d = %q, want %q", i, reqs[i].Query, want)
		}
		if reqs[i].UserAgent != "wolkvox_exporter/1.2.3" {
			t.Errorf("User-Agent = %q", reqs[i].UserAgent)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]wolkvox.Config{
		"no token":        {Server: "0002", Location: bogota},
		"no zone":         {Server: "0002", Token: "x"},
		"no server":       {Token: "x", Location: bogota},
		"bad server code": {Server: "wv0002.wolkvox.com/evil?", Token: "x", Location: bogota},
		"bad url":         {BaseURL: "ftp://example.com", Token: "x", Location: bogota},
		"url sans host":   {BaseURL: "http://", Token: "x", Location: bogota},
		"token with CRLF": {Server: "0002", Token: "x\r\nX-Evil: 1", Location: bogota},
		"token with NUL":  {Server: "0002", Token: "x\x00y", Location: bogota},
		"token with DEL":  {Server: "0002", Token: "x\x7fy", Location: bogota},
		"token not ASCII": {Server: "0002", Token: "tók", Location: bogota},
		"token with BOM":  {Server: "0002", Token: "\ufeffx", Location: bogota},
		"url with query":  {BaseURL: "https://u:hunter2-pw@example.com/?server=2", Token: "x", Location: bogota},
		"url with #":      {BaseURL: "https://example.com/#x", Token: "x", Location: bogota},
		"password, ftp":   {BaseURL: "ftp://u:hunter2-pw@example.com", Token: "x", Location: bogota},
		"password, bad":   {BaseURL: "http://u:hunter2-pw@example.com:port/%zz", Token: "x", Location: bogota},
	} {
		_, err := wolkvox.New(cfg)
		if err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the URL's password: %v", name, err)
		}
	}
	c, err := wolkvox.New(wolkvox.Config{Server: "0002", Token: "x", Location: bogota})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Endpoint(); got != "https://wv0002.wolkvox.com/api/v2/reports_manager.php" {
		t.Errorf("endpoint %q", got)
	}
}

func TestEndpointHidesThePassword(t *testing.T) {
	c, err := wolkvox.New(wolkvox.Config{BaseURL: "https://exporter:hunter2-pw@proxy.example.com/wolkvox", Token: "x", Location: bogota})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Endpoint(), "https://exporter:xxxxx@proxy.example.com/wolkvox/api/v2/reports_manager.php"; got != want {
		t.Errorf("endpoint %q, want %q", got, want)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://wv0002.wolkvox.com":             "https://wv0002.wolkvox.com",
		"http://u:hunter2@host:8080/p":           "http://u:xxxxx@host:8080/p",
		"http://u:hunter2@host/p?token=abc#frag": "http://u:xxxxx@host/p?…#…",
		"http://u:hun@ter2@host:port/%zz":        "http://xxxxx@host:port/%zz",
		"http://host:port/%zz?token=abc":         "http://host:port/%zz?…",
		"ftp://u:hunter2@x":                      "ftp://u:xxxxx@x",
		// Typos that do not parse as a URL with a scheme and a host.
		"ht tp://user:hunter2@x.example": "xxxxx@x.example",
		"https//user:hunter2@x.example":  "xxxxx@x.example",
		"https:/user:hunter2@x.example":  "xxxxx@x.example",
		"user:hunter2@x.example":         "xxxxx@x.example",
	} {
		if got := wolkvox.RedactURL(in); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

// TestResponseForms covers every documented and observed answer.
func TestResponseForms(t *testing.T) {
	one := wolkvoxtest.RawTransfer{ConnIDTransfer: "1.2", Date: "2026-06-01 10:00:00", OriginAgentID: "1", TypeCall: "transfer", Time: "00:01:00"}
	html := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	cases := []struct {
		name   string
		fault  wolkvoxtest.Fault
		want   wolkvox.Reason // "" means success
		n      int            // records on success
		status int
	}{
		{name: "code as string", fault: wolkvoxtest.Fault{Code: "200"}, n: 1},
		{name: "code as number", fault: wolkvoxtest.Fault{Code: 200}, n: 1},
		{name: "code 0", fault: wolkvoxtest.Fault{Code: "0"}, n: 1},
		{name: "code 500 in body", fault: wolkvoxtest.Fault{Code: "500"}, want: wolkvox.ReasonAPIError},
		{name: "non-null error", fault: wolkvoxtest.Fault{Error: "SOMETHING WENT WRONG"}, want: wolkvox.ReasonAPIError},
		{name: "404 empty", fault: wolkvoxtest.Fault{Status: 404}, n: 0},
		{name: "404 the API's JSON", fault: wolkvoxtest.Fault{Status: 404, Body: wolkvoxtest.BodyNoRows}, n: 0},
		{name: "404 JSON, code a number", fault: wolkvoxtest.Fault{Status: 404, Body: `{"code":404,"error":"Validate dates entered","msg":"","data":null}`}, n: 0},
		{name: "404 HTML", fault: wolkvoxtest.WrongPath(), want: wolkvox.ReasonNotFound, status: 404},
		{name: "404 text", fault: wolkvoxtest.Fault{Status: 404, Body: "Not Found"}, want: wolkvox.ReasonNotFound, status: 404},
		{name: "404 a gateway's JSON", fault: wolkvoxtest.Fault{Status: 404, Body: `{"message":"no Route matched with those values"}`}, want: wolkvox.ReasonNotFound, status: 404},
		{name: "404 Spring's JSON", fault: wolkvoxtest.Fault{Status: 404, Body: `{"status":404,"error":"Not Found","path":"/api/v2/reports_manager.php"}`}, want: wolkvox.ReasonNotFound, status: 404},
		{name: "404 with records", fault: wolkvoxtest.Fault{Status: 404, Body: `{"code":"404","data":[{"conn_id_transfer":"1"}]}`}, want: wolkvox.ReasonNotFound, status: 404},
		{name: "empty list", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"msg":"0 records were found","data":[]}`}, n: 0},
		{name: "data null", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"msg":"","data":null}`}, n: 0},
		{name: "data missing", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"msg":""}`}, want: wolkvox.ReasonDecode},
		{name: "data object", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"data":{"a":"b"}}`}, want: wolkvox.ReasonDecode},
		{name: "data of strings", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"data":["a"]}`}, want: wolkvox.ReasonDecode},
		{name: "code missing", fault: wolkvoxtest.Fault{Status: 200, Body: `{"error":null,"data":[]}`}, want: wolkvox.ReasonDecode},
		{name: "code after data", fault: wolkvoxtest.Fault{Status: 200, Body: `{"data":[{"conn_id_transfer":"9"}],"error":null,"code":200}`}, n: 1},
		{name: "trailing garbage", fault: wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","data":[]} {"x":1}`}, want: wolkvox.ReasonDecode},
		{name: "401", fault: wolkvoxtest.Fault{Status: 401, Body: wolkvoxtest.TextNoToken}, want: wolkvox.ReasonAuth, status: 401},
		{name: "403 quota", fault: wolkvoxtest.Forbidden(wolkvoxtest.TextQuota), want: wolkvox.ReasonQuota, status: 403},
		{name: "403 concurrency", fault: wolkvoxtest.Forbidden(wolkvoxtest.TextConcurrency), want: wolkvox.ReasonConcurrency, status: 403},
		{name: "403 bad token", fault: wolkvoxtest.Forbidden(wolkvoxtest.TextBadToken), want: wolkvox.ReasonAuth, status: 403},
		{name: "403 maintenance", fault: wolkvoxtest.Fault{Status: 403, Body: "<html>Forbidden</html>"}, want: wolkvox.ReasonForbidden, status: 403},
		{name: "400", fault: wolkvoxtest.Fault{Status: 400, Body: `{"code":"400","error":"SOME PARAMETERS ARE REQUIRED"}`}, want: wolkvox.ReasonBadRequest, status: 400},
		{name: "502 html", fault: wolkvoxtest.Fault{Status: 502, Body: html}, want: wolkvox.ReasonHTTP5xx, status: 502},
		{name: "200 html", fault: wolkvoxtest.Fault{Status: 200, Body: html}, want: wolkvox.ReasonDecode},
		{name: "200 not json", fault: wolkvoxtest.Fault{Status: 200, Body: "OK"}, want: wolkvox.ReasonDecode},
		{name: "200 empty body", fault: wolkvoxtest.Fault{Status: 200, Body: ""}, want: wolkvox.ReasonDecode},
		{name: "php warning", fault: wolkvoxtest.Fault{PHPWarning: true}, want: wolkvox.ReasonDecode},
		{name: "cut mid-stream", fault: wolkvoxtest.Fault{CutAfter: 60}, want: wolkvox.ReasonNetwork},
		{name: "hang up", fault: wolkvoxtest.Fault{Hangup: true}, want: wolkvox.ReasonNetwork},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := &wolkvoxtest.Store{Location: bogota}
			store.AddTransfers(one)
			srv := newFake(t, store)
			srv.FailAll(tc.fault)
			c := newClient(t, srv)
			recs, _, err := transfersOf(t, c, day)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if len(recs) != tc.n {
					t.Fatalf("got %d records, want %d", len(recs), tc.n)
				}
				return
			}
			var e *wolkvox.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *wolkvox.Error with reason %s, got %v", tc.want, err)
			}
			if e.Reason != tc.want {
				t.Errorf("reason %s, want %s (%v)", e.Reason, tc.want, err)
			}
			if tc.status != 0 && (e.Status != tc.status || !strings.Contains(err.Error(), "HTTP")) {
				t.Errorf("status %d in %q, want %d", e.Status, err, tc.status)
			}
			if len(recs) != 0 {
				t.Errorf("a failed fetch delivered %d records", len(recs))
			}
		})
	}
}

func TestErrorsNeverCarryTheToken(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: bogota})
	defer srv.Close()
	faults := []struct {
		fault  wolkvoxtest.Fault
		reason wolkvox.Reason
	}{
		{wolkvoxtest.Fault{Status: 403, Body: "PLEASE VALIDATE TOKEN " + token}, wolkvox.ReasonAuth},
		{wolkvoxtest.Fault{Status: 500, Body: "<b>Fatal</b> token=" + token}, wolkvox.ReasonHTTP5xx},
		{wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":"bad token ` + token + `"}`}, wolkvox.ReasonAPIError},
		{wolkvoxtest.Fault{Status: 200, Body: token}, wolkvox.ReasonDecode},
		{wolkvoxtest.Fault{Hangup: true}, wolkvox.ReasonNetwork},
		{wolkvoxtest.Fault{Latency: time.Minute}, wolkvox.ReasonTimeout},
	}
	for _, f := range faults {
		srv.FailAll(f.fault)
		c := newClient(t, srv, func(c *wolkvox.Config) {
			c.Timeout = time.Second // the fake answers in milliseconds, but for the slow fault
			c.Retry = wolkvox.RetryPolicy{Attempts: 1}
		})
		_, _, err := transfersOf(t, c, day)
		// The reason shows the fault was met, not a timeout on a slow machine.
		if wolkvox.ReasonOf(err) != f.reason {
			t.Fatalf("fault %+v: reason %q (%v), want %q", f.fault, wolkvox.ReasonOf(err), err, f.reason)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error text carries the token: %q", err)
		}
	}
	// A token the server rejects is not echoed either.
	c := newClient(t, srv, func(c *wolkvox.Config) { c.Token = "wrong-" + token })
	srv.Heal()
	_, _, err := transfersOf(t, c, day)
	if wolkvox.ReasonOf(err) != wolkvox.ReasonAuth || strings.Contains(err.Error(), token) {
		t.Errorf("wrong token: %v", err)
	}
}

func TestConcurrentCallersNeverOverlap(t *testing.T) {
	srv := newFake(t, traffic()) // TB: t fails the test on any overlap
	srv.FailAll(wolkvoxtest.Fault{Latency: 5 * time.Millisecond})
	c := newClient(t, srv)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			w := wolkvox.Window{Start: day.Start.Add(time.Duration(i) * time.Minute), End: day.Start.Add(time.Duration(i+1) * time.Minute)}
			if i%2 == 0 {
				_, _, err := transfersOf(t, c, w)
				if err != nil {
					t.Error(err)
				}
			} else if _, _, err := interactionsOf(t, c, w); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(srv.Requests()); n != 16 {
		t.Errorf("%d requests, want 16", n)
	}
	if o := srv.Overlaps(); o != 0 {
		t.Errorf("%d overlapping requests", o)
	}
}

func TestWaitingCallerGivesUpWithItsContext(t *testing.T) {
	srv := newFake(t, traffic())
	srv.FailAll(wolkvoxtest.Fault{Latency: 300 * time.Millisecond})
	c := newClient(t, srv)
	holder := make(chan error, 1)
	go func() { _, _, err := transfersOf(t, c, day); holder <- err }()
	for deadline := time.Now().Add(10 * time.Second); srv.InFlight() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.FetchTransfers(ctx, wolkvox.PurposeNew, day, func(wolkvox.Window, []wolkvox.Transfer) error { return nil })
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonTimeout {
		t.Errorf("reason %q (%v), want timeout", r, err)
	}
	if err := <-holder; err != nil {
		t.Errorf("the caller holding the turn: %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("fake saw %d requests; the caller that gave up waiting sent one", n)
	}
}

// TestHangUpKeepsTheTurn: after the client hangs up on a server still
// answering, the next call, even another caller's, waits a second, so the
// server has seen the hang-up and does not take it for simultaneous use.
func TestHangUpKeepsTheTurn(t *testing.T) {
	srv := newFake(t, traffic()) // TB: t fails the test on any overlap
	// Ample for the first request to reach the fake even under -race on a
	// loaded machine; without the kept turn the gap below is about this long.
	const timeout = 500 * time.Millisecond
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.Timeout = timeout
		c.Retry = wolkvox.RetryPolicy{Attempts: 1}
	})
	srv.FailNext(1, wolkvoxtest.Fault{Latency: time.Minute, Reports: []wolkvox.Report{wolkvox.ReportTransfers}})
	hour := wolkvox.Window{Start: day.Start, End: day.Start.Add(time.Hour - time.Second)}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := transfersOf(t, c, hour); wolkvox.ReasonOf(err) != wolkvox.ReasonTimeout {
			t.Errorf("slow call: %v, want a timeout", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); srv.InFlight() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if _, _, err := interactionsOf(t, c, hour); err != nil {
		t.Errorf("next caller: %v", err)
	}
	wg.Wait()
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("fake saw %d requests, want 2", len(reqs))
	}
	// The client's timeout starts before the fake stamps the first request,
	// so the gap the fake sees is the timeout plus the kept second, less the
	// first request's transit. A second is the bound that cannot flake and
	// still fails without the pause (the gap is then about the timeout).
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Errorf("the next call came %v after the abandoned one, want at least the second the turn is kept", gap)
	}
}

// waitIdle waits until the fake has seen every request end.
func waitIdle(t *testing.T, srv *wolkvoxtest.Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); srv.InFlight() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fake still answers a request the client hung up on")
		}
	}
}

// TestHangUpPauseGoesThroughRetrySleep: the second the token's next call
// waits after a hang-up is waited through the retry policy's Sleep, so a
// test that replaces Sleep does not wait on the real clock.
func TestHangUpPauseGoesThroughRetrySleep(t *testing.T) {
	srv := newFake(t, traffic())
	var mu sync.Mutex
	var slept []time.Duration
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.Timeout = 200 * time.Millisecond
		c.Retry = wolkvox.RetryPolicy{Attempts: 1, Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
			return nil
		}}
	})
	srv.FailNext(1, wolkvoxtest.Fault{Latency: time.Minute})
	start := time.Now()
	if _, _, err := transfersOf(t, c, day); wolkvox.ReasonOf(err) != wolkvox.ReasonTimeout {
		t.Fatalf("slow call: %v, want a timeout", err)
	}
	if _, _, err := transfersOf(t, c, day); err != nil {
		t.Fatalf("next call: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slept) != 1 || slept[0] != wolkvox.HangUpSettle {
		t.Errorf("Sleep saw %v, want one pause of %v", slept, wolkvox.HangUpSettle)
	}
	// The timeout and the call, not the real second.
	if took := time.Since(start); took >= wolkvox.HangUpSettle {
		t.Errorf("the fetch took %v: the pause slept on the real clock", took)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		fault     wolkvoxtest.Fault
		retried   bool
		reason    wolkvox.Reason
		transient bool
	}{
		{fault: wolkvoxtest.Fault{Status: 503, Body: "busy"}, retried: true, reason: wolkvox.ReasonHTTP5xx},
		{fault: wolkvoxtest.Forbidden(wolkvoxtest.TextConcurrency), retried: true, reason: wolkvox.ReasonConcurrency},
		{fault: wolkvoxtest.Fault{Hangup: true}, retried: true, reason: wolkvox.ReasonNetwork},
		{fault: wolkvoxtest.Fault{Latency: 2 * time.Second}, retried: true, reason: wolkvox.ReasonTimeout},
		{fault: wolkvoxtest.Fault{Status: 401}, reason: wolkvox.ReasonAuth},
		{fault: wolkvoxtest.Forbidden(wolkvoxtest.TextBadToken), reason: wolkvox.ReasonAuth},
		{fault: wolkvoxtest.Forbidden(wolkvoxtest.TextQuota), reason: wolkvox.ReasonQuota},
		{fault: wolkvoxtest.Fault{Status: 400}, reason: wolkvox.ReasonBadRequest},
		{fault: wolkvoxtest.Forbidden(wolkvoxtest.TextMaintenance), reason: wolkvox.ReasonForbidden},
	}
	for _, tc := range cases {
		t.Run(string(tc.reason), func(t *testing.T) {
			srv := newFake(t, traffic())
			var slept []time.Duration
			c := newClient(t, srv, func(c *wolkvox.Config) {
				c.Timeout = time.Second // ample for an hour of records, even under -race on a loaded machine
				c.Retry = wolkvox.RetryPolicy{Attempts: 4, Initial: time.Second, Max: 3 * time.Second,
					Sleep: func(_ context.Context, d time.Duration) error {
						// The pause after a hang-up goes through Sleep too.
						// It stands for the time the server takes to see
						// the hang-up: wait for that, not a second.
						if d == wolkvox.HangUpSettle {
							waitIdle(t, srv)
							return nil
						}
						slept = append(slept, d)
						return nil
					}}
			})
			// Persistent: the fetch gives up with the fault's reason.
			srv.FailAll(tc.fault)
			hour := wolkvox.Window{Start: day.Start, End: day.Start.Add(time.Hour - time.Second)}
			_, stats, err := transfersOf(t, c, hour)
			if wolkvox.ReasonOf(err) != tc.reason {
				t.Fatalf("reason %q, want %q (%v)", wolkvox.ReasonOf(err), tc.reason, err)
			}
			wantCalls := 1
			if tc.retried {
				wantCalls = 4
			}
			if stats.Calls != wantCalls || len(srv.Requests()) != wantCalls {
				t.Errorf("calls %d (fake saw %d), want %d", stats.Calls, len(srv.Requests()), wantCalls)
			}
			if tc.retried {
				// Backoff doubles to the cap, with jitter in [0.5, 1).
				for i, max := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
					if slept[i] < max/2 || slept[i] >= max {
						t.Errorf("backoff %d = %v, want in [%v, %v)", i, slept[i], max/2, max)
					}
				}
				// Transient: one failure, then success.
				srv.Heal()
				srv.FailNext(1, tc.fault)
				recs, stats, err := transfersOf(t, c, hour)
				if err != nil || stats.Calls != 2 || len(recs) == 0 {
					t.Errorf("after one %s: err %v, calls %d, records %d", tc.reason, err, stats.Calls, len(recs))
				}
			}
		})
	}
}

func TestRetryStopsWithTheCallersContext(t *testing.T) {
	srv := newFake(t, traffic())
	srv.FailAll(wolkvoxtest.Fault{Status: 500})
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.Retry = wolkvox.RetryPolicy{Attempts: 100, Initial: time.Hour, Max: time.Hour}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.FetchTransfers(ctx, wolkvox.PurposeNew, day, func(wolkvox.Window, []wolkvox.Transfer) error { return nil })
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonTimeout || time.Since(start) > 5*time.Second {
		t.Fatalf("reason %q (%v) after %v, want the caller's timeout", r, err, time.Since(start))
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d calls", n)
	}
}

func TestLongWindowIsSplitAt31Days(t *testing.T) {
	srv := newFake(t, &wolkvoxtest.Store{Location: bogota})
	c := newClient(t, srv)
	w := wolkvox.Window{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, bogota), End: time.Date(2026, 3, 15, 12, 0, 0, 0, bogota)}
	var pieces []wolkvox.Window
	stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, w, func(p wolkvox.Window, _ []wolkvox.Transfer) error {
		pieces = append(pieces, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls != 3 || len(pieces) != 3 {
		t.Fatalf("calls %d, pieces %v", stats.Calls, pieces)
	}
	for i, p := range pieces {
		if p.End.Sub(p.Start) > 31*24*time.Hour {
			t.Errorf("piece %v longer than 31 days", p)
		}
		if i > 0 && !p.Start.Equal(pieces[i-1].End.Add(time.Second)) {
			t.Errorf("pieces %v and %v are not contiguous", pieces[i-1], p)
		}
	}
	if !pieces[0].Start.Equal(w.Start) || !pieces[2].End.Equal(w.End) {
		t.Errorf("pieces %v do not cover %v", pieces, w)
	}
}

func TestTruncatedResponseIsSplitUntilUnderTheCap(t *testing.T) {
	srv := newFake(t, &wolkvoxtest.Traffic{Seed: 3, Location: bogota, TransfersPerMinute: 4})
	c := newClient(t, srv, func(c *wolkvox.Config) { c.MaxRecords = 100 })
	w := wolkvox.Window{Start: day.Start, End: day.Start.Add(2*time.Hour - time.Second)}
	var pieces []wolkvox.Window
	var got []wolkvox.Transfer
	stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, w, func(p wolkvox.Window, recs []wolkvox.Transfer) error {
		if len(recs) >= 100 {
			t.Errorf("piece %v delivered %d records, at the cap", p, len(recs))
		}
		pieces = append(pieces, p)
		got = append(got, recs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Splits == 0 || stats.Calls != len(srv.Requests()) {
		t.Errorf("splits %d, calls %d, fake saw %d", stats.Splits, stats.Calls, len(srv.Requests()))
	}
	for i := 1; i < len(pieces); i++ {
		if !pieces[i].Start.Equal(pieces[i-1].End.Add(time.Second)) {
			t.Errorf("pieces %v and %v are not contiguous", pieces[i-1], pieces[i])
		}
	}
	seen := map[string]bool{}
	for _, r := range got {
		key := r.ConnID + r.Date.String()
		if seen[key] {
			t.Errorf("record %s delivered twice", key)
		}
		seen[key] = true
	}
	if len(got) != len(srv.ServedTransfers()) {
		t.Errorf("delivered %d, fake served %d distinct", len(got), len(srv.ServedTransfers()))
	}
}

func TestOneSecondAtTheCapFails(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	for i := range 5 {
		store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: string(rune('a' + i)), Date: "2026-06-01 10:00:00"})
	}
	srv := newFake(t, store)
	c := newClient(t, srv, func(c *wolkvox.Config) { c.MaxRecords = 5 })
	_, _, err := transfersOf(t, c, day)
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonTooManyRows {
		t.Fatalf("reason %q (%v)", r, err)
	}
}

func TestBodyOverTheLimitIsRefused(t *testing.T) {
	srv := newFake(t, traffic())
	c := newClient(t, srv, func(c *wolkvox.Config) { c.MaxBodyBytes = 4096 })
	_, _, err := interactionsOf(t, c, day)
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonTooLarge {
		t.Fatalf("reason %q (%v)", r, err)
	}
}

func TestDeliverErrorStopsTheFetch(t *testing.T) {
	srv := newFake(t, &wolkvoxtest.Store{Location: bogota})
	c := newClient(t, srv)
	stop := errors.New("stop")
	w := wolkvox.Window{Start: day.Start, End: day.Start.AddDate(0, 2, 0)}
	_, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, w, func(wolkvox.Window, []wolkvox.Transfer) error { return stop })
	if !errors.Is(err, stop) || len(srv.Requests()) != 1 {
		t.Errorf("err %v after %d calls", err, len(srv.Requests()))
	}
}

func TestObserveRequestSeesEveryCall(t *testing.T) {
	srv := newFake(t, traffic())
	var seen []wolkvox.RequestInfo
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.ObserveRequest = func(ri wolkvox.RequestInfo) { seen = append(seen, ri) }
	})
	srv.FailNext(1, wolkvoxtest.Fault{Status: http.StatusBadGateway})
	if _, _, err := transfersOf(t, c, day); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Status != 502 || seen[0].Err == nil || seen[1].Status != 200 || seen[1].Err != nil {
		t.Errorf("observed %+v", seen)
	}
}

// TestRedirectIsNeverFollowed: a 3xx to another host is a failure of its
// own, and the other host receives nothing, least of all the token. Go's
// client drops Authorization on a cross-host redirect, but not a custom
// header such as wolkvox-token.
func TestRedirectIsNeverFollowed(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Clone())
		mu.Unlock()
		http.Error(w, "gotcha", http.StatusOK)
	}))
	defer other.Close()
	// The same listener under another host name: for Go's client a
	// different host, as the token's thief would be.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	otherHost := strings.TrimPrefix(otherURL, "http://")
	srv := newFake(t, traffic())

	callerClient := &http.Client{}
	for name, edit := range map[string]func(*wolkvox.Config){
		"own client":    func(*wolkvox.Config) {},
		"caller client": func(c *wolkvox.Config) { c.HTTPClient = callerClient },
	} {
		t.Run(name, func(t *testing.T) {
			var seen []wolkvox.RequestInfo
			c := newClient(t, srv, edit, func(c *wolkvox.Config) {
				c.ObserveRequest = func(ri wolkvox.RequestInfo) { seen = append(seen, ri) }
			})
			for _, to := range []struct{ location, host string }{
				{otherURL + "/api/v2/reports_manager.php?api=agent_13_1&leak=query-secret", otherHost},
				{srv.URL + "/again?leak=query-secret", strings.TrimPrefix(srv.URL, "http://")}, // a loop: one call, not ten
			} {
				location := to.location
				seen = nil
				before := len(srv.Requests())
				srv.FailAll(wolkvoxtest.Redirect(location))
				_, stats, err := transfersOf(t, c, day)
				var e *wolkvox.Error
				if !errors.As(err, &e) || e.Reason != wolkvox.ReasonRedirect || e.Status != http.StatusFound {
					t.Fatalf("%s: %v, want reason redirect with status 302", location, err)
				}
				if strings.Contains(err.Error(), "query-secret") || strings.Contains(err.Error(), "reports_manager") {
					t.Errorf("the error quotes more of the Location than its host: %q", err)
				}
				if !strings.Contains(err.Error(), "host "+to.host) {
					t.Errorf("the error does not name the Location's host %s: %q", to.host, err)
				}
				if stats.Calls != 1 || len(srv.Requests())-before != 1 {
					t.Errorf("calls %d, fake saw %d, want 1: a redirect is not retried", stats.Calls, len(srv.Requests())-before)
				}
				if len(seen) != 1 || seen[0].Status != http.StatusFound || seen[0].Err == nil {
					t.Errorf("observed %+v, want one call with status 302", seen)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host received %d requests (token sent: %v)", len(elsewhere), elsewhere[0].Get("wolkvox-token") != "")
	}
	if callerClient.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

// TestEchoedTokenIsRedactedBeforeTheCut: a body that echoes the token, as
// is, PHP-escaped (\/), \u-escaped or upper-cased, anywhere (also where
// the excerpt is cut), leaves no 8 characters of it in the error.
func TestEchoedTokenIsRedactedBeforeTheCut(t *testing.T) {
	const token = "s3cr3t/T0ken-value-0123456789"
	escaped := strings.ReplaceAll(token, "/", `\/`)
	uEscaped := `\u0073\u0033` + escaped[2:]
	upper := strings.ToUpper(token)
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: bogota})
	defer srv.Close()
	echoes := `plain ` + token + ` escaped ` + escaped + ` u ` + uEscaped + ` upper ` + upper
	for _, f := range []struct {
		fault  wolkvoxtest.Fault
		reason wolkvox.Reason
	}{
		{wolkvoxtest.Fault{Status: 403, Body: `{"code":"403","error":"PLEASE VALIDATE TOKEN ` + escaped + `","token":"` + upper + `"}`}, wolkvox.ReasonAuth},
		{wolkvoxtest.Fault{Status: 403, Body: `<html>Forbidden: ` + echoes + `</html>`}, wolkvox.ReasonForbidden},
		{wolkvoxtest.Fault{Status: 401, Body: `PLEASE ENTER THE WOLKVOX-TOKEN ` + echoes}, wolkvox.ReasonAuth},
		{wolkvoxtest.Fault{Status: 403, Body: `TOKEN LIMIT EXCEEDED for ` + echoes}, wolkvox.ReasonQuota},
		// Where the excerpt is cut (120 characters): redaction comes first.
		{wolkvoxtest.Fault{Status: 500, Body: strings.Repeat("x", 100) + token}, wolkvox.ReasonHTTP5xx},
		{wolkvoxtest.Fault{Status: 500, Body: strings.Repeat("x", 100) + escaped}, wolkvox.ReasonHTTP5xx},
		{wolkvoxtest.Fault{Status: 502, Body: echoes}, wolkvox.ReasonHTTP5xx},
		{wolkvoxtest.Fault{Status: 400, Body: echoes}, wolkvox.ReasonBadRequest},
		{wolkvoxtest.Fault{Status: 200, Body: `{"code":"500","error":"bad ` + uEscaped + `","data":[]}`}, wolkvox.ReasonAPIError},
		{wolkvoxtest.Fault{Status: 200, Body: `{"code":"500","error":"` + strings.Repeat("y", 80) + escaped + `","data":[]}`}, wolkvox.ReasonAPIError},
	} {
		srv.FailAll(f.fault)
		c := newClient(t, srv, func(c *wolkvox.Config) { c.Retry = wolkvox.RetryPolicy{Attempts: 1} })
		_, _, err := transfersOf(t, c, day)
		if wolkvox.ReasonOf(err) != f.reason {
			t.Fatalf("body %q: reason %q (%v), want %q", f.fault.Body, wolkvox.ReasonOf(err), err, f.reason)
		}
		msg := strings.ToLower(err.Error())
		for i := 0; i+8 <= len(token); i++ {
			if part := strings.ToLower(token[i : i+8]); strings.Contains(msg, part) {
				t.Errorf("body %q: the error shows %q of the token: %q", f.fault.Body, part, err)
				break
			}
		}
	}
}

// TestGzipBombIsTooLarge: Go's client inflates a gzip body it asked for
// on its own, so the size limit must count inflated bytes. A body of a few
// KB on the wire that inflates past MaxBodyBytes fails as too_large, at
// once, not at the timeout. One under the limit decodes.
func TestGzipBombIsTooLarge(t *testing.T) {
	srv := newFake(t, traffic())
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.MaxBodyBytes = 1 << 20
		c.Timeout = 30 * time.Second
	})
	srv.FailNext(1, wolkvoxtest.Fault{GzipBomb: 64 << 20})
	start := time.Now()
	_, stats, err := interactionsOf(t, c, day)
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonTooLarge || stats.Calls != 1 {
		t.Fatalf("reason %q (%v) after %d calls, want too_large after 1", r, err, stats.Calls)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v", took)
	}
	srv.FailNext(1, wolkvoxtest.Fault{GzipBomb: 100 << 10})
	recs, _, err := transfersOf(t, c, day)
	if err != nil || len(recs) != 1 {
		t.Errorf("a gzip body under the limit: %d records, %v", len(recs), err)
	}
}

// TestCutBodyIsRetried: a body the transport reports cut off mid-stream
// (io.ErrUnexpectedEOF: a chunked body without its last chunk, or one
// shorter than its Content-Length) is a network failure, retried; the
// retry delivers every record once.
func TestCutBodyIsRetried(t *testing.T) {
	srv := newFake(t, traffic())
	c := newClient(t, srv, func(c *wolkvox.Config) {
		c.Retry.Sleep = func(context.Context, time.Duration) error { waitIdle(t, srv); return nil }
	})
	hour := wolkvox.Window{Start: day.Start, End: day.Start.Add(time.Hour - time.Second)}
	srv.FailNext(1, wolkvoxtest.Fault{CutAfter: 5000})
	recs, stats, err := transfersOf(t, c, hour)
	if err != nil || stats.Calls != 2 {
		t.Fatalf("calls %d, %v; want a retry that succeeds", stats.Calls, err)
	}
	if len(recs) != len(srv.ServedTransfers()) || len(recs) < 60 {
		t.Errorf("delivered %d records, fake served %d", len(recs), len(srv.ServedTransfers()))
	}

	// A body shorter than its Content-Length, from a server that is not
	// the fake: the same failure, whatever the framing.
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write([]byte(`{"code":"200","error":null,"data":[{"conn_id_transfer":"1"}`))
	}))
	defer short.Close()
	var calls int
	c2, err := wolkvox.New(wolkvox.Config{BaseURL: short.URL, Token: "t", Location: bogota,
		Retry:          wolkvox.RetryPolicy{Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }},
		ObserveRequest: func(wolkvox.RequestInfo) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.FetchTransfers(context.Background(), wolkvox.PurposeNew, day, func(wolkvox.Window, []wolkvox.Transfer) error { return nil })
	if r := wolkvox.ReasonOf(err); r != wolkvox.ReasonNetwork || calls != 2 {
		t.Errorf("short Content-Length: reason %q (%v) after %d calls, want network after 2", r, err, calls)
	}
}

// TestEmptyWindowIs404WithTheAPIsJSON: the fake answers a window without
// rows as the API does, 404 with its short JSON, and that is a success
// with no records; a web server's 404 page is a failure, not retried.
func TestEmptyWindowIs404WithTheAPIsJSON(t *testing.T) {
	srv := newFake(t, &wolkvoxtest.Store{Location: bogota})
	c := newClient(t, srv)
	recs, stats, err := transfersOf(t, c, day)
	if err != nil || len(recs) != 0 || stats.Calls != 1 || srv.Requests()[0].Status != 404 {
		t.Fatalf("empty window: %d records, %d calls, %v, fake answered %d", len(recs), stats.Calls, err, srv.Requests()[0].Status)
	}
	srv.FailAll(wolkvoxtest.WrongPath())
	_, stats, err = transfersOf(t, c, day)
	if wolkvox.ReasonOf(err) != wolkvox.ReasonNotFound || stats.Calls != 1 || !strings.Contains(err.Error(), "Not Found") {
		t.Errorf("wrong path: %v after %d calls, want not_found after 1", err, stats.Calls)
	}
}

// poison is an agent_13_1 record the API sends broken: a raw TAB inside a
// string, which JSON forbids. Every response that holds it fails to decode.
func poison(date string) wolkvoxtest.RawTransfer {
	return wolkvoxtest.RawTransfer{ConnIDTransfer: "poison-" + date, Date: date, OriginAgentID: "1", TypeCall: "transfer",
		Override: map[string]string{"ani": "\"57300\t1234567\""}}
}

// TestPoisonRecordIsIsolatedAndSkipped: one broken record in the middle of
// a busy window costs its second, not the window: the window is halved
// down to that second, which is skipped and reported; every other record
// is delivered exactly once, and the pieces still cover the window.
func TestPoisonRecordIsIsolatedAndSkipped(t *testing.T) {
	busy := &wolkvoxtest.Traffic{Seed: 11, Location: bogota, TransfersPerMinute: 20}
	store := &wolkvoxtest.Store{Location: bogota}
	store.AddTransfers(poison("2026-06-01 10:41:17"))
	srv := newFake(t, wolkvoxtest.Merge{busy, store})
	c := newClient(t, srv)
	w := wolkvox.Window{Start: time.Date(2026, 6, 1, 10, 0, 0, 0, bogota), End: time.Date(2026, 6, 1, 11, 59, 59, 0, bogota)}
	poisonSecond := wolkvox.Window{Start: time.Date(2026, 6, 1, 10, 41, 17, 0, bogota), End: time.Date(2026, 6, 1, 10, 41, 17, 0, bogota)}

	var pieces []wolkvox.Window
	got := map[string]int{}
	stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, w, func(p wolkvox.Window, recs []wolkvox.Transfer) error {
		pieces = append(pieces, p)
		for _, r := range recs {
			got[r.ConnID+" "+r.Date.Format(time.DateTime)]++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the fetch failed: %v", err)
	}
	if len(stats.Skipped) != 1 || stats.Skipped[0] != poisonSecond {
		t.Errorf("skipped %v, want exactly the poison's second %v", stats.Skipped, poisonSecond)
	}
	// Every other record once; the poison's second holds nothing else.
	want := map[string]bool{}
	for _, r := range busy.Transfers(w.Start, w.End) {
		if r.Date != "2026-06-01 10:41:17" {
			want[r.ConnIDTransfer+" "+r.Date] = true
		}
	}
	if len(want) < 1000 {
		t.Fatalf("only %d records: not a busy window", len(want))
	}
	for k, n := range got {
		if n != 1 || !want[k] {
			t.Errorf("record %s delivered %d times (expected: %v)", k, n, want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("delivered %d distinct records, want %d", len(got), len(want))
	}
	// The pieces, the skipped one included, cover the window in order.
	for i, p := range pieces {
		if i == 0 && !p.Start.Equal(w.Start) || i > 0 && !p.Start.Equal(pieces[i-1].End.Add(time.Second)) {
			t.Errorf("piece %d %v does not follow %v", i, p, pieces[max(i-1, 0)])
		}
	}
	if last := pieces[len(pieces)-1]; !last.End.Equal(w.End) {
		t.Errorf("the pieces end at %v, not %v", last.End, w.End)
	}
	// Bounded: the first call, then two per halving down to one second.
	if bound := 1 + 2*13; stats.Calls > bound || stats.Calls != len(srv.Requests()) { // 2^13 > 7,200 s
		t.Errorf("%d calls (fake saw %d), want at most %d", stats.Calls, len(srv.Requests()), bound)
	}
	t.Logf("%d calls, %d splits, %d pieces", stats.Calls, stats.Splits, len(pieces))
}

// TestPoisonSkipsAreBounded: past MaxSkips poison seconds in one fetch, the
// fetch fails as decode, having delivered a contiguous prefix; a negative
// MaxSkips never skips; a body broken before its records (a PHP warning)
// is no poison record and is not split.
func TestPoisonSkipsAreBounded(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	store.AddTransfers(poison("2026-06-01 10:10:00"), poison("2026-06-01 10:20:00"),
		wolkvoxtest.RawTransfer{ConnIDTransfer: "ok", Date: "2026-06-01 10:05:00", TypeCall: "transfer"})
	srv := newFake(t, store)
	hour := wolkvox.Window{Start: time.Date(2026, 6, 1, 10, 0, 0, 0, bogota), End: time.Date(2026, 6, 1, 10, 59, 59, 0, bogota)}

	c := newClient(t, srv, func(c *wolkvox.Config) { c.MaxSkips = 1 })
	var delivered []wolkvox.Window
	var records int
	stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, hour, func(p wolkvox.Window, recs []wolkvox.Transfer) error {
		if len(delivered) > 0 && !p.Start.Equal(delivered[len(delivered)-1].End.Add(time.Second)) {
			t.Errorf("piece %v does not follow %v", p, delivered[len(delivered)-1])
		}
		delivered = append(delivered, p)
		records += len(recs)
		return nil
	})
	if wolkvox.ReasonOf(err) != wolkvox.ReasonDecode || len(stats.Skipped) != 1 || records != 1 {
		t.Errorf("MaxSkips 1, two poison records: %v, skipped %v, %d records; want decode after one skip and the good record", err, stats.Skipped, records)
	}
	if last := delivered[len(delivered)-1]; !last.End.Before(time.Date(2026, 6, 1, 10, 20, 0, 0, bogota)) {
		t.Errorf("delivered up to %v, past the second poison record", last.End)
	}

	before := len(srv.Requests())
	c = newClient(t, srv, func(c *wolkvox.Config) { c.MaxSkips = -1 })
	if _, stats, err := transfersOf(t, c, hour); wolkvox.ReasonOf(err) != wolkvox.ReasonDecode || stats.Calls != 1 || len(srv.Requests())-before != 1 {
		t.Errorf("MaxSkips -1: %v after %d calls, want decode after 1", err, stats.Calls)
	}

	srv.FailAll(wolkvoxtest.Fault{PHPWarning: true})
	c = newClient(t, srv)
	if _, stats, err := transfersOf(t, c, hour); wolkvox.ReasonOf(err) != wolkvox.ReasonDecode || stats.Calls != 1 || len(stats.Skipped) != 0 {
		t.Errorf("PHP warning: %v after %d calls, skipped %v; want decode after 1 call", err, stats.Calls, stats.Skipped)
	}
}

// TestPoisonInEveryResponseFailsFast: when every response fails among its
// records (a fault of the API, not of one record), isolating costs a dozen
// calls; after one fetch gave up, later fetches fail at once until one
// succeeds, and then isolate again.
func TestPoisonInEveryResponseFailsFast(t *testing.T) {
	store := &wolkvoxtest.Store{Location: bogota}
	srv := newFake(t, store)
	c := newClient(t, srv)
	poll := wolkvox.Window{Start: time.Date(2026, 6, 1, 10, 0, 0, 0, bogota), End: time.Date(2026, 6, 1, 10, 4, 59, 0, bogota)}
	srv.FailAll(wolkvoxtest.Fault{Status: 200, Body: `{"code":"200","error":null,"data":[{"conn_id_transfer":"1"},"broken"]}`})
	_, first, err := transfersOf(t, c, poll)
	if wolkvox.ReasonOf(err) != wolkvox.ReasonDecode || len(first.Skipped) != wolkvox.DefaultMaxSkips {
		t.Fatalf("first fetch: %v, skipped %d; want decode after %d skips", err, len(first.Skipped), wolkvox.DefaultMaxSkips)
	}
	for range 2 {
		if _, stats, err := transfersOf(t, c, poll); wolkvox.ReasonOf(err) != wolkvox.ReasonDecode || stats.Calls != 1 || len(stats.Skipped) != 0 {
			t.Errorf("after giving up: %v after %d calls, skipped %d; want decode after 1 call", err, stats.Calls, len(stats.Skipped))
		}
	}
	t.Logf("the fetch that gave up made %d calls", first.Calls)
	// The API heals: a success, and a poison record is isolated again.
	srv.Heal()
	if _, _, err := transfersOf(t, c, poll); err != nil {
		t.Fatal(err)
	}
	store.AddTransfers(poison("2026-06-01 10:02:03"))
	if _, stats, err := transfersOf(t, c, poll); err != nil || len(stats.Skipped) != 1 {
		t.Errorf("after a success: %v, skipped %v; want the poison second skipped", err, stats.Skipped)
	}
}
