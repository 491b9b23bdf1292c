package wolkvox

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFieldLen caps the length in bytes of every string a record keeps. No
// real agent name, skill or code comes near it; it bounds the memory and
// label size a hostile or broken response can cause.
const MaxFieldLen = 256

// windows1252 maps the bytes 0x80-0x9F of Windows-1252 to runes. Bytes
// 0xA0-0xFF are the same code points in Latin-1 and Unicode.
var windows1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

// toValidUTF8 returns b as a valid UTF-8 string. Byte sequences that are not
// UTF-8 are read as Windows-1252, the likely encoding of a Latin American
// operation's legacy data, so "MU\xd1OZ" becomes "MUÑOZ" and not "MU�OZ".
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			c := b[0]
			switch {
			case c < 0x80:
				sb.WriteByte(c)
			case c < 0xA0:
				sb.WriteRune(windows1252[c-0x80])
			default:
				sb.WriteRune(rune(c))
			}
			b = b[1:]
			continue
		}
		sb.Write(b[:size])
		b = b[size:]
	}
	return sb.String()
}

// unquote decodes the raw bytes of a JSON string literal, quotes included,
// into a clean field value: escapes resolved, valid UTF-8, trimmed, "-"
// turned into "", and capped at MaxFieldLen bytes.
//
// It works on raw bytes rather than a decoded token because a decoder
// replaces invalid UTF-8 with U+FFFD before the caller sees it, and the
// Windows-1252 reading above needs the original bytes.
func unquote(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	raw = trimASCIISpace(raw)
	if len(raw) == 0 || (len(raw) == 1 && raw[0] == '-') {
		return ""
	}
	var s string
	if bytes.IndexByte(raw, '\\') < 0 {
		s = toValidUTF8(limitBytes(raw, 4*MaxFieldLen))
	} else {
		s = toValidUTF8(unescape(limitBytes(raw, 4*MaxFieldLen)))
	}
	c := clean(s)
	if len(c) < len(s) {
		// A part of s: copied, so that the record does not keep all of
		// s's up to 4*MaxFieldLen bytes alive.
		return strings.Clone(c)
	}
	return c
}

// clean removes control and invisible formatting characters, trims Unicode
// space, maps "-" to "" and caps the length at a rune boundary. Without the
// removal, "Email\u0000" or a name behind a right-to-left override would be
// a label value that looks like another.
func clean(s string) string {
	if s == "" {
		return s
	}
	if mayHideChars(s) {
		s = strings.Map(func(r rune) rune {
			if invisible(r) {
				return -1
			}
			return r
		}, s)
		if s == "" {
			return s // nothing but hidden characters
		}
	}
	// Most values start and end in a printable ASCII byte: no trimming.
	if first, last := s[0], s[len(s)-1]; first <= ' ' || last <= ' ' || first >= utf8.RuneSelf || last >= utf8.RuneSelf {
		s = strings.TrimFunc(s, unicode.IsSpace)
	}
	if s == "-" {
		return ""
	}
	if len(s) > MaxFieldLen {
		cut := MaxFieldLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// invisible reports whether r is a character that must not reach a label
// value or a log line: a C0 or C1 control, DEL, a bidirectional control
// (embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069, the
// marks U+200E, U+200F and U+061C), or an invisible one (zero-width space
// U+200B, word joiner U+2060 and invisible operators U+2061-U+2064,
// byte-order mark U+FEFF).
func invisible(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200b, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x2069:
		return true
	}
	return false
}

// mayHideChars is a fast test that s holds none of the invisible
// characters: it looks for their bytes (controls, DEL, and the lead bytes
// of the others in UTF-8) and lets clean skip the rune-by-rune pass for
// nearly every value.
func mayHideChars(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == 0x7f, c == 0xc2, c == 0xd8, c == 0xe2, c == 0xef:
			return true
		}
	}
	return false
}

func limitBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func trimASCIISpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// unescape resolves JSON escapes. The decoder has already validated the
// literal, so malformed escapes cannot occur; a truncated one (from
// limitBytes) is dropped.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(b) {
			break
		}
		i++
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := decodeU(b[i+1:])
			if n == 0 {
				return out
			}
			i += n
			if utf16IsHigh(r) && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if r2, n2 := decodeU(b[i+3:]); n2 > 0 && utf16IsLow(r2) {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 2 + n2
				}
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func decodeU(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}
