package wolkvox

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
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
		// Controls and invisible formatting characters are removed.
		`"Email\u0000"`:                             "Email",
		`"Email\u001b[31m"`:                         "Email[31m",
		`"A\u0007B\u007fC\u0085"`:                   "ABC",
		`"\u202eSOF\u00cdA\u202c"`:                  "SOFÍA",
		`"x\u2066y\u2069\u200e\u200f"`:              "xy",
		`"\ufeffchat\u200b\u2060"`:                  "chat",
		`" \u0000 - \u0000 "`:                       "",
		"\"A\x7fB\xc2\x85C\"":                       "ABC",      // raw DEL and C1, in UTF-8
		"\"MU\x81OZ\"":                              "MUOZ",     // Windows-1252 0x81 is undefined: U+0081
		"\"PE\xc3\x91A \xe2\x80\x9cJ\xe2\x80\x9d\"": "PEÑA “J”", // lead bytes of kept characters
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

// TestInternerKeepsNoLongValue: 8,000 distinct agent names of 25 KB held
// 253 MB when the interner kept every raw value as a key. Only short raw
// values are interned; long ones are capped and handed out, not kept.
func TestInternerKeepsNoLongValue(t *testing.T) {
	in := newInterner()
	long := strings.Repeat("Ñ", 12500) // 25,000 bytes
	for i := range 8000 {
		s, ok := in.text([]byte(`"` + strconv.Itoa(i) + long + `"`))
		if !ok || len(s) > MaxFieldLen || !strings.HasPrefix(s, strconv.Itoa(i)) {
			t.Fatalf("value %d: %d bytes, ok %v", i, len(s), ok)
		}
	}
	held := 0
	for k, v := range in.m {
		if len(k) > maxInternedRaw {
			t.Fatalf("the interner holds a key of %d bytes", len(k))
		}
		held += len(k) + len(v)
	}
	// Short values are still shared.
	a, _ := in.text([]byte(`"SOFÍA BOLÍVAR"`))
	b, _ := in.text([]byte(`"SOFÍA BOLÍVAR"`))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("a short value was not interned")
	}
	t.Logf("interner holds %d bytes", held)
}

// TestParseScore: the parsing of a score, separators and signs included;
// the survey's range is checked by the decoder.
func TestParseScore(t *testing.T) {
	for in, want := range map[string]float64{"9,336.00 %": 9336, "1,000": 1000, "4,5": 4.5, "-5": -5, "1e308": 1e308} {
		if got, ok := parseScore(in); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
}
