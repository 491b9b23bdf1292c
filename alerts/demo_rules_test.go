package alerts

import (
	"flag"
	"os"
	"testing"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

var update = flag.Bool("update", false, "rewrite "+demoRulesFile+" from the shipped rules")

const demoRulesFile = "../examples/demo/wolkvox.rules.yml"

const demoRulesHeader = `# GENERATED from alerts/wolkvox.rules.yml for the --demo stack in
# examples/docker-compose.yml, by: go test ./alerts -run TestDemoRules -update
# Do not edit, and do not use against a real operation: every time range is
# shortened (15-minute rates to 2 minutes, the 2-hour baseline to 20 minutes,
# the 30-minute warm-up to 3, every for: to 1m) so that the demo's transfer
# spikes fire WolkvoxTransferSpike within minutes rather than hours.
`

// demoRules shortens the shipped rules to the demo's pace: polls every 15 s,
// scrapes every 30 s, a spike of one skill for 4 minutes every half hour.
func demoRules(t *testing.T) string {
	t.Helper()
	shipped, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exportertest.ShortenRules(string(shipped), "1m",
		"[15m]", "[2m]", "[2h] offset 15m", "[20m] offset 2m", "[20m]", "[3m]", "[1h]", "[10m]",
		"* 900", "* 120", // legs in the rate window
		"vector(1800)", "vector(180)", // warm-up seconds
	)
	if err != nil {
		t.Fatal(err)
	}
	return demoRulesHeader + out
}

// TestDemoRules keeps the demo's copy of the rules in step with the shipped
// ones, and valid.
func TestDemoRules(t *testing.T) {
	want := demoRules(t)
	if *update {
		if err := os.WriteFile(demoRulesFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(demoRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not the shipped rules shortened for the demo; run: go test ./alerts -run TestDemoRules -update", demoRulesFile)
	}
	promtool(t, "check", "rules", demoRulesFile)
}
