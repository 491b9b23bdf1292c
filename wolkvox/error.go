package wolkvox

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reason classifies a failed call. The set is closed and small, so it can be
// used as a metric label.
type Reason string

// Reasons a call can fail for.
const (
	ReasonTimeout     Reason = "timeout"       // the call, or its context, ran out of time
	ReasonCanceled    Reason = "canceled"      // the caller's context was canceled
	ReasonNetwork     Reason = "network"       // connection refused, reset, DNS, TLS, body cut off mid-stream
	ReasonHTTP5xx     Reason = "http_5xx"      // the server failed
	ReasonAuth        Reason = "auth"          // 401, or 403 PLEASE VALIDATE TOKEN
	ReasonQuota       Reason = "quota"         // 403 TOKEN LIMIT EXCEEDED: daily quota spent
	ReasonConcurrency Reason = "concurrency"   // 403 EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS
	ReasonForbidden   Reason = "forbidden"     // any other 403, e.g. during the platform's backups
	ReasonBadRequest  Reason = "bad_request"   // 400, or another unexpected 4xx
	ReasonDecode      Reason = "decode"        // not the JSON the API documents
	ReasonAPIError    Reason = "api_error"     // well-formed JSON that reports an error
	ReasonTooLarge    Reason = "too_large"     // the body exceeds the documented 256 MB
	ReasonTooManyRows Reason = "too_many_rows" // at the record cap even for a one-second window
	ReasonRedirect    Reason = "redirect"      // a 3xx: never followed, the token would go along
	ReasonNotFound    Reason = "not_found"     // a 404 that is not the API's empty-window answer: a wrong URL path or a proxy

	// ReasonSkillsAllRefused: the real-time API refused skill_id=all
	// (see ErrAllSkillsRefused). Only Client.Skills fails with it.
	ReasonSkillsAllRefused Reason = "skills_all_refused"
)

// Reasons lists every Reason a report's fetch can fail with, so callers can
// pre-declare label values. A snapshot call can also fail with
// SnapshotReasons.
var Reasons = []Reason{
	ReasonTimeout, ReasonCanceled, ReasonNetwork, ReasonHTTP5xx, ReasonAuth,
	ReasonQuota, ReasonConcurrency, ReasonForbidden, ReasonBadRequest,
	ReasonDecode, ReasonAPIError, ReasonTooLarge, ReasonTooManyRows,
	ReasonRedirect, ReasonNotFound,
}

// SnapshotReasons lists the Reasons only a snapshot call (Client.Skills,
// Agents, TokenInfo) fails with, beyond Reasons.
var SnapshotReasons = []Reason{ReasonSkillsAllRefused}

// retryable reports whether a failure of this kind may succeed if the same
// call is made again shortly. Auth, quota and bad requests never do, and
// retrying them only spends quota.
func (r Reason) retryable() bool {
	switch r {
	case ReasonTimeout, ReasonNetwork, ReasonHTTP5xx, ReasonConcurrency:
		return true
	}
	return false
}

// Error is the only error type a Client returns for a failed call.
// Its message carries the report, the HTTP status and a short excerpt of the
// body; it never carries the token.
type Error struct {
	Report Report
	Reason Reason
	Status int    // HTTP status, 0 when no response was received
	Detail string // short, sanitized excerpt of the body or the cause
	Err    error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wolkvox %s: %s", e.Report, e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of err, or "" when err is not an *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// maxExcerpt bounds how much of a body an error message quotes.
const maxExcerpt = 120

// excerpt returns a printable, single-line prefix of b. The result is safe
// to log: control characters are replaced, invisible and bidirectional
// formatting characters removed, and the length is bounded.
func excerpt(b []byte) string {
	s := toValidUTF8(b)
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f:
			return ' '
		case invisible(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
