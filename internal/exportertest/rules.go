package exportertest

import (
	"fmt"
	"regexp"
	"strings"
)

var forClause = regexp.MustCompile(`for: \d+[smh]`)

// ShortenRules returns the shipped rules with their time ranges replaced,
// for the end-to-end test and the demo, which cannot wait hours for a
// baseline. pairs are old and new texts, as for strings.NewReplacer; every
// `for:` becomes forDuration. Expressions and thresholds stay the shipped
// ones. It fails when an old text is missing, so that a range changed in
// the shipped rules cannot go unshortened.
func ShortenRules(rules, forDuration string, pairs ...string) (string, error) {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(rules, pairs[i]) {
			return "", fmt.Errorf("the rules no longer contain %q", pairs[i])
		}
	}
	out := strings.NewReplacer(pairs...).Replace(rules)
	return forClause.ReplaceAllString(out, "for: "+forDuration), nil
}
