package collector

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// FuzzRecordsToMetrics feeds arbitrary responses through decoding,
// aggregation and rendering: whatever the API sends, rendering must not
// panic (invalid UTF-8 in a label would), counters must not go negative,
// and the output must still lint.
func FuzzRecordsToMetrics(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	f.Add(wolkvoxtest.TransfersResponse([]wolkvoxtest.RawTransfer{wolkvoxtest.NewTransfer(rng, t0, 1), {OriginAgentName: "MU\xd1OZ", Time: "99:99:99"}}))
	f.Add(wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{wolkvoxtest.NewInteraction(rng, t0, 1, 64), {Channel: "\xff\xfe", EvaluationSurvey: "1e308", Status: "close", CloseDate: "2020-01-01 00:00:00"}}))
	f.Add([]byte(`{"code":200,"data":[{"type_call":{"a":1},"skill_id":7,"agent_name":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l := ledger.New(ledger.Settings{AgentMetrics: true, AgentTTL: time.Hour, Interval: time.Minute, Revisit: time.Hour})
		end := t0
		var transfers []wolkvox.Transfer
		if _, err := wolkvox.DecodeTransfers(bytes.NewReader(body), bogota, 0, func(r wolkvox.Transfer) error {
			transfers = append(transfers, r)
			return nil
		}); err == nil {
			l.ApplyTransfers(transfers, end, map[uint64]string{})
		}
		var interactions []wolkvox.Interaction
		if _, err := wolkvox.DecodeInteractions(bytes.NewReader(body), bogota, 0, func(r wolkvox.Interaction) error {
			interactions = append(interactions, r)
			return nil
		}); err == nil {
			l.ApplyInteractions(interactions, end)
		}
		descs := NewDescs(nil)
		c := NewCollector(descs, nil)
		c.Publish(Render(l, end, ledger.RenderSettings{Interval: time.Minute, Revisit: time.Hour}, descs))
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if m.GetCounter().GetValue() < 0 {
					t.Fatalf("negative counter %s", mf.GetName())
				}
			}
		}
	})
}
