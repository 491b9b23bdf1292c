package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

// panel is one of the shipped dashboard's panels, with its row.
type panel struct {
	Row, Title string
	Exprs      []string
}

// dashboardPanels returns every panel of the shipped dashboard that has
// queries, with the variables set as Grafana would with everything
// selected, and $__range as rangeExpr.
func dashboardPanels(t *testing.T, rangeExpr string) []panel {
	t.Helper()
	b, err := os.ReadFile("../dashboards/wolkvox-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$job", "wolkvox", "$instance", ".*", "$operation", ".*", "$skill", ".*", "$channel", ".*", "$__range", rangeExpr)
	var out []panel
	row := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			row = p.Title
			continue
		}
		pn := panel{Row: row, Title: p.Title}
		for _, tg := range p.Targets {
			pn.Exprs = append(pn.Exprs, vars.Replace(tg.Expr))
		}
		if len(pn.Exprs) > 0 {
			out = append(out, pn)
		}
	}
	return out
}

// mayBeEmpty are the panels allowed to show nothing in a short demo run,
// each with its reason.
var mayBeEmpty = map[string]string{
	"Poll failures by reason (per hour)":                "shows only failures (> 0), and the demo's API does not fail",
	"Lowest-scoring agents (10+ answers)":               "needs an agent with ten survey answers in the range; the demo spreads a few hundred answers over about sixty agents",
	"Share of closes by timeout, by agent (10+ closes)": "needs an agent with ten closes counted in the range; the demo's first read counts the day at once, which a range query cannot see as an increase, and after it no agent reaches ten closes in the short run that the five-minute range covers",
}

// TestEveryPanelHasData runs the demo's traffic into Debian's Prometheus,
// with the shipped rules shortened to seconds so that they warm up, then
// runs every panel's every query with the variables set and checks each
// returns at least one series; the panels allowed to be empty are listed
// with their reason.
func TestEveryPanelHasData(t *testing.T) {
	promBin := exportertest.RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	bin, err := exportertest.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	exporter := exportertest.Start(t, bin, nil, "--demo", "--poll.interval=2s", "--realtime.interval=2s")
	prom := startPromOnRules(t, promBin, dir, exporter.Addr, "")
	panels := dashboardPanels(t, "5m")
	if len(panels) < 20 {
		t.Fatalf("%d panels with queries", len(panels))
	}
	empty := func() []string {
		var out []string
		for _, p := range panels {
			if _, ok := mayBeEmpty[p.Title]; ok {
				continue
			}
			for _, e := range p.Exprs {
				if len(query(t, prom.Addr, e)) == 0 {
					out = append(out, p.Row+" / "+p.Title+": "+e)
				}
			}
		}
		return out
	}
	var last []string
	deadline := time.Now().Add(90 * time.Second)
	for last = empty(); len(last) > 0 && time.Now().Before(deadline); last = empty() {
		time.Sleep(2 * time.Second)
	}
	for _, e := range last {
		t.Errorf("no data: %s", e)
	}
	for title := range mayBeEmpty {
		found := false
		for _, p := range panels {
			found = found || p.Title == title
		}
		if !found {
			t.Errorf("mayBeEmpty lists %q, which is no panel", title)
		}
	}
}
