package wolkvox

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

// Bounds of the values a record keeps. Values outside them are counted
// invalid, as unparseable ones are: a survey of 1e308 made sums +Inf for
// the life of the process, and a time of 999999:00:00 or a date in year 1
// gave durations of billions of seconds. The decoder has no clock, so the
// date bounds are fixed years.
const (
	MinYear     = 2000           // dates before 2000-01-01 are invalid
	MaxYear     = 2100           // dates after 2100-12-31 are invalid
	MaxDuration = 24 * time.Hour // a transfer leg's time longer than a day is invalid
	MinSurvey   = 0              // survey scores below 0 are invalid
	MaxSurvey   = 100            // survey scores above 100 are invalid
)

// parseDate parses the API's "YYYY-MM-DD HH:MM:SS" in the operation's zone.
// It returns ok=false for anything else, and for a year outside
// [MinYear, MaxYear]. An empty value and MySQL's zero date are "no date",
// reported as the zero time with ok=true. It works on bytes and by hand
// because it runs for every record.
func parseDate(s []byte, loc *time.Location) (time.Time, bool) {
	if len(s) == 0 || bytes.HasPrefix(s, []byte("0000-00-00")) {
		return time.Time{}, true
	}
	if len(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y, mo, d := digits(s[0:4]), digits(s[5:7]), digits(s[8:10])
	h, mi, se := digits(s[11:13]), digits(s[14:16]), digits(s[17:19])
	if y < MinYear || y > MaxYear || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, loc)
	if t.Day() != d { // 2026-02-31 normalizes to March: reject it
		return time.Time{}, false
	}
	return t, true
}

// digits parses ASCII decimal digits, returning -1 if there is anything else.
func digits(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int(c-'0')
	}
	return v
}

// parseClock parses a duration written as H+:MM:SS. Hours may exceed 23.
func parseClock(s []byte) (time.Duration, bool) {
	i := bytes.IndexByte(s, ':')
	if i < 1 || i > 6 || len(s) != i+6 || s[i+3] != ':' {
		return 0, false
	}
	h, m, sec := digits(s[:i]), digits(s[i+1:i+3]), digits(s[i+4:])
	if h < 0 || m < 0 || m > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, true
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
