package wolkvox

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Decoding is streaming: jsontext reads one token or value at a time from the
// body, kept fields are copied out of its buffer, and personal fields are
// skipped with SkipValue, which validates them without allocating. Memory
// therefore depends on the size of the largest single value, not of the
// response. jsontext was chosen over encoding/json after measuring both; see
// docs/benchmarks.md.

// errAtCap is returned when a response holds MaxRecords records or more.
var errAtCap = errors.New("response reached the record cap and may be truncated")

// decodeError marks a response that is not the JSON the API documents.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

func decodeErrorf(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// apiError is a well-formed response whose envelope reports a failure.
type apiError struct{ code, text string }

func (e *apiError) Error() string {
	return fmt.Sprintf("code %q, error %q", e.code, e.text)
}

func newJSONDecoder(r io.Reader) *jsontext.Decoder {
	// Invalid UTF-8 must reach unquote intact so it can be read as
	// Windows-1252; duplicate names are harmless and tracking them costs time.
	return jsontext.NewDecoder(r, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
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
	return decodeResponse(r, maxRecords, func(d *jsontext.Decoder) error {
		rec, err := readTransfer(d, loc, in)
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// DecodeInteractions reads one chat_4 response from r; see DecodeTransfers.
func DecodeInteractions(r io.Reader, loc *time.Location, maxRecords int, fn func(Interaction) error) (int, error) {
	in := newInterner()
	return decodeResponse(r, maxRecords, func(d *jsontext.Decoder) error {
		rec, err := readInteraction(d, loc, in)
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// decodeResponse walks the envelope {"code", "error", "msg", "data"} in any
// key order and calls readRecord for each element of data.
func decodeResponse(r io.Reader, maxRecords int, readRecord func(*jsontext.Decoder) error) (int, error) {
	d := newJSONDecoder(r)
	if err := expectDelim(d, '{', "response"); err != nil {
		return 0, err
	}
	var (
		code, errText    string
		hasCode, hasData bool
		n                int
	)
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return n, wrapSyntax(err)
		}
		switch string(name) {
		case `"code"`:
			v, err := d.ReadValue()
			if err != nil {
				return n, wrapSyntax(err)
			}
			code, hasCode = scalarText(v), true
		case `"error"`:
			v, err := d.ReadValue()
			if err != nil {
				return n, wrapSyntax(err)
			}
			if v.Kind() == '"' {
				errText = unquote(v)
			} else if v.Kind() != 'n' {
				errText = excerpt(v)
			}
		case `"data"`:
			hasData = true
			switch d.PeekKind() {
			case 'n':
				if _, err := d.ReadValue(); err != nil {
					return n, wrapSyntax(err)
				}
			case '[':
				if _, err := d.ReadToken(); err != nil {
					return n, wrapSyntax(err)
				}
				for d.PeekKind() != ']' {
					if maxRecords > 0 && n >= maxRecords {
						return n, errAtCap
					}
					if d.PeekKind() != '{' {
						if _, err := d.ReadValue(); err != nil {
							return n, wrapSyntax(err)
						}
						return n, decodeErrorf("data[%d] is not an object", n)
					}
					if err := readRecord(d); err != nil {
						return n, err
					}
					n++
				}
				if _, err := d.ReadToken(); err != nil {
					return n, wrapSyntax(err)
				}
			default:
				if _, err := d.ReadValue(); err != nil {
					return n, wrapSyntax(err)
				}
				return n, decodeErrorf("data is not a list")
			}
		default:
			if err := d.SkipValue(); err != nil {
				return n, wrapSyntax(err)
			}
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return n, wrapSyntax(err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return n, decodeErrorf("unexpected data after the response object")
	}
	if maxRecords > 0 && n >= maxRecords {
		return n, errAtCap
	}
	switch {
	case errText != "":
		return n, &apiError{code: code, text: errText}
	case !hasCode:
		return n, decodeErrorf("response has no code")
	case code != "200" && code != "0":
		// "200" is documented for these reports; another report of the
		// same API answers "0" for success.
		return n, &apiError{code: code}
	case !hasData:
		return n, decodeErrorf("response has no data")
	}
	return n, nil
}

func expectDelim(d *jsontext.Decoder, delim jsontext.Kind, what string) error {
	if k := d.PeekKind(); k != delim {
		// PeekKind reports 0 for malformed input; read to get the cause.
		if _, err := d.ReadToken(); err != nil {
			return wrapSyntax(err)
		}
		return decodeErrorf("%s is not a JSON %v", what, delim)
	}
	_, err := d.ReadToken()
	return wrapSyntax(err)
}

// wrapSyntax turns a jsontext error, including a body that ends early, into
// a decodeError. Errors of the body reader pass through unchanged so the
// client can classify them as network, timeout or too large.
func wrapSyntax(err error) error {
	if err == nil {
		return nil
	}
	var bodyErr *ioError
	if errors.As(err, &bodyErr) {
		return bodyErr.err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return decodeErrorf("body ended before the response was complete")
	}
	return &decodeError{msg: excerpt([]byte(err.Error()))}
}

// ioError wraps an error of the body reader, so decoding can tell a broken
// connection from broken JSON.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	// A body cut off mid-stream ends in io.ErrUnexpectedEOF: that is a
	// broken response, reported as a decode failure, not a network one.
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		err = &ioError{err: err}
	}
	return n, err
}

// scalarText returns the text of a string, number, boolean or null value.
func scalarText(v jsontext.Value) string {
	switch v.Kind() {
	case '"':
		return unquote(v)
	case 'n':
		return ""
	case '{', '[':
		return ""
	default:
		return clean(string(v))
	}
}

// fieldBytes returns the text of a value that is parsed rather than kept
// (dates, durations, scores) without allocating a string for it. ok is false
// for an object or array where a string was expected.
func fieldBytes(v jsontext.Value) ([]byte, bool) {
	switch v.Kind() {
	case '"':
		raw := v[1 : len(v)-1]
		if indexByte(raw, '\\') < 0 {
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
