package wolkvox

import (
	"io"
)

// The platform's other APIs answer in more shapes than the two reports
// (FACTS.md, "Other APIs of the same platform"): data may be a list, an
// object holding one row (info_server), or an object keyed by ids, and a
// response may be a bare list with no envelope (the campaigns example).
// decodeSnapshot accepts all of them; the reports' decoder stays strict.
// Like it, it streams: unknown and personal members (agent_dni) are
// validated by the scanner and passed over, never copied.

// snapshotRow receives the kept values of one row and, when data was an
// object keyed by ids, the row's key ("" otherwise). kept is valid only
// during the call.
type snapshotRow func(kept []keptValue, key string) error

// decodeSnapshot reads one response from r and calls row for each row.
// Rows handed to row before a non-nil error belong to a failed response
// and must be discarded. maxRows > 0 fails the response with errAtCap at
// that many rows: a snapshot has no window to split.
func decodeSnapshot(r io.Reader, maxRows int, lookup func([]byte) int, row snapshotRow) (int, error) {
	s := newScanner(r)
	var top byte
	if err := s.parse(func(b []byte, i int) (int, error) {
		if i = skipWS(b, i); i >= len(b) {
			return i, errShort
		}
		top = b[i]
		return i, nil
	}); err != nil {
		return 0, err
	}
	switch top {
	case '[':
		// A bare list, as the campaigns example: no code to check.
		n, shapeErr, err := decodeData(s, maxRows, lookup, func(kept []keptValue) error { return row(kept, "") }, nil)
		if err != nil {
			return n, err
		}
		if err := s.trailing(); err != nil {
			return n, err
		}
		return n, shapeErr
	case '{':
	default:
		if err := s.parse(func(b []byte, i int) (int, error) { return scanValue(b, i, 1) }); err != nil {
			return 0, err
		}
		if err := s.trailing(); err != nil {
			return 0, err
		}
		return 0, decodeErrorf("response is neither a JSON object nor a list")
	}
	return decodeSnapshotEnvelope(s, maxRows, lookup, row)
}

// decodeSnapshotEnvelope walks the envelope {"code", "error", "msg",
// "data"} in any key order, as decodeScanned does for the reports.
func decodeSnapshotEnvelope(s *scanner, maxRows int, lookup func([]byte) int, row snapshotRow) (int, error) {
	var (
		code, errText              string
		hasCode, hasData, hasError bool
		shapeErr                   error
		n                          int
	)
	if err := s.parse(func(b []byte, i int) (int, error) { return i + 1, nil }); err != nil { // the '{'
		return 0, err
	}
	for first := true; ; first = false {
		var name []byte
		done := false
		if err := s.parse(func(b []byte, i int) (int, error) {
			i, raw, end, err := nextName(b, i, first)
			if done = end; err != nil || done {
				return i, err
			}
			name = []byte(unquote(raw))
			return i, nil
		}); err != nil {
			return n, err
		}
		if done {
			break
		}
		if string(name) == "data" && !hasData {
			hasData = true
			rows, dataErr, err := decodeSnapshotData(s, maxRows, lookup, row)
			n = rows
			if err != nil {
				return n, err
			}
			if shapeErr == nil {
				shapeErr = dataErr
			}
			continue
		}
		var value []byte
		if err := s.parse(func(b []byte, i int) (int, error) {
			end, err := scanValue(b, i, 1)
			if err == nil {
				value = b[i:end]
			}
			return end, err
		}); err != nil {
			return n, err
		}
		seen := func(has *bool) {
			if *has && shapeErr == nil {
				shapeErr = decodeErrorf("envelope has more than one %s member", name)
			}
			*has = true
		}
		switch string(name) {
		case "code":
			seen(&hasCode)
			code = scalarText(value)
		case "error":
			seen(&hasError)
			if text := envelopeError(value); text != "" {
				errText = text
			}
		case "data":
			seen(&hasData)
		}
	}
	if err := s.trailing(); err != nil {
		return n, err
	}
	if shapeErr != nil {
		return n, shapeErr
	}
	return n, envelopeVerdict(code, errText, hasCode, hasData)
}

// decodeSnapshotData reads data: null, a list of rows, or an object. An
// object whose first member's value is an object is keyed by ids, one row
// per member; any other object is a single row.
func decodeSnapshotData(s *scanner, maxRows int, lookup func([]byte) int, row snapshotRow) (n int, shapeErr, err error) {
	keyed, object := false, false
	if err := s.parse(func(b []byte, i int) (int, error) {
		if i >= len(b) {
			return i, errShort
		}
		if object = b[i] == '{'; !object {
			return i, nil
		}
		j := skipWS(b, i+1)
		if j >= len(b) {
			return i, errShort
		}
		if b[j] != '"' {
			return i, nil // {} or broken: read below
		}
		j, _, err := scanString(b, j)
		if err != nil {
			return i, err
		}
		if j, _, err = expect(b, j, ":"); err != nil {
			return i, err
		}
		if j = skipWS(b, j); j >= len(b) {
			return i, errShort
		}
		keyed = b[j] == '{'
		return i, nil
	}); err != nil {
		return 0, nil, err
	}
	switch {
	case !object:
		return decodeData(s, maxRows, lookup, func(kept []keptValue) error { return row(kept, "") }, nil)
	case !keyed:
		var kept []keptValue
		if err := s.parse(func(b []byte, i int) (int, error) {
			var err error
			i, kept, err = scanRecord(b, i, lookup, kept)
			return i, err
		}); err != nil {
			return 0, nil, err
		}
		if len(kept) == 0 {
			return 0, nil, nil // {}: no row
		}
		return 1, nil, row(kept, "")
	}
	if err := s.parse(func(b []byte, i int) (int, error) { return i + 1, nil }); err != nil { // the '{'
		return 0, nil, err
	}
	kept := make([]keptValue, 0, 24)
	for first := true; ; first = false {
		if maxRows > 0 && n >= maxRows && shapeErr == nil {
			return n, nil, errAtCap
		}
		done := false
		var key string
		isObject := false
		if err := s.parse(func(b []byte, i int) (int, error) {
			i, raw, end, err := nextName(b, i, first)
			if done = end; err != nil || done {
				return i, err
			}
			key = unquote(raw)
			if i >= len(b) {
				return i, errShort
			}
			if isObject = b[i] == '{'; !isObject {
				return scanValue(b, i, 1)
			}
			i, kept, err = scanRecord(b, i, lookup, kept)
			return i, err
		}); err != nil {
			return n, nil, err
		}
		if done {
			return n, shapeErr, nil
		}
		if !isObject {
			if shapeErr == nil {
				shapeErr = decodeErrorf("data[%q] is not an object", key)
			}
			continue
		}
		if shapeErr == nil {
			if err := row(kept, key); err != nil {
				return n, nil, err
			}
			n++
		}
	}
}
