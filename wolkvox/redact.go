package wolkvox

import (
	"html"
	"strings"
	"unicode/utf8"
)

// redactedToken stands in for an echo of the token in error text.
const redactedToken = "<token>"

// minEcho is the shortest run of the token's characters that is redacted
// when it is not the whole token: enough to leave ordinary words alone,
// short enough that no useful part of a token survives.
const minEcho = 8

// redactToken returns text with every echo of token replaced: the token
// itself, in any ASCII case, and any run of at least minEcho of its
// characters (a partial echo, or one cut by a length limit). Text is first
// unescaped (JSON's \/ and \uXXXX, HTML entities, URL %XX), because PHP
// writes a / in a string as \/ and a page may encode it otherwise. The
// result is what an excerpt quotes, so it must run before any cutting.
func redactToken(text, token string) string {
	if token == "" {
		return text
	}
	text = unescapeEcho(text)
	minRun := min(len(token), minEcho)
	var b strings.Builder
	for i := 0; i < len(text); {
		if n := tokenRun(text[i:], token); n >= minRun {
			b.WriteString(redactedToken)
			i += n
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}

// tokenRun returns the length of the longest prefix of s that is a
// substring of token, ignoring ASCII case.
func tokenRun(s, token string) int {
	best := 0
	for j := 0; j < len(token) && len(token)-j > best; j++ {
		n := 0
		for n < len(s) && j+n < len(token) && lowerASCII(s[n]) == lowerASCII(token[j+n]) {
			n++
		}
		best = max(best, n)
	}
	return best
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// unescapeEcho undoes the encodings a server might apply to text it echoes:
// JSON escapes, then HTML entities, then URL percent-encoding. It only has
// to be good enough to expose an echoed token to redaction.
func unescapeEcho(s string) string {
	if strings.IndexByte(s, '\\') >= 0 {
		s = looseUnescape(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	if strings.IndexByte(s, '%') >= 0 {
		s = percentDecode(s)
	}
	if !utf8.ValidString(s) {
		s = toValidUTF8([]byte(s))
	}
	return s
}

// percentDecode decodes %XX sequences and leaves any other % as it is.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// looseUnescape resolves JSON escapes in arbitrary text: unlike unescape,
// which reads validated literals, it keeps whatever is not a valid escape.
func looseUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			b.WriteByte(c)
			i++
		case 'b', 'f', 'n', 'r', 't':
			b.WriteByte(' ')
			i++
		case 'u':
			r, n := decodeU([]byte(s[i+2:]))
			if n == 0 {
				b.WriteByte(s[i])
				continue
			}
			i += 1 + n
			if utf16IsHigh(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2, n2 := decodeU([]byte(s[i+3:])); n2 > 0 && utf16IsLow(r2) {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 2 + n2
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
