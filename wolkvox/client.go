package wolkvox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Documented limits of the Reports Manager API. They are defaults of Config
// so tests can lower them.
const (
	DefaultMaxRecords   = 60000               // records per call
	DefaultMaxWindow    = 31 * 24 * time.Hour // date range per call
	DefaultMaxBodyBytes = 256 << 20           // response size
	DefaultTimeout      = 60 * time.Second    // time per call
	apiPath             = "/api/v2/reports_manager.php"
)

// Config describes one Wolkvox operation and how to call it.
type Config struct {
	// Server is the operation's server code: "0002" means
	// https://wv0002.wolkvox.com. Ignored when BaseURL is set.
	Server string
	// BaseURL overrides Server, e.g. "http://127.0.0.1:8080". The API path
	// is appended unless the URL already ends in ".php".
	BaseURL string
	// Token is sent in the wolkvox-token header and nowhere else.
	Token string
	// Location is the operation's time zone. Dates on the wire carry none.
	Location *time.Location
	// Timeout bounds one call, including reading its body. Default 60 s.
	Timeout time.Duration
	// UserAgent names the caller, e.g. "wolkvox_exporter/1.0.0".
	UserAgent string
	// HTTPClient is used for calls; its Timeout is ignored in favour of
	// Timeout, and its CheckRedirect replaced (on a copy) so that no
	// redirect is followed. Default: a client that verifies TLS.
	HTTPClient *http.Client

	// MaxRecords is the record cap per call. A response with this many
	// records or more may be truncated; its window is split. Default 60,000.
	MaxRecords int
	// MaxWindow is the longest window one call may ask for. Default 31 days.
	MaxWindow time.Duration
	// MaxBodyBytes is the largest body read. Default 256 MB.
	MaxBodyBytes int64

	// MaxSkips is how many one-second pieces holding a poison record one
	// fetch may skip (see FetchStats.Skipped). Default 4; negative: none,
	// a poison record fails the fetch.
	MaxSkips int

	// Retry governs retries of transient failures within one fetch.
	Retry RetryPolicy
	// ObserveRequest, when set, is called after every call to the API,
	// because every call spends one token of the daily quota.
	ObserveRequest func(RequestInfo)

	// Gates are the process's token gates (see Gates): every client of a
	// process with one token must share them. Nil: gates of the client's
	// own, which keep only its own calls apart.
	Gates *Gates
}

// RequestInfo describes one call to the API.
type RequestInfo struct {
	Report   Report
	Purpose  Purpose
	Window   Window // zero for a snapshot (SnapshotReports), which has none
	Status   int    // HTTP status; 0 when no response was received
	Duration time.Duration
	Err      error // nil on success
}

// Window is a range of operation-local time, both ends inclusive, at
// one-second precision, as the API's date_ini and date_end are.
type Window struct {
	Start, End time.Time
}

func (w Window) String() string {
	return w.Start.Format(time.DateTime) + " .. " + w.End.Format("2006-01-02 15:04:05 -0700")
}

// Client calls one operation's Reports Manager API. It is safe for
// concurrent use, and never has two calls in flight: the API forbids
// simultaneous use of a token, so concurrent callers wait their turn.
type Client struct {
	cfg      Config
	endpoint *url.URL
	cred     atomic.Pointer[credential]
	closed   sync.Once

	mu          sync.Mutex
	noIsolation map[Report]bool // reports whose last fetch gave up on a poison record
	retired     []string        // tokens replaced by SetToken, still redacted from errors
}

var serverCode = regexp.MustCompile(`^[0-9A-Za-z-]{1,16}$`)

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("wolkvox: no token")
	}
	if err := CheckToken(cfg.Token); err != nil {
		return nil, fmt.Errorf("wolkvox: %w", err)
	}
	if cfg.Location == nil {
		return nil, errors.New("wolkvox: no time zone")
	}
	var raw string
	switch {
	case cfg.BaseURL != "":
		raw = cfg.BaseURL
	case serverCode.MatchString(cfg.Server):
		raw = "https://wv" + cfg.Server + ".wolkvox.com"
	case cfg.Server == "":
		return nil, errors.New("wolkvox: neither a server code nor a base URL")
	default:
		return nil, fmt.Errorf("wolkvox: server code %q is not like 0002", cfg.Server)
	}
	// Errors name the URL redacted: it may hold a password. A parse
	// error is not wrapped, because it quotes the URL whole.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wolkvox: base URL %q is not an http(s) URL with a host", RedactURL(raw))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// The client writes the query itself; one in the base URL would
		// be dropped without a word.
		return nil, fmt.Errorf("wolkvox: base URL %q has a query or fragment; the client writes the query itself", RedactURL(raw))
	}
	if !strings.HasSuffix(u.Path, ".php") {
		u.Path = strings.TrimSuffix(u.Path, "/") + apiPath
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "wolkvox_exporter"
	}
	// Never follow a redirect: Go's client drops Authorization and cookies
	// on a redirect to another host, but would send the wolkvox-token
	// header along. A copy, so the caller's client is left as it was.
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.MaxWindow <= 0 {
		cfg.MaxWindow = DefaultMaxWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	switch {
	case cfg.MaxSkips == 0:
		cfg.MaxSkips = DefaultMaxSkips
	case cfg.MaxSkips < 0:
		cfg.MaxSkips = 0
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.Gates == nil {
		cfg.Gates = NewGates("", nil)
	}
	gt, err := cfg.Gates.acquire(cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("wolkvox: %w", err)
	}
	c := &Client{cfg: cfg, endpoint: u, noIsolation: map[Report]bool{}}
	c.cred.Store(&credential{token: cfg.Token, gate: gt})
	return c, nil
}

// credential is a token and its gate, swapped together.
type credential struct {
	token string
	gate  *gate
}

// Close lets the client's token go: with the last client of a token, its
// host-wide lock is released. No call may be in flight or made after.
func (c *Client) Close() {
	c.closed.Do(func() { c.cfg.Gates.release(c.cred.Load().gate) })
}

// CheckToken reports whether token can be sent as the wolkvox-token
// header: printable ASCII only. A control character, NUL or DEL cannot be
// in a header value, and the API's tokens are ASCII; such a token would
// fail every call as a network error and spend quota on retries. The error
// says where the first bad byte is, never what the token is.
func CheckToken(token string) error {
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '\r' || c == '\n':
			return fmt.Errorf("token contains a line break (at byte %d)", i)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("token contains control character 0x%02x (at byte %d), which cannot be in an HTTP header", c, i)
		case c >= 0x80:
			return fmt.Errorf("token contains a non-ASCII byte (at byte %d); tokens are ASCII", i)
		}
	}
	return nil
}

// SetToken replaces the token, for a rotation without a restart: calls
// after it use the new token's gate. It does not wait for a call in flight
// on the old token: that token's gate keeps it apart from the token's next
// call, whichever client makes it, and the old token stays counted (its
// host-wide lock held) until that call has ended.
func (c *Client) SetToken(token string) error {
	if token == "" {
		return errors.New("wolkvox: no token")
	}
	if err := CheckToken(token); err != nil {
		return err
	}
	old := c.cred.Load()
	if old.token == token {
		return nil
	}
	gt, err := c.cfg.Gates.acquire(token)
	if err != nil {
		return fmt.Errorf("wolkvox: %w", err)
	}
	c.mu.Lock()
	// A call in flight on the old token may still end in an error that
	// quotes it: redact it too.
	c.retired = append(c.retired, old.token)
	if len(c.retired) > 2 {
		c.retired = c.retired[1:]
	}
	c.mu.Unlock()
	c.cred.Store(&credential{token: token, gate: gt})
	go func() {
		old.gate.waitIdle()
		c.cfg.Gates.release(old.gate)
	}()
	return nil
}

// HangUpSettle is how long a client waits after hanging up on a server
// that was still answering before the token's next call.
const HangUpSettle = hangUpSettle

// Endpoint returns the URL calls go to, without query, and with any
// password in it replaced by xxxxx. It holds no secret.
func (c *Client) Endpoint() string { return c.endpoint.Redacted() }

// urlScheme matches a well-formed scheme and its "://".
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// RedactURL returns raw fit for a log line or an error: a password is
// replaced by xxxxx and a query or fragment by "…", which may carry
// secrets too. It works on URLs that do not parse as well.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// Not a URL the client could use, so its parts are a guess: hide
		// everything up to the last "@" before a query or fragment, which
		// is where a password would be whatever the typo.
		s := raw
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i+1] + "…"
		}
		if at := strings.LastIndex(s, "@"); at >= 0 {
			scheme := urlScheme.FindString(s[:at])
			s = scheme + "xxxxx" + s[at:]
		}
		return s
	}
	query, fragment := u.RawQuery != "" || u.ForceQuery, u.Fragment != ""
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	s := u.Redacted()
	if query {
		s += "?…"
	}
	if fragment {
		s += "#…"
	}
	return s
}

func (c *Client) requestURL(report Report, w Window) string {
	q := url.Values{}
	q.Set("api", string(report))
	q.Set("date_ini", w.Start.In(c.cfg.Location).Format("20060102150405"))
	q.Set("date_end", w.End.In(c.cfg.Location).Format("20060102150405"))
	if report == ReportInteractions {
		// The exporter never needs attachments, and they are large.
		q.Set("include_attachments", "false")
	}
	u := *c.endpoint
	u.RawQuery = q.Encode()
	return u.String()
}

// call makes exactly one request for a windowed report and decodes its
// body with decode, which must read the whole body. It holds the client's
// turn for the duration.
func (c *Client) call(ctx context.Context, report Report, purpose Purpose, w Window, decode func(io.Reader) error) error {
	return c.do(ctx, request{report: report, purpose: purpose, window: w, url: c.requestURL(report, w)}, decode)
}

// request is one call to any of the platform's APIs.
type request struct {
	report  Report
	purpose Purpose
	window  Window // zero for a snapshot
	url     string
	// snapshot: a 404 with the API's short JSON is not an empty window
	// but an error wrapping errNoRows, for the caller to judge; a
	// snapshot has no window that could be empty.
	snapshot bool
}

// errNoRows is the cause of a snapshot's 404 with the API's short JSON.
var errNoRows = errors.New("the API answered 404 with its short JSON (no rows, or no such report)")

// do makes exactly one request and decodes its body with decode. Every call
// of the client goes through it: it holds the token's turn for the
// duration and reports the call to ObserveRequest.
func (c *Client) do(ctx context.Context, rq request, decode func(io.Reader) error) (err error) {
	report, purpose, w := rq.report, rq.purpose, rq.window
	cred := c.cred.Load()
	if err := cred.gate.enter(ctx, c.cfg.Retry.Sleep); err != nil {
		return c.classify(report, 0, err, ctx)
	}
	// hungUp is set when this client stops listening before the server has
	// sent its whole answer. The server may not have noticed yet, and would
	// take the token's next call for a simultaneous one: the gate makes
	// that call wait, whichever client makes it.
	hungUp := false
	defer func() { cred.gate.leave(hungUp) }()

	start := time.Now()
	status := 0
	defer func() {
		if c.cfg.ObserveRequest != nil {
			c.cfg.ObserveRequest(RequestInfo{Report: report, Purpose: purpose, Window: w, Status: status, Duration: time.Since(start), Err: err})
		}
	}()

	callCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, rq.url, nil)
	if err != nil {
		return &Error{Report: report, Reason: ReasonBadRequest, Detail: err.Error(), Err: err}
	}
	req.Header.Set("wolkvox-token", cred.token)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		hungUp = callCtx.Err() != nil
		return c.classify(report, 0, err, callCtx)
	}
	defer resp.Body.Close()
	status = resp.StatusCode

	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		// Observed in production: some reports answer 404, not an empty
		// list, when a window has no rows, with the API's short JSON
		// ("Validate dates entered"). That, or no body at all, means zero
		// records. Anything else (an HTML page, another JSON) is not the
		// API speaking: a wrong URL path or a proxy.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxNotFoundBody+1))
		hungUp = !drain(resp.Body, 64<<10)
		if emptyWindow404(body) {
			if rq.snapshot {
				return &Error{Report: report, Reason: ReasonNotFound, Status: status, Detail: errNoRows.Error(), Err: errNoRows}
			}
			return nil
		}
		return &Error{Report: report, Reason: ReasonNotFound, Status: status, Detail: c.excerpt(body)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Not followed (see New): the token would go along.
		hungUp = !drain(resp.Body, 64<<10)
		return &Error{Report: report, Reason: ReasonRedirect, Status: status, Detail: c.redirectDetail(resp)}
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		hungUp = !drain(resp.Body, 64<<10)
		return c.statusError(report, resp.StatusCode, body)
	}

	limited := &limitReader{r: resp.Body, left: c.cfg.MaxBodyBytes}
	err = decode(limited)
	// Read what is left before closing, so the server has finished this
	// request before the next one starts: the API counts a request it is
	// still sending as in use, and forbids two at once. Past maxDrain it
	// is cheaper to hang up and let a concurrency 403 be retried.
	hungUp = !drain(resp.Body, maxDrain)
	if err != nil {
		return c.classify(report, status, err, callCtx)
	}
	return nil
}

// redirectDetail names where a redirect pointed: the host only, never the
// path or query, which may carry anything.
func (c *Client) redirectDetail(resp *http.Response) string {
	loc, err := resp.Location()
	switch {
	case errors.Is(err, http.ErrNoLocation):
		return "redirect without a Location, not followed"
	case err != nil || loc.Host == "":
		return "redirect to an unreadable Location, not followed"
	}
	return "redirect to host " + c.excerpt([]byte(loc.Host)) + ", not followed"
}

// maxNotFoundBody bounds the 404 body read: the API's is under 100 bytes.
const maxNotFoundBody = 4 << 10

// emptyWindow404 reports whether body is the API's answer to a window
// without rows: nothing, or its JSON envelope (a code, and no member but
// code, error, msg and data) with no records.
func emptyWindow404(body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return true
	}
	if len(body) > maxNotFoundBody {
		return false
	}
	var envelope map[string]json.RawMessage
	if json.Unmarshal(body, &envelope) != nil {
		return false
	}
	if _, ok := envelope["code"]; !ok {
		return false
	}
	for name, value := range envelope {
		switch name {
		case "code", "error", "msg":
		case "data":
			if v := string(bytes.Join(bytes.Fields(value), nil)); v != "null" && v != "[]" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// maxDrain bounds how much of an abandoned body is read and discarded.
const maxDrain = 16 << 20

// hangUpSettle is how long the turn is kept after hanging up on a server
// that was still answering (a timeout, or a body too large to drain). It
// lets the server see the hang-up before the next call: without it, the
// next report's call could meet a concurrency 403 and spend a token.
// Retries wait their backoff on top of it. It is waited through
// Config.Retry.Sleep, so tests that replace Sleep do not wait on the clock.
const hangUpSettle = time.Second

// drain reads and discards at most limit bytes of body, and reports
// whether it reached the end: whether the server finished answering.
func drain(body io.Reader, limit int64) bool {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, limit))
	var one [1]byte
	n, err := body.Read(one[:])
	return n == 0 && errors.Is(err, io.EOF)
}

// statusError maps an unsuccessful HTTP status and its body to an Error.
// The 401 and 403 texts come from the vendor's response-code page.
//
// An answer to a bad token is where a server is most likely to echo it, so
// for 401 and 403 the error quotes only the vendor's phrase it recognised,
// never the body.
func (c *Client) statusError(report Report, status int, body []byte) *Error {
	e := &Error{Report: report, Status: status}
	text := strings.ToUpper(string(body))
	phrase := func(p string) string {
		if strings.Contains(text, p) {
			return p
		}
		return ""
	}
	switch {
	case status == http.StatusUnauthorized:
		e.Reason, e.Detail = ReasonAuth, phrase("PLEASE ENTER THE WOLKVOX-TOKEN")
	case status == http.StatusForbidden:
		switch {
		case strings.Contains(text, "TOKEN LIMIT EXCEEDED"):
			e.Reason, e.Detail = ReasonQuota, "TOKEN LIMIT EXCEEDED"
		case strings.Contains(text, "SIMULTANEOUS"):
			e.Reason, e.Detail = ReasonConcurrency, "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS"
		case strings.Contains(text, "VALIDATE TOKEN"):
			e.Reason, e.Detail = ReasonAuth, "PLEASE VALIDATE TOKEN"
		default:
			e.Reason = ReasonForbidden // e.g. during the platform's backups
		}
	case status >= 500:
		e.Reason, e.Detail = ReasonHTTP5xx, c.excerpt(body)
	default:
		e.Reason, e.Detail = ReasonBadRequest, c.excerpt(body)
	}
	return e
}

// classify maps a transport or decoding error to an Error.
func (c *Client) classify(report Report, status int, err error, ctx context.Context) *Error {
	e := &Error{Report: report, Status: status, Err: err}
	var de *decodeError
	var ae *apiError
	var ne net.Error
	switch {
	case errors.As(err, &de):
		e.Reason = ReasonDecode
	case errors.As(err, &ae):
		e.Reason = ReasonAPIError
	case errors.Is(err, errTooLarge):
		e.Reason = ReasonTooLarge
		e.Detail = fmt.Sprintf("body exceeds %d bytes", c.cfg.MaxBodyBytes)
	case errors.Is(err, errAtCap):
		e.Reason = ReasonTooManyRows
	case errors.Is(err, context.Canceled) && ctx.Err() == context.Canceled:
		e.Reason = ReasonCanceled
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded,
		errors.As(err, &ne) && ne.Timeout():
		e.Reason = ReasonTimeout
	default:
		e.Reason = ReasonNetwork
	}
	if e.Detail == "" {
		// The request URL adds nothing the report and window do not say,
		// and would push the cause out of the excerpt.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		e.Detail = c.excerpt([]byte(cause.Error()))
	}
	return e
}

// excerpt is a short, printable prefix of text that may echo the token,
// such as an error body from a server that quotes the rejected token. The
// token is redacted from the whole text first, so a cut cannot leave part
// of it behind.
func (c *Client) excerpt(text []byte) string {
	redacted := redactToken(toValidUTF8(text), c.cred.Load().token)
	c.mu.Lock()
	for _, t := range c.retired {
		redacted = redactToken(redacted, t)
	}
	c.mu.Unlock()
	return excerpt([]byte(redacted))
}

var errTooLarge = errors.New("response body exceeds the size limit")

// limitReader fails, rather than ending quietly, when the body exceeds the
// limit: a quiet end would look like a well-formed but cut response.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return l.r.Read(p)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
