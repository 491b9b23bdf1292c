package alerts

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// promtool tsdb create-blocks-from rules evaluates each rule against what
// the Prometheus it asks holds: a rule that reads another recording rule
// finds nothing until that rule's blocks are loaded. The shipped recording
// rules are therefore backfilled in passes, one file per level of
// dependency, each loaded before the next is run (README, "Backfilling
// history").
const backfillRulesHeader = `# GENERATED from alerts/wolkvox.rules.yml by:
#   go test ./alerts -run TestBackfillRules -update
# The shipped recording rules of one level of dependency, for
# promtool tsdb create-blocks-from rules (README: "Backfilling history").
# Backfill 1.yml, load its blocks, then 2.yml, and so on.
`

// bfFile and bfGroup are a rule file as the backfill's levels need it.
type bfFile struct {
	Groups []bfGroup `yaml:"groups"`
}

type bfGroup struct {
	Name  string           `yaml:"name"`
	Rules []map[string]any `yaml:"rules"`
}

// backfillLevels splits the shipped recording rules by dependency: level 1
// reads only the exporter's series, level n reads rules of levels below.
func backfillLevels(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f bfFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		name string
		body map[string]any
	}
	var recs []rec
	names := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if name, ok := r["record"].(string); ok {
				recs = append(recs, rec{name, r})
				names[name] = true
			}
		}
	}
	level := map[string]int{}
	var levelOf func(r rec) int
	levelOf = func(r rec) int {
		if l, ok := level[r.name]; ok {
			return l
		}
		l := 1
		expr := fmt.Sprint(r.body["expr"])
		for _, other := range recs {
			if other.name != r.name && regexp.MustCompile(`(^|[^a-zA-Z0-9_:])`+regexp.QuoteMeta(other.name)+`($|[^a-zA-Z0-9_:])`).MatchString(expr) {
				l = max(l, levelOf(other)+1)
			}
		}
		level[r.name] = l
		return l
	}
	top := 0
	for _, r := range recs {
		top = max(top, levelOf(r))
	}
	var out []string
	for n := 1; n <= top; n++ {
		var rules []map[string]any
		for _, r := range recs {
			if level[r.name] == n {
				rules = append(rules, r.body)
			}
		}
		y, err := yaml.Marshal(bfFile{Groups: []bfGroup{{Name: fmt.Sprintf("wolkvox.backfill.%d", n), Rules: rules}}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, backfillRulesHeader+string(y))
	}
	return out
}

// TestBackfillRules keeps alerts/backfill/N.yml in step with the shipped
// rules, and valid.
func TestBackfillRules(t *testing.T) {
	levels := backfillLevels(t)
	if len(levels) < 3 {
		t.Fatalf("%d levels: the spike score reads rules that read a rule", len(levels))
	}
	for i, want := range levels {
		path := filepath.Join("backfill", fmt.Sprintf("%d.yml", i+1))
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Fatalf("%s is not level %d of the shipped recording rules (%v); run: go test ./alerts -run TestBackfillRules -update", path, i+1, err)
		}
		promtool(t, "check", "rules", path)
	}
	if extra, _ := filepath.Glob(filepath.Join("backfill", "*.yml")); len(extra) != len(levels) {
		t.Errorf("alerts/backfill holds %d files, the rules have %d levels", len(extra), len(levels))
	}
	if !strings.Contains(levels[len(levels)-1], "rate15m_zscore") {
		t.Error("the spike score is not in the last level")
	}
}
