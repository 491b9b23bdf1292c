package wolkvox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// scanner reads a response in a single pass: it validates the JSON and, for
// the fields a record keeps, notes where their values lie, so that nothing
// is read twice. It is specialised for the API's shape (an envelope object
// with a list of flat records) but accepts, and validates, any JSON.
//
// The body is read into a buffer that holds at least the record being
// parsed. When a record runs past the end of the buffer, more is read and
// the record parsed again from its start. It is parsed again only once the
// buffer holds at least twice as much of it as the last attempt saw (or
// is full, or the body has ended), so a record of n bytes is parsed
// O(log n) times over at most a few times n bytes, however small the reads
// (over TLS at most 16 KiB each). Re-parsing after every read made one
// large record quadratic: 32 MB took seconds, 200 MB over a minute.
type scanner struct {
	r   io.Reader
	buf []byte
	pos int // start of the unit being parsed
	end int // buf[:end] holds data
	eof bool

	// steps and scanned count parse attempts and the bytes they were
	// given, for the test that scanning stays linear.
	steps   int
	scanned int64
}

// errShort means the buffer ended inside the unit being parsed.
var errShort = errors.New("short buffer")

// maxDepth bounds nesting, as jsontext does by default.
const maxDepth = 10000

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, 0, 64<<10)}
}

// errCut marks a body the transport reports cut off mid-stream (a chunked
// body without its last chunk, or shorter than its Content-Length): a
// network failure, which a retry may cure, not a broken response.
var errCut = errors.New("body cut off mid-stream")

// fill reads more of the body, keeping buf[pos:end]. It returns a decode
// error for a body that ends, complete as far as HTTP goes, before the JSON
// does, and the reader's error for a broken body.
func (s *scanner) fill() error {
	if s.eof {
		return decodeErrorf("body ended before the response was complete")
	}
	if s.pos > 0 {
		n := copy(s.buf[:cap(s.buf)], s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == cap(s.buf) {
		grown := make([]byte, cap(s.buf)*2)
		copy(grown, s.buf[:s.end])
		s.buf = grown[:0]
	}
	for {
		n, err := s.r.Read(s.buf[s.end:cap(s.buf)])
		s.end += n
		switch {
		case err == io.EOF:
			// A newline after the body: white space is allowed there, and
			// it ends a number that ends the body, which would otherwise
			// look cut off.
			s.buf = append(s.buf[:s.end], '\n')
			s.end++
			s.eof = true
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: %w", errCut, err)
		case err != nil:
			return err
		case n > 0:
			return nil
		}
	}
}

// parse runs step on the unparsed data, refilling and retrying while the
// buffer is too short for it. step returns the index after what it parsed.
func (s *scanner) parse(step func(b []byte, i int) (int, error)) error {
	for {
		s.steps++
		s.scanned += int64(s.end - s.pos)
		i, err := step(s.buf[:s.end], s.pos)
		if err == nil {
			s.pos = i
			return nil
		}
		if err != errShort {
			return err
		}
		// Geometric growth of what the next attempt sees: at least
		// double, unless the buffer fills first (it then doubles on the
		// next fill) or the body ends.
		want := 2*(s.end-s.pos) + 1
		if err := s.fill(); err != nil {
			return err
		}
		for !s.eof && s.end-s.pos < want && s.end < cap(s.buf) {
			if err := s.fill(); err != nil {
				return err
			}
		}
	}
}

// trailing reads to the end of the body, which must hold nothing but
// white space after the top-level value.
func (s *scanner) trailing() error {
	for {
		s.pos = skipWS(s.buf[:s.end], s.pos)
		if s.pos < s.end {
			return syntaxErrorf("data after the top-level value")
		}
		if s.eof {
			return nil
		}
		if err := s.fill(); err != nil {
			return err
		}
	}
}

func syntaxErrorf(format string, args ...any) error {
	return &decodeError{msg: "invalid JSON: " + fmt.Sprintf(format, args...), syntax: true}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// expect skips white space and one of the delimiters in set, returning
// which one it found.
func expect(b []byte, i int, set string) (int, byte, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, 0, errShort
	}
	for j := 0; j < len(set); j++ {
		if b[i] == set[j] {
			return i + 1, b[i], nil
		}
	}
	return i, 0, syntaxErrorf("want one of %q, found %q", set, b[i])
}

// nextMember steps over what follows an object's '{' (first) or one of
// its members: a ',' and white space up to the quote that opens the next
// member's name, which it returns; or the '}' that closes the object
// (done). The envelopes are walked a member at a time with it, so that a
// large data member never has to fit the buffer whole.
func nextMember(b []byte, i int, first bool) (next int, done bool, err error) {
	set := ",}"
	if first {
		set = `"}`
	}
	i, c, err := expect(b, i, set)
	switch {
	case err != nil:
		return i, false, err
	case c == '}':
		return i, true, nil
	case c == '"':
		return i - 1, false, nil // the quote opens the name
	}
	if i = skipWS(b, i); i >= len(b) {
		return i, false, errShort
	}
	if b[i] != '"' {
		return i, false, syntaxErrorf("object member name is not a string")
	}
	return i, false, nil
}

// memberName reads the member name whose quote is at b[i] and the ':'
// after it. It returns the name as it stands (quotes and escapes kept) and
// where its value starts, white space skipped.
func memberName(b []byte, i int) (next int, name []byte, err error) {
	start := i
	if i, _, err = scanString(b, i); err != nil {
		return i, nil, err
	}
	name = b[start:i]
	if i, _, err = expect(b, i, ":"); err != nil {
		return i, nil, err
	}
	return skipWS(b, i), name, nil
}

// nextName is nextMember then memberName: the next member's name, and
// where its value starts, or done at the object's '}'.
func nextName(b []byte, i int, first bool) (next int, name []byte, done bool, err error) {
	if i, done, err = nextMember(b, i, first); err != nil || done {
		return i, nil, done, err
	}
	i, name, err = memberName(b, i)
	return i, name, false, err
}

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// stringSpecial flags the bytes of x that need a look: a quote, a
// backslash or a control character. The lowest flagged byte is exact.
func stringSpecial(x uint64) uint64 {
	quote := x ^ (lsbs * '"')
	backslash := x ^ (lsbs * '\\')
	return ((quote-lsbs)&^quote | (backslash-lsbs)&^backslash | (x-lsbs*0x20)&^x) & msbs
}

// scanString validates the string literal starting at b[i] (a quote) and
// returns the index after it, and whether it holds escapes. Bytes that are
// not UTF-8 are accepted here; unquote reads them as Windows-1252.
func scanString(b []byte, i int) (int, bool, error) {
	escaped := false
	i++
	for {
		for i+8 <= len(b) {
			if m := stringSpecial(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i, escaped, errShort
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, errShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, escaped, errShort
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, escaped, syntaxErrorf("bad \\u escape")
					}
				}
				i += 6
			default:
				return i, escaped, syntaxErrorf("bad escape \\%c", b[i+1])
			}
		case c < 0x20:
			return i, escaped, syntaxErrorf("control character in a string")
		default:
			i++ // fewer than 8 bytes were left
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber validates a JSON number. A number is always followed by a
// delimiter in a response, so reaching the buffer's end means "short".
func scanNumber(b []byte, i int) (int, error) {
	digits := func(i int) (int, bool, error) {
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i >= len(b) {
			return i, false, errShort
		}
		return i, i > start, nil
	}
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return i, errShort
		}
	}
	switch {
	case b[i] == '0':
		i++
		if i >= len(b) {
			return i, errShort
		}
	case isDigit(b[i]):
		var err error
		if i, _, err = digits(i); err != nil {
			return i, err
		}
	default:
		return i, syntaxErrorf("bad number")
	}
	if b[i] == '.' {
		var ok bool
		var err error
		if i, ok, err = digits(i + 1); err != nil || !ok {
			return i, orSyntax(err, "bad fraction")
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i >= len(b) {
			return i, errShort
		}
		if b[i] == '+' || b[i] == '-' {
			i++
		}
		var ok bool
		var err error
		if i, ok, err = digits(i); err != nil || !ok {
			return i, orSyntax(err, "bad exponent")
		}
	}
	return i, nil
}

func orSyntax(err error, msg string) error {
	if err != nil {
		return err
	}
	return syntaxErrorf("%s", msg)
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	n := min(len(lit), len(b)-i)
	if string(b[i:i+n]) != lit[:n] {
		return i, syntaxErrorf("bad literal")
	}
	if n < len(lit) {
		return i, errShort
	}
	return i + len(lit), nil
}

// scanValue validates the value starting at b[i] (after white space) and
// returns the index after it.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, errShort
	}
	switch c := b[i]; {
	case c == '"':
		i, _, err := scanString(b, i)
		return i, err
	case c == '{' || c == '[':
		return scanContainer(b, i, depth+1)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	default:
		return i, syntaxErrorf("unexpected %q", c)
	}
}

func scanContainer(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, syntaxErrorf("nested too deep")
	}
	object := b[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return i, errShort
	}
	if b[i] == closer {
		return i + 1, nil
	}
	for {
		var err error
		if object {
			if i = skipWS(b, i); i >= len(b) {
				return i, errShort
			}
			if b[i] != '"' {
				return i, syntaxErrorf("object member name is not a string")
			}
			if i, _, err = scanString(b, i); err != nil {
				return i, err
			}
			if i, _, err = expect(b, i, ":"); err != nil {
				return i, err
			}
		}
		if i, err = scanValue(b, skipWS(b, i), depth); err != nil {
			return i, err
		}
		var c byte
		if i, c, err = expect(b, i, ","+string(closer)); err != nil {
			return i, err
		}
		if c == closer {
			return i, nil
		}
	}
}

// keptValue is where one kept field's value lies in the buffer.
type keptValue struct {
	field int
	raw   []byte
}

// scanRecord validates the object starting at b[i] and notes the raw
// values of the fields lookup keeps, in order. It returns the index after
// the object.
func scanRecord(b []byte, i int, lookup func(name []byte) int, kept []keptValue) (int, []keptValue, error) {
	kept = kept[:0]
	if i >= len(b) {
		return i, kept, errShort
	}
	if b[i] != '{' {
		return i, kept, syntaxErrorf("record is not an object")
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return i, kept, errShort
	}
	if b[i] == '}' {
		return i + 1, kept, nil
	}
	for {
		var err error
		if i = skipWS(b, i); i >= len(b) {
			return i, kept, errShort
		}
		if b[i] != '"' {
			return i, kept, syntaxErrorf("object member name is not a string")
		}
		nameStart := i
		var escaped bool
		if i, escaped, err = scanString(b, i); err != nil {
			return i, kept, err
		}
		name := b[nameStart:i]
		if escaped {
			name = []byte(`"` + unquote(name) + `"`) // rare: names never need escapes
		}
		if i, _, err = expect(b, i, ":"); err != nil {
			return i, kept, err
		}
		i = skipWS(b, i)
		valueStart := i
		if i, err = scanValue(b, i, 1); err != nil {
			return i, kept, err
		}
		if field := lookup(name); field >= 0 {
			kept = append(kept, keptValue{field: field, raw: b[valueStart:i]})
		}
		var c byte
		if i, c, err = expect(b, i, ",}"); err != nil {
			return i, kept, err
		}
		if c == '}' {
			return i, kept, nil
		}
	}
}
