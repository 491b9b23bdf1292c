package ledger

import "sort"

// histogram accumulates observations for a constant histogram metric.
type Histogram struct {
	bounds []float64 // upper bounds, ascending, shared by all histograms of a metric
	counts []uint64  // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *Histogram) observe(v float64) {
	h.count++
	h.sum += v
	if i := sort.SearchFloat64s(h.bounds, v); i < len(h.bounds) {
		h.counts[i]++
	}
}

// Cumulative returns the buckets as client_golang's const histograms want them.
func (h *Histogram) Cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(h.bounds))
	for i, c := range h.CumulativeSlice() {
		out[h.bounds[i]] = c
	}
	return out
}

// CumulativeSlice returns the cumulative counts per bound, in order.
func (h *Histogram) CumulativeSlice() []uint64 {
	out := make([]uint64, len(h.bounds))
	var acc uint64
	for i := range h.bounds {
		acc += h.counts[i]
		out[i] = acc
	}
	return out
}

var (
	// Transfer legs last from seconds to hours.
	transferDurationBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}
	// Chats close in minutes, e-mails in hours or days.
	resolutionBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800}
	// The survey scale is undocumented; 1..10 covers the usual 1-5 and 1-10.
	surveyBuckets = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
)
