package wolkvox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Decoding is streaming and single-pass: the scanner validates the JSON and
// notes where kept values lie, and only those are copied out; personal
// fields are validated and passed over, never copied. Memory therefore
// depends on the size of the largest record, not of the response. See
// docs/benchmarks.md for how this compares with jsontext and encoding/json.

// errAtCap is returned when a response holds MaxRecords records or more.
var errAtCap = errors.New("response reached the record cap and may be truncated")

// decodeError marks a response that is not the JSON the API documents.
type decodeError struct {
	msg    string
	syntax bool // the body is not valid JSON, as opposed to unexpected JSON
	// inData: the fault lies among data's elements (a record that is not
	// valid JSON, or an element that is not an object) after the response
	// had begun well. The same window fetched in smaller pieces may then
	// decode but for the piece holding the element: a poison record.
	inData bool
}

// inData marks a decode error met among data's elements; other errors are
// returned as they are.
func inData(err error) error {
	var de *decodeError
	if errors.As(err, &de) && !de.inData {
		marked := *de
		marked.inData = true
		return &marked
	}
	return err
}

// isPoison reports whether err comes from an element of data that cannot
// be decoded: a fault a retry of the same window will not cure, but a
// smaller window without that element will.
func isPoison(err error) bool {
	var de *decodeError
	return errors.As(err, &de) && de.inData
}

func (e *decodeError) Error() string { return e.msg }

func decodeErrorf(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// apiError is a well-formed response whose envelope reports a failure.
type apiError struct{ code, text string }

func (e *apiError) Error() string {
	return fmt.Sprintf("code %q, error %q", e.code, e.text)
}

// DecodeTransfers reads one agent_13_1 response from r and calls fn for
// each record, in order. It returns how many records it read.
//
// Success is known only at the end of the body: "code" may follow "data", and
// a body may be cut off mid-stream. Records passed to fn before a non-nil
// error belong to a failed response and must be discarded. Client does this.
// maxRecords > 0 stops decoding with an error once that many records were read.
func DecodeTransfers(r io.Reader, loc *time.Location, maxRecords int, fn func(Transfer) error) (int, error) {
	in := newInterner()
	return decodeResponse(r, maxRecords, transferField, func(kept []keptValue) error {
		return fn(buildTransfer(kept, loc, in))
	})
}

// DecodeInteractions reads one chat_4 response from r; see DecodeTransfers.
func DecodeInteractions(r io.Reader, loc *time.Location, maxRecords int, fn func(Interaction) error) (int, error) {
	in := newInterner()
	return decodeResponse(r, maxRecords, interactionField, func(kept []keptValue) error {
		return fn(buildInteraction(kept, loc, in))
	})
}

// decodeResponse walks the envelope {"code", "error", "msg", "data"} in any
// key order and hands the kept values of each element of data to record.
func decodeResponse(r io.Reader, maxRecords int, lookup func([]byte) int, record func([]keptValue) error) (int, error) {
	return decodeScanned(newScanner(r), maxRecords, lookup, record)
}

func decodeScanned(s *scanner, maxRecords int, lookup func([]byte) int, record func([]keptValue) error) (int, error) {
	var (
		code, errText    string
		hasCode, hasData bool
		hasError         bool
		shapeErr         error // valid JSON of the wrong shape, reported last
		n                int
		kept             = make([]keptValue, 0, 16)
	)
	isObject := false
	if err := s.parse(func(b []byte, i int) (int, error) {
		if i = skipWS(b, i); i >= len(b) {
			return i, errShort
		}
		if isObject = b[i] == '{'; isObject {
			return i + 1, nil
		}
		return scanValue(b, i, 1) // validated, then reported below
	}); err != nil {
		return 0, err
	}
	if !isObject {
		if err := s.trailing(); err != nil {
			return 0, err
		}
		return 0, decodeErrorf("response is not a JSON object")
	}
	for first := true; ; first = false {
		// The next member's name, or the envelope's end.
		done := false
		if err := s.parse(func(b []byte, i int) (int, error) {
			i, end, err := nextMember(b, i, first)
			done = end
			return i, err
		}); err != nil {
			return n, err
		}
		if done {
			break
		}
		// One member: its name and, unless it is the first data, its value.
		var name, value []byte
		isData := false
		if err := s.parse(func(b []byte, i int) (int, error) {
			i, raw, err := memberName(b, i)
			if name = raw; err != nil {
				return i, err
			}
			if isData = string(name) == `"data"` && !hasData; isData {
				return i, nil
			}
			start := i
			if i, err = scanValue(b, i, 1); err != nil {
				return i, err
			}
			value = b[start:i]
			return i, nil
		}); err != nil {
			return n, err
		}
		// A member twice is a broken envelope: which one counts is
		// anyone's guess (PHP's json_decode keeps the last).
		duplicate := func(what string) {
			if shapeErr == nil {
				shapeErr = decodeErrorf("envelope has more than one %s member", what)
			}
		}
		switch string(name) {
		case `"code"`:
			if hasCode {
				duplicate("code")
			}
			code, hasCode = scalarText(value), true
		case `"error"`:
			if hasError {
				duplicate("error")
			}
			hasError = true
			if text := envelopeError(value); text != "" {
				errText = text
			}
		case `"data"`:
			if !isData {
				duplicate("data") // validated only, records not read
				break
			}
			hasData = true
			records, dataErr, err := decodeData(s, maxRecords, lookup, record, kept)
			n = records
			if err != nil {
				return n, err
			}
			if shapeErr == nil {
				shapeErr = dataErr
			}
		}
	}
	if err := s.trailing(); err != nil {
		return n, err
	}
	if shapeErr != nil {
		return n, shapeErr
	}
	if maxRecords > 0 && n >= maxRecords {
		return n, errAtCap
	}
	return n, envelopeVerdict(code, errText, hasCode, hasData)
}

// envelopeVerdict judges a whole envelope, read without a shape error:
// its error text, its code, and whether it had data. The reports and the
// real-time snapshots share it.
func envelopeVerdict(code, errText string, hasCode, hasData bool) error {
	switch {
	case errText != "":
		return &apiError{code: code, text: errText}
	case !hasCode:
		return decodeErrorf("response has no code")
	case code != "200" && code != "0":
		// "200" is documented for these reports; another report of the
		// same API answers "0" for success.
		return &apiError{code: code}
	case !hasData:
		return decodeErrorf("response has no data")
	}
	return nil
}

// envelopeError returns the text of the envelope's error member, or ""
// when it reports no error. null, false, "", 0 and a blank string say "no
// error", as they would to the PHP that writes them; a non-empty string,
// true, a non-zero number, an object or an array report one.
func envelopeError(v []byte) string {
	switch v[0] {
	case '"':
		return unquote(v)
	case 'n', 'f':
		return ""
	case 't':
		return "true"
	case '{', '[':
		return excerpt(v)
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil && f == 0 {
		return ""
	}
	return excerpt(v)
}

// decodeData reads the value of data: null (no records), or a list of
// records. Anything else is a decode error, reported only once the rest of
// the body has been validated, so that broken JSON is always reported as
// such. The same holds for an element of the list that is not an object.
func decodeData(s *scanner, maxRecords int, lookup func([]byte) int, record func([]keptValue) error, kept []keptValue) (n int, shapeErr, err error) {
	var first byte
	if err := s.parse(func(b []byte, i int) (int, error) {
		if i >= len(b) {
			return i, errShort
		}
		if first = b[i]; first == '[' {
			return i + 1, nil
		}
		return scanValue(b, i, 1)
	}); err != nil {
		return 0, nil, err
	}
	switch first {
	case 'n':
		return 0, nil, nil
	case '[':
	default:
		return 0, decodeErrorf("data is not a list"), nil
	}
	var c byte
	if err := s.parse(func(b []byte, i int) (int, error) {
		if i = skipWS(b, i); i >= len(b) {
			return i, errShort
		}
		if c = b[i]; c == ']' {
			return i + 1, nil
		}
		return i, nil
	}); err != nil || c == ']' {
		return 0, nil, err
	}
	for {
		if maxRecords > 0 && n >= maxRecords && shapeErr == nil {
			return n, nil, errAtCap
		}
		isObject := false
		err := s.parse(func(b []byte, i int) (int, error) {
			if i >= len(b) {
				return i, errShort
			}
			if isObject = b[i] == '{' && shapeErr == nil; !isObject {
				return scanValue(b, i, 1)
			}
			var err error
			i, kept, err = scanRecord(b, i, lookup, kept)
			return i, err
		})
		if err != nil {
			return n, nil, inData(err)
		}
		if isObject {
			if err := record(kept); err != nil {
				return n, nil, err
			}
			n++
		} else if shapeErr == nil {
			shapeErr = inData(decodeErrorf("data[%d] is not an object", n))
		}
		if err := s.parse(func(b []byte, i int) (int, error) {
			var err error
			i, c, err = expect(b, i, ",]")
			if err == nil && c == ',' {
				if i = skipWS(b, i); i >= len(b) {
					return i, errShort
				}
			}
			return i, err
		}); err != nil {
			return n, nil, inData(err)
		}
		if c == ']' {
			return n, shapeErr, nil
		}
	}
}

// scalarText returns the text of a string, number, boolean or null value.
func scalarText(v []byte) string {
	switch v[0] {
	case '"':
		return unquote(v)
	case 'n', '{', '[':
		return ""
	default:
		return clean(string(v))
	}
}

// fieldBytes returns the text of a value that is parsed rather than kept
// (dates, durations, scores) without allocating a string for it. ok is false
// for an object or array where a string was expected.
func fieldBytes(v []byte) ([]byte, bool) {
	switch v[0] {
	case '"':
		raw := v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\\') < 0 {
			return trimASCIISpace(raw), true
		}
		return []byte(unquote(v)), true
	case 'n':
		return nil, true
	case '{', '[':
		return nil, false
	default:
		return trimASCIISpace(v), true
	}
}
