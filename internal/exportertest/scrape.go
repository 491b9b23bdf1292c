package exportertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prebuilt is a collector of constant metrics built once: the cheapest
// possible way to serve a given set of series, and the baseline of the
// scrape benchmarks.
type Prebuilt []prometheus.Metric

// Describe sends the metrics' descriptors.
func (p Prebuilt) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(p, ch) }

// Collect sends the metrics.
func (p Prebuilt) Collect(ch chan<- prometheus.Metric) {
	for _, m := range p {
		ch <- m
	}
}

// ScrapeLoop benchmarks scrapes of reg through promhttp, as Prometheus
// would make them.
func ScrapeLoop(b *testing.B, reg *prometheus.Registry) {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
