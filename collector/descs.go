package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
)

// Descs are the descriptors of the families an operation serves (counted
// data, what its ledger renders, its health), made from the catalogue
// with the operation as a constant label.
type Descs struct {
	byName map[string]*prometheus.Desc
	all    []*prometheus.Desc
}

// NewDescs returns an operation's descriptors; constLabels carry its
// operation label.
func NewDescs(constLabels prometheus.Labels) *Descs {
	return newDescs(constLabels, func(s ledger.Scope) bool { return s != ledger.ScopeExporter })
}

// ExporterDescs returns the descriptors of the exporter-wide families,
// which carry no operation label.
func ExporterDescs() *Descs {
	return newDescs(nil, func(s ledger.Scope) bool { return s == ledger.ScopeExporter })
}

func newDescs(constLabels prometheus.Labels, in func(ledger.Scope) bool) *Descs {
	d := &Descs{byName: map[string]*prometheus.Desc{}}
	for _, f := range ledger.Catalogue() {
		if !in(f.Scope) {
			continue
		}
		pd := prometheus.NewDesc(f.Name, f.Help, f.Labels, constLabels)
		d.byName[f.Name] = pd
		d.all = append(d.all, pd)
	}
	return d
}

// Of returns the descriptor of the family named name.
func (d *Descs) Of(name string) *prometheus.Desc { return d.byName[name] }

// LabelNames returns every label name the exporter's series carry:
// operation, le, quantile, and each family's own. A label added to
// backfilled series must not be one of them.
func LabelNames() map[string]bool {
	out := map[string]bool{"operation": true, "le": true, "quantile": true}
	for _, f := range ledger.Catalogue() {
		for _, l := range f.Labels {
			out[l] = true
		}
	}
	return out
}

// MetricNames returns the name of every series the exporter can serve,
// with the _bucket, _sum and _count series of histograms and summaries,
// and build_info. Tests check rules, dashboards and the README against
// it, so a renamed metric fails the build.
func MetricNames() map[string]string {
	out := map[string]string{ledger.BuildInfo: ledger.KindGauge}
	for _, f := range ledger.Catalogue() {
		out[f.Name] = f.Kind
		switch f.Kind {
		case ledger.KindHistogram:
			out[f.Name+"_bucket"] = f.Kind
			fallthrough
		case ledger.KindSummary:
			out[f.Name+"_sum"] = f.Kind
			out[f.Name+"_count"] = f.Kind
		}
	}
	return out
}
