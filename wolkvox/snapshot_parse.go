package wolkvox

import (
	"math"
	"strconv"
)

// The snapshots' numbers come as strings or JSON numbers, with or without
// a percent sign, thousands separators or a decimal comma, and times as
// seconds or H:MM:SS (FACTS.md). Each kind of value is parsed by one of
// the functions below into a Num, which is left not Valid, and the field
// marked invalid, when the value is present but unparseable or out of
// range. An empty value, "-" and null are absent: not Valid, not invalid.

// numKind is how a field's value is read.
type numKind uint8

const (
	kindCount   numKind = iota // a whole number in [0, MaxSnapshotCount], no percent sign
	kindSeconds                // seconds or H:MM:SS, in [0, MaxSnapshotSeconds]
	kindRatio                  // a percent in [0, 100], sign optional, read as a ratio in [0, 1]
)

// setNum parses v, a value as the scanner found it, as kind into *n,
// marking f in invalid when it is present but not valid.
func setNum(v []byte, kind numKind, f Field, n *Num, invalid *InvalidFields) {
	b, ok := fieldBytes(v)
	if ok {
		if len(b) == 0 || len(b) == 1 && b[0] == '-' {
			*n = Num{}
			return
		}
		*n, ok = parseNum(b, kind)
	}
	if !ok {
		*n = Num{}
		*invalid |= InvalidFields(f)
	}
}

// parseNum parses a present value as kind.
func parseNum(b []byte, kind numKind) (Num, bool) {
	if kind == kindSeconds {
		for _, c := range b {
			if c == ':' {
				d, ok := parseClock(b)
				if !ok || d.Seconds() > MaxSnapshotSeconds {
					return Num{}, false
				}
				return Num{d.Seconds(), true}, true
			}
		}
	}
	v, percent, ok := parseDecimal(b)
	if !ok || v < 0 {
		return Num{}, false
	}
	switch kind {
	case kindCount:
		if percent || v != math.Trunc(v) || v > MaxSnapshotCount {
			return Num{}, false
		}
	case kindSeconds:
		if percent || v > MaxSnapshotSeconds {
			return Num{}, false
		}
	case kindRatio:
		// "9,336.00 %" is 9336 %, not 93.36 %: out of range.
		if v > 100 {
			return Num{}, false
		}
		v /= 100
	}
	return Num{v, true}, true
}

// parseDecimal parses a decimal number that may end in a percent sign
// (with or without a space before it) and carry thousands separators
// ("9,336.00", "1,234,567") or a decimal comma ("93,36"). Commas are
// thousands separators when the digits before the first are one to three
// and every group after one has exactly three; otherwise a single comma
// between digits, with no point, is a decimal comma. Anything else, a sign
// or an exponent included, fails.
func parseDecimal(b []byte) (v float64, percent bool, ok bool) {
	b = trimASCIISpace(b)
	if n := len(b); n > 0 && b[n-1] == '%' {
		percent = true
		b = trimASCIISpace(b[:n-1])
	}
	if len(b) == 0 || len(b) > 64 {
		return 0, percent, false
	}
	var buf [64]byte
	out := buf[:0]
	intPart, frac := b, []byte(nil)
	if p := indexByte(b, '.'); p >= 0 {
		intPart, frac = b[:p], b[p+1:]
		if len(frac) == 0 || !allDigits(frac) {
			return 0, percent, false
		}
	}
	var groups [][]byte
	if indexByte(intPart, ',') >= 0 {
		groups = splitComma(intPart)
	}
	switch {
	case groups == nil:
		out = append(out, intPart...)
	case thousands(groups):
		for _, g := range groups {
			out = append(out, g...)
		}
	case len(groups) == 2 && frac == nil && len(groups[1]) > 0:
		// A decimal comma: "93,36".
		intPart, frac = groups[0], groups[1]
		out = append(out, intPart...)
	default:
		return 0, percent, false
	}
	if len(out) == 0 || !allDigits(out) || (frac != nil && !allDigits(frac)) {
		return 0, percent, false
	}
	if frac != nil {
		out = append(append(out, '.'), frac...)
	}
	f, err := strconv.ParseFloat(string(out), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, percent, false
	}
	return f, percent, true
}

// thousands reports whether groups, the digits between commas, are
// grouped by thousands: one to three first, then exactly three each.
func thousands(groups [][]byte) bool {
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

func splitComma(b []byte) [][]byte {
	var groups [][]byte
	for {
		i := indexByte(b, ',')
		if i < 0 {
			return append(groups, b)
		}
		groups = append(groups, b[:i])
		b = b[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}
