package wolkvox

import (
	"testing"
	"time"
)

func TestToValidUTF8ReadsInvalidBytesAsWindows1252(t *testing.T) {
	for in, want := range map[string]string{
		"MU\xd1OZ":          "MUÑOZ",
		"PATIÑO":            "PATIÑO",
		"\x80 \x93hola\x94": "€ “hola”",
		"FL\xd3REZ PATIÑO":  "FLÓREZ PATIÑO", // mixed: valid UTF-8 kept, stray byte mapped
		"\xe2\x82":          "â‚",            // a truncated UTF-8 sequence
		"plain":             "plain",
	} {
		if got := toValidUTF8([]byte(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"  hola  "`:           "hola",
		`"-"`:                  "",
		`" - "`:                "",
		`""`:                   "",
		`"a\"b\\c\/d\n"`:       "a\"b\\c/d",
		`"\u00d1\ud83d\ude00"`: "Ñ😀",
		`"\u00a0x\u00a0"`:      "x",
	} {
		if got := unquote([]byte(in)); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func TestParseClock(t *testing.T) {
	good := map[string]time.Duration{"00:00:00": 0, "01:02:03": time.Hour + 2*time.Minute + 3*time.Second, "123:00:01": 123*time.Hour + time.Second}
	for in, want := range good {
		if got, ok := parseClock([]byte(in)); !ok || got != want {
			t.Errorf("%q: %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"1:2", "1:2:3", "01:60:00", "-1:00:00", "aa:bb:cc", "", "01:02"} {
		if _, ok := parseClock([]byte(in)); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestParseDate(t *testing.T) {
	loc := time.FixedZone("COT", -5*3600)
	if d, ok := parseDate([]byte("2026-06-01 10:11:12"), loc); !ok || !d.Equal(time.Date(2026, 6, 1, 15, 11, 12, 0, time.UTC)) {
		t.Errorf("got %v %v", d, ok)
	}
	for _, in := range []string{"", "0000-00-00 00:00:00"} {
		if d, ok := parseDate([]byte(in), loc); !ok || !d.IsZero() {
			t.Errorf("%q: %v %v", in, d, ok)
		}
	}
	for _, in := range []string{"2026-02-30 00:00:00", "2026-06-01T10:11:12", "01/06/2026 10:11:12", "2026-06-01 24:00:00", "2026-06-01"} {
		if _, ok := parseDate([]byte(in), loc); ok {
			t.Errorf("%q parsed", in)
		}
	}
}
