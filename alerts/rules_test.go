// Package alerts holds no Go code: its tests check the Prometheus rules in
// this directory, the dashboard in ../dashboards and the README against the
// exporter's metric catalogue, with promtool.
package alerts

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

const rulesFile = "wolkvox.rules.yml"

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := exportertest.RequireTool(t, "promtool", "prometheus")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool(t, "check", "rules", rulesFile)
}

func TestPromtoolUnitTests(t *testing.T) {
	tests, _ := filepath.Glob("tests/*.yml")
	if len(tests) == 0 {
		t.Fatal("no rule unit tests in alerts/tests")
	}
	out := promtool(t, append([]string{"test", "rules"}, tests...)...)
	if strings.Count(out, "SUCCESS") != len(tests) {
		t.Errorf("not every test file succeeded:\n%s", out)
	}
}

var requiredAlerts = []string{
	"WolkvoxTransferSpike", "WolkvoxConferenceSpike", "WolkvoxExporterDown", "WolkvoxReportFailing",
	"WolkvoxReportStale", "WolkvoxReportEmpty", "WolkvoxQuotaBurn", "WolkvoxChatBacklogHigh", "WolkvoxSurveyScoreLow",
	"WolkvoxChatOldestOpenCase", "WolkvoxStateSaveFailing", "WolkvoxConfigReloadFailed",
	"WolkvoxQueueBackingUp", "WolkvoxServiceLevelBelowTarget", "WolkvoxAbandonRateHigh", "WolkvoxChatOpenPastTarget",
	"WolkvoxChatFollowBehind",
}

func TestEveryAlertIsDocumentedAndTested(t *testing.T) {
	runbook, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	var unitTests strings.Builder
	files, _ := filepath.Glob("tests/*.yml")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		unitTests.Write(b)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]rule{}
	for _, r := range loadRules(t) {
		if r.Alert != "" {
			alerts[r.Alert] = r
		}
	}
	for _, name := range requiredAlerts {
		r, ok := alerts[name]
		if !ok {
			t.Errorf("alert %s is missing", name)
			continue
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q", name, s)
		}
		if r.Annotations["summary"] == "" || !strings.Contains(r.Annotations["description"], "{{") {
			t.Errorf("%s: needs a summary and a description that shows the figures", name)
		}
		anchor := strings.ToLower(name)
		if !strings.HasSuffix(r.Annotations["runbook_url"], "/alerts/RUNBOOK.md#"+anchor) {
			t.Errorf("%s: runbook_url %q does not point at its RUNBOOK.md section", name, r.Annotations["runbook_url"])
		}
		if !strings.Contains(string(runbook), "\n## "+name+"\n") {
			t.Errorf("RUNBOOK.md has no section %q", name)
		}
		if !strings.Contains(unitTests.String(), "alertname: "+name) {
			t.Errorf("%s has no promtool unit test", name)
		}
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("the README's alert table lacks %s", name)
		}
	}
	if len(alerts) != len(requiredAlerts) {
		t.Errorf("%d alerts, want %d: update requiredAlerts with the new one", len(alerts), len(requiredAlerts))
	}
}

// metricRef finds metric names in PromQL: wolkvox_… not preceded by a name
// character or a colon (so the middle of a recording rule's name does not
// count), and recorded names with colons.
var (
	metricRef   = regexp.MustCompile(`(?:^|[^a-zA-Z0-9_:])(wolkvox_[a-zA-Z0-9_]+)`)
	recordedRef = regexp.MustCompile(`[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+`)
)

// checkNames fails for any metric an expression names that the exporter
// does not serve, or any recorded series the rules do not record.
func checkNames(t *testing.T, where, expr string, recorded map[string]bool) {
	t.Helper()
	catalogue := collector.MetricNames()
	stripped := regexp.MustCompile(`"[^"]*"`).ReplaceAllString(expr, `""`) // label values are no names
	for _, m := range metricRef.FindAllStringSubmatch(stripped, -1) {
		if _, ok := catalogue[m[1]]; !ok {
			t.Errorf("%s names %s, which the exporter does not serve", where, m[1])
		}
	}
	for _, m := range recordedRef.FindAllString(stripped, -1) {
		if !recorded[m] {
			t.Errorf("%s uses %s, which no rule records", where, m)
		}
	}
}

func recordedNames(rules []rule) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			out[r.Record] = true
		}
	}
	return out
}

func TestRulesNameOnlyServedMetrics(t *testing.T) {
	rules := loadRules(t)
	recorded := recordedNames(rules)
	for _, r := range rules {
		checkNames(t, "rule "+r.Record+r.Alert, r.Expr, recorded)
		for k, a := range r.Annotations {
			// Only the queries templates run (in backquotes) are PromQL.
			for _, q := range regexp.MustCompile("`([^`]*)`").FindAllStringSubmatch(a, -1) {
				checkNames(t, fmt.Sprintf("annotation %s of %s", k, r.Alert), q[1], recorded)
			}
		}
	}
}

// TestREADMEMetricsTableMatchesTheCatalogue keeps the README's table of
// metrics and the exporter in step, both ways.
func TestREADMEMetricsTableMatchesTheCatalogue(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(wolkvox_[a-z0-9_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		inTable[m[1]] = true
	}
	catalogue := collector.MetricNames()
	var missing []string
	for name, kind := range catalogue {
		base := name
		if kind == "histogram" || kind == "summary" {
			base = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		}
		if !inTable[base] {
			missing = append(missing, base)
		}
	}
	for name := range inTable {
		if _, ok := catalogue[name]; !ok {
			t.Errorf("the README lists %s, which the exporter does not serve", name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the README's metrics table lacks %v", missing)
	}
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../dashboards/wolkvox-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				Y int
			} `json:"gridPos"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	// A row owns the panels listed after it (Grafana's collapse, and the
	// tests that check panels row by row), so each panel is listed under
	// the row it is shown under.
	listedUnder := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			listedUnder = p.Title
			continue
		}
		shownUnder, top := "", -1
		for _, r := range d.Panels {
			if r.Type == "row" && r.GridPos.Y < p.GridPos.Y && r.GridPos.Y > top {
				shownUnder, top = r.Title, r.GridPos.Y
			}
		}
		if shownUnder != listedUnder {
			t.Errorf("panel %q is shown under row %q but listed under %q", p.Title, shownUnder, listedUnder)
		}
	}
	if d.SchemaVersion < 38 {
		t.Errorf("schemaVersion %d: Grafana 10 needs 38 or later", d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	for _, want := range []string{"datasource", "job", "instance", "operation", "skill", "channel"} {
		if _, ok := vars[want]; !ok {
			t.Errorf("no template variable %q", want)
		}
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("the datasource variable is of type %q", vars["datasource"])
	}
	spikeAnnotation := false
	for _, a := range d.Annotations.List {
		spikeAnnotation = spikeAnnotation || strings.Contains(a.Expr, `alertname="WolkvoxTransferSpike"`)
	}
	if !spikeAnnotation {
		t.Error("no annotation for fired WolkvoxTransferSpike alerts")
	}
	// No hard-coded datasource: every uid is the variable or Grafana's own.
	for _, m := range regexp.MustCompile(`"uid":\s*"([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
		if m[1] != "${datasource}" && m[1] != "-- Grafana --" && m[1] != "wolkvox-overview" {
			t.Errorf("hard-coded datasource uid %q", m[1])
		}
	}

	// Every PromQL expression parses and names only served or recorded series.
	exprs := dashboardExprs(t, b)
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	recorded := recordedNames(loadRules(t))
	grafana := strings.NewReplacer("$__range", "1h", "$__rate_interval", "1m", "$__interval", "1m",
		"$job", "wolkvox", "$instance", ".*", "$operation", ".*", "$skill", ".*", "$channel", ".*")
	var file strings.Builder
	file.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		if strings.Contains(e, "label_values(") {
			continue // a variable's query, not PromQL
		}
		e = grafana.Replace(e)
		if strings.Contains(e, "$") {
			t.Errorf("expression %d uses an unknown variable: %s", i, e)
		}
		checkNames(t, fmt.Sprintf("dashboard expression %d", i), e, recorded)
		js, _ := json.Marshal(e)
		fmt.Fprintf(&file, "      - record: dashboard_expr_%d\n        expr: %s\n", i, js)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", path)
}

// dashboardExprs returns every "expr" and variable "query" in the JSON.
func dashboardExprs(t *testing.T, b []byte) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || (k == "query" && strings.Contains(s, "("))) {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}
