package wolkvox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Snapshots: what is happening now, from the real-time API
// (real_time.php), and what is left of the day's quota, from the
// information API (information.php). They live in the same directory as
// reports_manager.php, take the same token and spend one token of the same
// quota per call, so they go through the same gate as the reports' calls:
// one call per token at a time, each reported to ObserveRequest with its
// Purpose and a zero Window.
//
// A snapshot is all or nothing: rows are returned only when every
// response it needed was read whole and valid. A failed call is retried as
// Config.Retry says, like a report's.

// Skills returns the real-time skills snapshot. With skillIDs empty it
// makes one call, with skill_id=all; if the API refuses that, the error
// wraps ErrAllSkillsRefused and the caller should ask for the operation's
// skill ids. With skillIDs given it makes one call per id, each costing a
// token of the daily quota, in order, and returns their rows together. A
// row of another skill than the one asked for is dropped (an API that
// ignored the filter would otherwise give every skill once per id); a row
// without a skill_id is taken to be the one asked for.
func (c *Client) Skills(ctx context.Context, purpose Purpose, skillIDs []string) ([]SkillSnapshot, error) {
	if len(skillIDs) == 0 {
		rows, err := c.skills(ctx, purpose, "all")
		return rows, allRefused(err)
	}
	var out []SkillSnapshot
	for _, id := range skillIDs {
		if id == "" || id == "all" {
			return nil, &Error{Report: ReportSkills, Reason: ReasonBadRequest, Detail: fmt.Sprintf("skill id %q is not one skill's id", id)}
		}
		rows, err := c.skills(ctx, purpose, id)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			switch {
			case r.SkillID == "":
				r.SkillID = id
			case sameSkill(r.SkillID, id):
				r.SkillID = id // as configured, so the targets of that id apply
			default:
				continue
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *Client) skills(ctx context.Context, purpose Purpose, id string) ([]SkillSnapshot, error) {
	q := url.Values{"api": {"skills"}, "skill_id": {id}}
	in := newInterner()
	rows, err := snapshot(ctx, c, ReportSkills, purpose, "real_time.php", q, skillField, func(kept []keptValue, key string) SkillSnapshot {
		return buildSkill(kept, key, in)
	})
	if errors.Is(err, errNoRows) {
		// The API's "no rows": this skill (or every skill) has nothing now,
		// as a 404 for agents means none is logged in.
		return []SkillSnapshot{}, nil
	}
	return rows, err
}

// sameSkill reports whether a row's skill id is the one asked for: the
// same, or the same number written another way ("0101" and "101").
func sameSkill(row, asked string) bool {
	if row == asked {
		return true
	}
	trim := func(s string) string {
		t := strings.TrimLeft(s, "0")
		if t == "" && s != "" {
			return "0"
		}
		return t
	}
	return trim(row) == trim(asked) && digitsOnly(row) && digitsOnly(asked)
}

func digitsOnly(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// allRefused turns the API's ways of refusing skill_id=all into an error
// wrapping ErrAllSkillsRefused: a 400 naming a missing parameter or an
// unknown API. A 404 with the API's short JSON is no refusal: it is how the
// API says "no rows" (a quiet moment), as for agents (see skills).
func allRefused(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	detail := strings.ToUpper(e.Detail)
	refused := e.Status == http.StatusBadRequest && (strings.Contains(detail, "SOME PARAMETERS ARE REQUIRED") || strings.Contains(detail, "THE API YOU WANT TO CONSULT DOES NOT EXIST"))
	if !refused {
		return err
	}
	// Both causes stay reachable: the refusal, and the answer that said so.
	return &Error{Report: ReportSkills, Reason: ReasonSkillsAllRefused, Status: e.Status,
		Detail: fmt.Sprintf("%s (%s)", ErrAllSkillsRefused, e.Detail), Err: fmt.Errorf("%w: %w", ErrAllSkillsRefused, err)}
}

// Agents returns the real-time agents snapshot, one row per agent the API
// lists. A 404 with the API's short JSON, which the reports answer for a
// window without rows, is taken the same way here: no agent is logged in,
// and the snapshot is empty (not nil).
func (c *Client) Agents(ctx context.Context, purpose Purpose) ([]AgentSnapshot, error) {
	q := url.Values{"api": {"agents"}}
	in := newInterner()
	rows, err := snapshot(ctx, c, ReportAgents, purpose, "real_time.php", q, agentField, func(kept []keptValue, key string) AgentSnapshot {
		return buildAgent(kept, key, in)
	})
	if errors.Is(err, errNoRows) {
		return []AgentSnapshot{}, nil
	}
	return rows, err
}

// TokenInfo returns information.php?api=token_info. The call spends a
// token itself, which the answer counts. A response with no row, or more
// than one, is a decode error.
func (c *Client) TokenInfo(ctx context.Context, purpose Purpose) (TokenInfo, error) {
	q := url.Values{"api": {"token_info"}}
	rows, err := snapshot(ctx, c, ReportTokenInfo, purpose, "information.php", q, tokenInfoField, func(kept []keptValue, _ string) TokenInfo {
		return buildTokenInfo(kept)
	})
	if err != nil {
		return TokenInfo{}, err
	}
	if len(rows) != 1 {
		return TokenInfo{}, &Error{Report: ReportTokenInfo, Reason: ReasonDecode, Status: http.StatusOK,
			Detail: fmt.Sprintf("token_info answered %d rows, want 1", len(rows))}
	}
	return rows[0], nil
}

// siblingURL returns the URL of file, an API of the platform beside the
// Reports Manager's (in the directory of the client's endpoint), with
// query q.
func (c *Client) siblingURL(file string, q url.Values) string {
	u := *c.endpoint
	u.Path = path.Join(path.Dir(u.Path), file)
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// snapshot makes one logical call to file with query q, retrying
// transient failures as Config.Retry says, and returns the rows of the
// one response that was read whole and valid.
func snapshot[T any](ctx context.Context, c *Client, report Report, purpose Purpose, file string, q url.Values, lookup func([]byte) int, build func([]keptValue, string) T) ([]T, error) {
	rq := request{report: report, purpose: purpose, url: c.siblingURL(file, q), snapshot: true}
	for attempt := 0; ; attempt++ {
		var rows []T
		err := c.do(ctx, rq, func(r io.Reader) error {
			_, err := decodeSnapshot(r, c.cfg.MaxRecords, lookup, func(kept []keptValue, key string) error {
				rows = append(rows, build(kept, key))
				return nil
			})
			return err
		})
		if err == nil {
			if rows == nil {
				rows = []T{}
			}
			return rows, nil
		}
		var e *Error
		if !errors.As(err, &e) || !e.Reason.retryable() || attempt+1 >= c.cfg.Retry.Attempts {
			return nil, err
		}
		if serr := c.cfg.Retry.Sleep(ctx, c.cfg.Retry.backoff(attempt)); serr != nil {
			return nil, c.classify(report, 0, serr, ctx)
		}
	}
}
