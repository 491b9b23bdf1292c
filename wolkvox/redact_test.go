package wolkvox

import "testing"

func TestRedactToken(t *testing.T) {
	const token = "Ab3dE/fGh1jK2lMn0pQ"
	for in, want := range map[string]string{
		"SOME PARAMETERS ARE REQUIRED":     "SOME PARAMETERS ARE REQUIRED",
		"x " + token + " y":                "x <token> y",
		`x Ab3dE\/fGh1jK2lMn0pQ y`:         "x <token> y",
		"x AB3DE/FGH1JK2LMN0PQ y":          "x <token> y",
		"x Ab3dE&#x2F;fGh1jK2lMn0pQ y":     "x <token> y",
		"x Ab3dE%2FfGh1jK2lMn0pQ y":        "x <token> y",
		`x \u0041b3dE\/fGh1jK2lMn0pQ y`:    "x <token> y",
		"cut: Ab3dE/fGh1j":                 "cut: <token>",
		"tail: h1jK2lMn0pQ!":               "tail: <token>!",
		"short Ab3dE/f stays":              "short Ab3dE/f stays", // 7 characters
		"twice " + token + token:           "twice <token><token>",
		`odd \x escapes \u12 kept 100% ok`: `odd \x escapes \u12 kept 100% ok`,
	} {
		if got := redactToken(in, token); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if got := redactToken("a b c", ""); got != "a b c" {
		t.Errorf("no token: %q", got)
	}
}
