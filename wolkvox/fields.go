package wolkvox

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDate parses the API's "YYYY-MM-DD HH:MM:SS" in the operation's zone.
// It returns ok=false for anything else. An empty value and MySQL's zero
// date are "no date", reported as the zero time with ok=true.
func parseDate(s string, loc *time.Location) (time.Time, bool) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, true
	}
	if len(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	n := func(i, j int) int {
		v := 0
		for _, c := range s[i:j] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, se := n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19)
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, loc)
	if t.Day() != d { // 2026-02-31 normalizes to March: reject it
		return time.Time{}, false
	}
	return t, true
}

// parseClock parses a duration written as H+:MM:SS. Hours may exceed 23.
func parseClock(s string) (time.Duration, bool) {
	h, rest, ok1 := strings.Cut(s, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || len(h) == 0 || len(h) > 6 || len(m) != 2 || len(sec) != 2 {
		return 0, false
	}
	hv, err1 := strconv.Atoi(h)
	mv, err2 := strconv.Atoi(m)
	sv, err3 := strconv.Atoi(sec)
	if err1 != nil || err2 != nil || err3 != nil || hv < 0 || mv < 0 || mv > 59 || sv < 0 || sv > 59 {
		return 0, false
	}
	return time.Duration(hv)*time.Hour + time.Duration(mv)*time.Minute + time.Duration(sv)*time.Second, true
}

// parseScore parses a survey score. Every value on the wire is a string and
// some carry a percent sign or a thousands separator ("9,336.00 %"). A lone
// comma not followed by exactly three digits is a decimal comma ("4,5").
func parseScore(s string) (float64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return 0, false
	}
	if strings.Contains(s, ".") {
		s = strings.ReplaceAll(s, ",", "")
	} else if i := strings.IndexByte(s, ','); i >= 0 && strings.Count(s, ",") == 1 && len(s)-i-1 != 3 {
		s = s[:i] + "." + s[i+1:]
	} else {
		s = strings.ReplaceAll(s, ",", "")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
