package wolkvox

import (
	"context"
	"errors"
	"io"
	"time"
)

// FetchStats says what a fetch cost. Every call spends one token of the
// operation's daily quota, whatever it returned.
type FetchStats struct {
	Calls  int // API calls made, retries and splits included
	Splits int // windows halved: a response reached the record cap, or held a poison record
	// Skipped lists the one-second pieces given up because their
	// response held a record that could not be decoded (a poison record,
	// see fetch), in order. Each was delivered with no records. A caller
	// should count and log them: their records are lost.
	Skipped []Window
}

// DefaultMaxSkips is how many poison seconds one fetch skips at most.
const DefaultMaxSkips = 4

// Purpose is why a call is made, for the caller's accounting of its
// token spend (RequestInfo.Purpose).
type Purpose string

const (
	PurposeNew     Purpose = "new"     // a window not read before
	PurposeRevisit Purpose = "revisit" // chat_4's trailing horizon, read again
	PurposeFollow  Purpose = "follow"  // chat_4's windows holding open cases, beyond the horizon
)

// FetchTransfers fetches agent_13_1 over w. See fetch for the contract.
func (c *Client) FetchTransfers(ctx context.Context, purpose Purpose, w Window, deliver func(Window, []Transfer) error) (FetchStats, error) {
	return fetch(ctx, c, ReportTransfers, purpose, w, DecodeTransfers, deliver)
}

// FetchInteractions fetches chat_4 over w. See fetch for the contract.
func (c *Client) FetchInteractions(ctx context.Context, purpose Purpose, w Window, deliver func(Window, []Interaction) error) (FetchStats, error) {
	return fetch(ctx, c, ReportInteractions, purpose, w, DecodeInteractions, deliver)
}

type decodeFunc[T any] func(io.Reader, *time.Location, int, func(T) error) (int, error)

// fetch covers w with as many calls as the API's limits require and hands
// each completed piece to deliver, in chronological order, with all of that
// piece's records. A piece is delivered only when its response was read
// whole and valid (or skipped as poison, below, with no records), so a
// fetch that fails has delivered a contiguous prefix
// of w and nothing of the rest: the caller can resume from the last
// delivered piece's end without counting anything twice.
//
// Windows longer than MaxWindow are cut into consecutive pieces. A response
// with MaxRecords records or more may have been truncated by the API, so its
// records are dropped and its window is halved until every piece is under
// the cap. An error from deliver stops the fetch and is returned as is.
//
// A poison record, one the API sends broken (a raw control character in
// a string, say), fails every response that holds it, and retrying does
// not help. When a response fails to decode among its records, its window
// is halved like a capped one until the one-second piece holding the
// record is found. That piece is skipped: delivered with no records and
// listed in FetchStats.Skipped, so the caller's resume point moves past it
// and every other record is still delivered once. Isolating one poison
// record costs at most 2*ceil(log2(seconds in the window)) calls beyond
// the first. After MaxSkips skipped seconds in one fetch, the next poison
// record fails the fetch with reason decode instead, and later fetches of
// the report fail at the first poison record, without isolating it, until
// one succeeds: a fault in every record is not worth a dozen calls a poll.
//
// A window in which clocks go back is cut at that instant (see
// clocksBackWithin). The API dates records by wall clock, so a piece that
// touches the repeated hour also gets that hour's records of the other time
// round; the caller de-duplicates them.
func fetch[T any](ctx context.Context, c *Client, report Report, purpose Purpose, w Window, decode decodeFunc[T], deliver func(Window, []T) error) (FetchStats, error) {
	var stats FetchStats
	w = Window{Start: w.Start.Truncate(time.Second), End: w.End.Truncate(time.Second)}
	if w.End.Before(w.Start) {
		return stats, nil
	}
	isolate := c.mayIsolate(report)
	for start := w.Start; !start.After(w.End); {
		end := start.Add(c.cfg.MaxWindow - time.Second)
		if end.After(w.End) {
			end = w.End
		}
		if err := fetchPiece(ctx, c, report, purpose, Window{start, end}, decode, deliver, &stats, isolate); err != nil {
			if isPoison(err) {
				c.setIsolate(report, false)
			}
			return stats, err
		}
		start = end.Add(time.Second)
	}
	c.setIsolate(report, true)
	return stats, nil
}

// mayIsolate reports whether a fetch of report may isolate poison records.
// It may not after a fetch of report gave up on one (more than MaxSkips,
// or isolation already off), until a fetch of it succeeds: a fault in
// every response, not in one record, would otherwise cost the isolation's
// calls at every poll.
func (c *Client) mayIsolate(report Report) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.noIsolation[report]
}

func (c *Client) setIsolate(report Report, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		delete(c.noIsolation, report)
	} else {
		c.noIsolation[report] = true
	}
}

func fetchPiece[T any](ctx context.Context, c *Client, report Report, purpose Purpose, w Window, decode decodeFunc[T], deliver func(Window, []T) error, stats *FetchStats, isolate bool) error {
	if change, ok := clocksBackWithin(w, c.cfg.Location); ok {
		if err := fetchPiece(ctx, c, report, purpose, Window{w.Start, change.Add(-time.Second)}, decode, deliver, stats, isolate); err != nil {
			return err
		}
		return fetchPiece(ctx, c, report, purpose, Window{change, w.End}, decode, deliver, stats, isolate)
	}
	records, err := fetchWithRetry(ctx, c, report, purpose, w, decode, stats)
	span := w.End.Sub(w.Start)
	switch {
	case err == nil:
		return deliver(w, records)
	case errors.Is(err, errAtCap):
		if span < time.Second {
			return &Error{Report: report, Reason: ReasonTooManyRows,
				Detail: "a one-second window reached the record cap; it cannot be split further", Err: err}
		}
	case isPoison(err) && isolate && len(stats.Skipped) < c.cfg.MaxSkips:
		if span < time.Second {
			stats.Skipped = append(stats.Skipped, w)
			return deliver(w, nil)
		}
	default:
		return err
	}
	stats.Splits++
	mid := w.Start.Add(span / 2).Truncate(time.Second)
	if err := fetchPiece(ctx, c, report, purpose, Window{w.Start, mid}, decode, deliver, stats, isolate); err != nil {
		return err
	}
	return fetchPiece(ctx, c, report, purpose, Window{mid.Add(time.Second), w.End}, decode, deliver, stats, isolate)
}

// fetchWithRetry makes one logical call, retrying transient failures. It
// returns errAtCap unwrapped when the response reached the record cap.
func fetchWithRetry[T any](ctx context.Context, c *Client, report Report, purpose Purpose, w Window, decode decodeFunc[T], stats *FetchStats) ([]T, error) {
	for attempt := 0; ; attempt++ {
		var records []T
		atCap := false
		stats.Calls++
		err := c.call(ctx, report, purpose, w, func(r io.Reader) error {
			_, err := decode(r, c.cfg.Location, c.cfg.MaxRecords, func(rec T) error {
				records = append(records, rec)
				return nil
			})
			if errors.Is(err, errAtCap) {
				atCap = true
				return nil // stop reading: the records will be fetched again in halves
			}
			return err
		})
		if err == nil && atCap {
			return nil, errAtCap
		}
		if err == nil {
			return records, nil
		}
		var e *Error
		if !errors.As(err, &e) || !e.Reason.retryable() || attempt+1 >= c.cfg.Retry.Attempts {
			return nil, err
		}
		if serr := c.cfg.Retry.Sleep(ctx, c.cfg.Retry.backoff(attempt)); serr != nil {
			// The caller gave up while waiting to retry: report that, not
			// the failure being retried.
			return nil, c.classify(report, 0, serr, ctx)
		}
	}
}
