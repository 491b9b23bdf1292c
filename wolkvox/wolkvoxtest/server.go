package wolkvoxtest

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Dataset is what a Server serves. Both Traffic and Store implement it.
type Dataset interface {
	// Transfers returns the agent_13_1 records dated within [from, to].
	Transfers(from, to time.Time) []RawTransfer
	// Interactions returns the chat_4 records the API returns for
	// [from, to] at server time now, as they stand at now.
	Interactions(now, from, to time.Time) []RawInteraction
}

// The texts of the vendor's 403 answers.
const (
	TextQuota       = "TOKEN LIMIT EXCEEDED"
	TextConcurrency = "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)"
	TextBadToken    = "PLEASE VALIDATE TOKEN"
	TextNoToken     = "PLEASE ENTER THE WOLKVOX-TOKEN"
	// TextMaintenance stands for the unknown body of the 403 the API
	// answers during the platform's backups.
	TextMaintenance = "Forbidden"
	// TextNoRows is the misleading message of the API's 404 for a window
	// without rows, as observed in production.
	TextNoRows = "Validate dates entered"
)

// BodyNoRows is the body of the API's 404 for a window without rows. The
// observed body is "the API's short JSON" with TextNoRows; its exact
// members were not recorded, so the fake sends the documented envelope
// with the code as a string, empty msg and an empty list.
var BodyNoRows = envelopeError("404", TextNoRows)

// PageNotFound is a web server's 404 page, as a wrong URL path or a proxy
// answers: not the API speaking.
const PageNotFound = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head><title>404 Not Found</title></head><body>
<h1>Not Found</h1><p>The requested URL was not found on this server.</p>
</body></html>`

// WrongPath returns a fault answering 404 with PageNotFound.
func WrongPath() Fault { return Fault{Status: http.StatusNotFound, Body: PageNotFound} }

// Fault changes how the server answers one request.
type Fault struct {
	// Reports limits the fault to these reports, the snapshots'
	// (wolkvox.SnapshotReports) included; empty means all.
	Reports []wolkvox.Report
	// Status, when set, answers with this status and Body instead of data.
	Status int
	Body   string
	// Location, when set, is sent as the Location header: with a 3xx
	// Status, a redirect. See Redirect.
	Location string
	// Latency delays the answer; a client with a shorter timeout gives up.
	Latency time.Duration
	// Hangup closes the connection without answering.
	Hangup bool
	// PHPWarning prefixes the normal JSON with a PHP warning.
	PHPWarning bool
	// CutAfter, when > 0, aborts the normal response after that many bytes.
	CutAfter int
	// GzipBomb, when > 0, answers 200 with Content-Encoding: gzip and a
	// body that inflates to a complete response of one record whose
	// personal field (ani, body) holds GzipBomb bytes: a few KB on the
	// wire per MB inflated. Go's client inflates it on its own. Reports
	// only: a snapshot ignores it.
	GzipBomb int64
	// Code replaces the envelope's code, e.g. "0", 200 or "500".
	Code any
	// Error, when set, is the envelope's error text.
	Error string
}

// Forbidden returns a fault answering 403 with one of the Text* bodies.
func Forbidden(text string) Fault {
	return Fault{Status: http.StatusForbidden, Body: fmt.Sprintf(`{"code":"403","error":%q,"msg":"","data":[]}`, text)}
}

// Redirect returns a fault answering 302 Found to location, as a
// misconfigured proxy or a moved server might.
func Redirect(location string) Fault {
	return Fault{Status: http.StatusFound, Location: location, Body: `<a href="` + location + `">Found</a>.`}
}

// Request is one request the server received. It never holds the token.
type Request struct {
	Report     wolkvox.Report // the api parameter
	Path       string         // the API's file: reports_manager.php, real_time.php or information.php
	Start, End time.Time
	Query      string
	UserAgent  string
	Status     int
	Records    int  // records in a complete response, 0 otherwise
	Overlap    bool // another request with the same token was in flight
	Time       time.Time
}

// Config configures a Server.
type Config struct {
	Token    string         // required token; default "test-token-" and random hex, one per server
	Location *time.Location // zone of dates on the wire; default UTC
	Data     Dataset        // what to serve; default an empty Store
	// StringCodeFor lists the reports whose envelope code is "200" (a
	// string); the others get 200 (a number), as the vendor's examples show.
	// Default: agent_13_1 only.
	StringCodeFor []wolkvox.Report
	// EmptyAsEmptyList answers an empty window with 200 and [] instead of
	// the 404 seen in production (with BodyNoRows).
	EmptyAsEmptyList bool
	// DailyQuota, when > 0, answers TOKEN LIMIT EXCEEDED after that many calls.
	DailyQuota int
	// Now is the server's clock: cases stand as they are at Now, and no
	// record dated after it is served. Default time.Now; tests inject a
	// fake clock to run simulated days in seconds.
	Now func() time.Time
	// ForgetServed stops the server from remembering what it served and
	// the requests it got, so that memory stays flat in long-running demo
	// mode. DailyQuota then has no effect.
	ForgetServed bool
	// HangUpNotice is how long the fake takes to notice that a client
	// hung up: a PHP server notices only when it next writes, and until
	// then counts the request as in flight, so a call with the same token
	// that comes sooner overlaps it. Zero: at once.
	HangUpNotice time.Duration
	// Realtime is what real_time.php?api=skills|agents serves; nil: no
	// skill and no agent.
	Realtime Snapshots
	// RealtimeFormat is how real_time.php and information.php write their
	// answers.
	RealtimeFormat Format
	// RefuseAllSkills answers skill_id=all with 400 SOME PARAMETERS ARE
	// REQUIRED, as an API that does not accept it would.
	RefuseAllSkills bool
	// TB, when set, fails the test on any overlap of two requests. A
	// *testing.T fits; the package does not import testing so that the
	// exporter's demo mode can use it.
	TB interface {
		Errorf(format string, args ...any)
	}
}

// Server is a fake Reports Manager API.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	inFlight map[string]int // by token: the API forbids two at once with one
	faults   []Fault        // one is used up per request
	always   *Fault
	requests []Request
	overlaps int
	// alsoAccept are tokens accepted besides cfg.Token, during a rotation.
	alsoAccept []string
	served     servedLog
	usage      usage
}

// NewServer starts a fake API on a free 127.0.0.1 port. Close it when done.
func NewServer(cfg Config) *Server {
	s := NewUnstartedServer(cfg)
	s.Start()
	return s
}

// NewUnstartedServer returns a Server that is not yet listening, so a
// caller can set its listener or TLS first.
func NewUnstartedServer(cfg Config) *Server {
	if cfg.Token == "" {
		// A token of its own, as every real operation has: two fakes, or
		// two test processes, never share one, so the exporter's host-wide
		// token locks keep tests running side by side apart.
		cfg.Token = "test-token-" + strconv.FormatUint(rand.Uint64(), 16)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Data == nil {
		cfg.Data = &Store{Location: cfg.Location}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StringCodeFor == nil {
		cfg.StringCodeFor = []wolkvox.Report{wolkvox.ReportTransfers}
	}
	if err := sameZone(cfg.Data, cfg.Location); err != nil {
		panic("wolkvoxtest: " + err.Error()) // a misused test helper, as httptest panics
	}
	if z, ok := cfg.Realtime.(zoned); ok && z.loc().String() != cfg.Location.String() {
		// Its counters would reset at another midnight than the server's day.
		panic(fmt.Sprintf("wolkvoxtest: the real-time data is in %s but the server in %s; set both Locations to the operation's zone", z.loc(), cfg.Location))
	}
	s := &Server{cfg: cfg, served: newServedLog(), usage: usage{spent: map[string]int{}}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	return s
}

// Token returns the token the server accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Token
}

// SetToken makes the server accept token, and also the others given,
// and no longer any other: a rotation issues the new token while the old
// one still works, then revokes the old one.
func (s *Server) SetToken(token string, alsoAccept ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Token, s.alsoAccept = token, alsoAccept
}

// FailNext makes the next n requests (of f.Reports, if set) fail with f.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// FailAll makes every request fail with f until Heal.
func (s *Server) FailAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = &f
}

// Heal removes every fault.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always, s.faults = nil, nil
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// InFlight returns how many requests are being answered now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.inFlight {
		n += v
	}
	return n
}

// Overlaps returns how many requests arrived while another with the same
// token was in flight. The real API forbids it.
func (s *Server) Overlaps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlaps
}

func (s *Server) takeFault(report wolkvox.Report) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.always != nil && appliesTo(s.always, report) {
		f := *s.always
		return &f
	}
	for i, f := range s.faults {
		if appliesTo(&f, report) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return &f
		}
	}
	return nil
}

func appliesTo(f *Fault, report wolkvox.Report) bool {
	return len(f.Reports) == 0 || slices.Contains(f.Reports, report)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := Request{Report: wolkvox.Report(q.Get("api")), Path: path.Base(r.URL.Path), Query: r.URL.RawQuery, UserAgent: r.UserAgent(), Time: time.Now()}

	token := r.Header.Get("wolkvox-token")
	s.mu.Lock()
	if s.inFlight == nil {
		s.inFlight = map[string]int{}
	}
	s.inFlight[token]++
	if s.inFlight[token] > 1 {
		s.overlaps++
		req.Overlap = true
		if s.cfg.TB != nil {
			s.cfg.TB.Errorf("wolkvoxtest: two requests with one token overlap (%s)", req.Report)
		}
	}
	quotaSpent := s.cfg.DailyQuota > 0 && len(s.requests) >= s.cfg.DailyQuota
	if token == s.cfg.Token || slices.Contains(s.alsoAccept, token) {
		s.usage.spend(token, s.cfg.Now().In(s.cfg.Location))
	}
	index := -1
	if !s.cfg.ForgetServed {
		index = len(s.requests)
		s.requests = append(s.requests, req)
	}
	s.mu.Unlock()
	// A request ends when the handler returns or when its client hangs
	// up, whichever is first: a client that abandons a response (at the
	// record cap, or on a decode error) is not still using its token.
	var ended sync.Once
	finish := func() {
		ended.Do(func() {
			s.mu.Lock()
			s.inFlight[token]--
			s.mu.Unlock()
		})
	}
	hungUp := func() {
		if s.cfg.HangUpNotice > 0 {
			time.AfterFunc(s.cfg.HangUpNotice, finish)
			return
		}
		finish()
	}
	stop := context.AfterFunc(r.Context(), hungUp)
	defer func() {
		if stop() && r.Context().Err() == nil {
			finish()
		} else {
			hungUp()
		}
		if index >= 0 {
			s.mu.Lock()
			s.requests[index] = req
			s.mu.Unlock()
		}
	}()

	answer := func(status int, body string) {
		req.Status = status
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	s.mu.Lock()
	valid := token == s.cfg.Token || slices.Contains(s.alsoAccept, token)
	s.mu.Unlock()
	switch {
	case token == "":
		answer(http.StatusUnauthorized, envelopeError("401", TextNoToken))
		return
	case !valid:
		answer(http.StatusForbidden, envelopeError("403", TextBadToken))
		return
	case req.Overlap:
		answer(http.StatusForbidden, envelopeError("403", TextConcurrency))
		return
	case quotaSpent:
		answer(http.StatusForbidden, envelopeError("403", TextQuota))
		return
	}
	if req.Path == "real_time.php" || req.Path == "information.php" {
		s.serveSnapshot(w, r, &req, answer)
		return
	}
	if req.Report != wolkvox.ReportTransfers && req.Report != wolkvox.ReportInteractions {
		answer(http.StatusBadRequest, envelopeError("400", "THE API YOU WANT TO CONSULT DOES NOT EXIST"))
		return
	}
	start, err1 := time.ParseInLocation("20060102150405", q.Get("date_ini"), s.cfg.Location)
	end, err2 := time.ParseInLocation("20060102150405", q.Get("date_end"), s.cfg.Location)
	if err1 != nil || err2 != nil {
		answer(http.StatusBadRequest, envelopeError("400", "SOME PARAMETERS ARE REQUIRED"))
		return
	}
	req.Start, req.End = start, end

	f := s.takeFault(req.Report)
	if s.faulted(w, r, &req, f) {
		return
	}
	if f != nil && f.GzipBomb > 0 {
		req.Status = http.StatusOK
		serveGzipBomb(w, req.Report, f.GzipBomb)
		return
	}
	s.serveData(w, &req, f)
}

// faulted answers the request as fault f says, when f replaces the answer
// (a latency, a hang-up, a status), and reports whether it did.
func (s *Server) faulted(w http.ResponseWriter, r *http.Request, req *Request, f *Fault) bool {
	if f != nil && f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			req.Status = 499
			return true
		}
	}
	switch {
	case f != nil && f.Hangup:
		req.Status = -1
		panic(http.ErrAbortHandler)
	case f != nil && f.Status != 0:
		req.Status = f.Status
		if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		if f.Location != "" {
			w.Header().Set("Location", f.Location)
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	return false
}

// serveGzipBomb writes a gzip stream that inflates to a response of one
// record with a string field of size bytes, compressing as it goes.
func serveGzipBomb(w http.ResponseWriter, report wolkvox.Report, size int64) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(http.StatusOK)
	field := "ani"
	if report == wolkvox.ReportInteractions {
		field = "body"
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	_, _ = fmt.Fprintf(zw, `{"code":"200","error":null,"msg":"1 records were found","data":[{"date":"2026-06-01 10:00:00","date_creation":"2026-06-01 10:00:00","%s":"`, field)
	block := []byte(strings.Repeat("x", 64<<10))
	for left := size; left > 0; left -= int64(len(block)) {
		if _, err := zw.Write(block[:min(left, int64(len(block)))]); err != nil {
			return // the client hung up
		}
	}
	_, _ = zw.Write([]byte(`"}]}`))
	_ = zw.Close()
}

// delivers reports whether a response with this fault still hands a
// correct client all of its records.
func (f *Fault) delivers() bool {
	if f == nil {
		return true
	}
	successCode := f.Code == nil || f.Code == "200" || f.Code == 200 || f.Code == "0" || f.Code == 0
	return f.Error == "" && !f.PHPWarning && successCode
}

func envelopeError(code, text string) string {
	return fmt.Sprintf(`{"code":%q,"error":%q,"msg":"","data":[]}`, code, text)
}

// serveData streams the records of the request's window, one at a time,
// the way the real API's chunked responses arrive.
func (s *Server) serveData(w http.ResponseWriter, req *Request, f *Fault) {
	var count int
	var transfers []RawTransfer
	var interactions []RawInteraction
	// Nothing dated after the server's now exists yet.
	now := s.cfg.Now()
	if req.Report == wolkvox.ReportTransfers {
		transfers = s.cfg.Data.Transfers(req.Start, earliest(req.End, now))
		count = len(transfers)
	} else {
		interactions = s.cfg.Data.Interactions(now, req.Start, req.End)
		count = len(interactions)
	}
	if count == 0 && !s.cfg.EmptyAsEmptyList && (f == nil || f.Code == nil) {
		req.Status = http.StatusNotFound
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(BodyNoRows))
		return
	}
	var code any = 200
	if slices.Contains(s.cfg.StringCodeFor, req.Report) {
		code = "200"
	}
	if f != nil && f.Code != nil {
		code = f.Code
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	req.Status = http.StatusOK
	out := w.(http.Flusher)
	cw := &cutWriter{w: w, left: -1}
	if f != nil && f.CutAfter > 0 {
		cw.left = f.CutAfter
	}
	bw := bufio.NewWriterSize(cw, 32<<10)
	if f != nil && f.PHPWarning {
		_, _ = bw.WriteString("<br />\n<b>Warning</b>:  Undefined index: skill in <b>/var/www/api/v2/reports_manager.php</b> on line <b>212</b><br />\n")
	}
	// An error set by the fault follows the records, and then is the
	// only error member.
	buf := envelopeHeadError(nil, code, count, f == nil || f.Error == "")
	for i := range count {
		if i > 0 {
			buf = append(buf, ',')
		}
		if transfers != nil {
			buf = transfers[i].appendJSON(buf)
		} else {
			buf = interactions[i].appendJSON(buf)
		}
		_, _ = bw.Write(buf)
		buf = buf[:0]
	}
	buf = append(buf, ']')
	if f != nil && f.Error != "" {
		// After data, as a PHP script that fails late would write it.
		buf = append(buf, `,"error":`...)
		buf = appendString(buf, f.Error)
	}
	buf = append(buf, '}')
	_, _ = bw.Write(buf)
	_ = bw.Flush()
	out.Flush()
	if cw.cut {
		req.Status = -1
		panic(http.ErrAbortHandler)
	}
	if f.delivers() {
		req.Records = count
		if !s.cfg.ForgetServed {
			s.mu.Lock()
			for i := range transfers {
				s.served.addTransfer(&transfers[i])
			}
			for i := range interactions {
				s.served.addInteraction(&interactions[i])
			}
			s.mu.Unlock()
		}
	}
}

// cutWriter stops passing bytes on after left bytes, to simulate a body
// cut off mid-stream.
type cutWriter struct {
	w    http.ResponseWriter
	left int
	cut  bool
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left < 0 {
		return c.w.Write(p)
	}
	if len(p) > c.left {
		p = p[:c.left]
		c.cut = true
	}
	n, err := c.w.Write(p)
	c.left -= n
	if c.cut {
		return n, fmt.Errorf("cut")
	}
	return n, err
}

// zoned is a dataset whose records' dates are read in a zone.
type zoned interface{ loc() *time.Location }

// sameZone checks that data dates its records in the zone the server reads
// requests in. One operation has one zone; with two, the server would
// select by the wrong wall clock and tests would fail far from the cause.
func sameZone(data Dataset, loc *time.Location) error {
	if m, ok := data.(Merge); ok {
		for _, d := range m {
			if err := sameZone(d, loc); err != nil {
				return err
			}
		}
		return nil
	}
	if z, ok := data.(zoned); ok && z.loc().String() != loc.String() {
		return fmt.Errorf("the dataset dates its records in %s but the server reads requests in %s; set both Locations to the operation's zone", z.loc(), loc)
	}
	return nil
}
