package backfill

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
)

// sampleRecorder is the ledger.Sink of a backfill: it turns each metric of a
// step into samples appended to a BlockSink, learning each series' labels
// once and remembering the sink's reference for it until the next block.
type sampleRecorder struct {
	sink  BlockSink
	at    int64 // the step's time, in milliseconds
	extra []Label
	le    func(float64) string
	// constLabels are the operation's; byFamily the series learned, by
	// family name, then by joined label values.
	constLabels []Label
	byFamily    map[string]map[string]*recordedSeries

	appended int // samples since the last flush
	block    int // flush's count, to forget series a block did not write
	day      int // begin's count, to count a day's series once each
	series   int // series written since begin
	err      error
}

// recordedSeries is one metric's series: one for a counter or gauge; each
// bucket, then _count and _sum, for a histogram; _count and _sum for a
// summary.
type recordedSeries struct {
	labels    [][]Label
	refs      []uint64
	day       int
	lastBlock int
}

func newSampleRecorder(operation string, extra map[string]string, prometheusMajor int) *sampleRecorder {
	r := &sampleRecorder{byFamily: map[string]map[string]*recordedSeries{}}
	if operation != "" {
		r.constLabels = []Label{{Name: "operation", Value: operation}}
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		r.extra = append(r.extra, Label{Name: name, Value: extra[name]})
	}
	// As Prometheus stores a classic histogram's le label from the live
	// exporter: it serves OpenMetrics, which Prometheus 2 and 3 both ask
	// for first, so both store an OpenMetrics float ("5.0"), as 3 also
	// normalises any other format to. (Before the exporter served
	// OpenMetrics, Prometheus 2 stored the text format's "5"; prometheusMajor
	// chose between them and no longer changes anything.)
	_ = prometheusMajor
	r.le = openMetricsFloat
	return r
}

// openMetricsFloat formats f as Prometheus 3 normalises le values: as Go's
// shortest form, with ".0" added where that has neither a dot nor an
// exponent.
func openMetricsFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if strings.ContainsAny(s, ".eIN") { // a fraction, an exponent, Inf or NaN
		return s
	}
	return s + ".0"
}

// begin starts a day written to sink.
func (r *sampleRecorder) begin(sink BlockSink) {
	r.sink, r.day, r.series, r.err = sink, r.day+1, 0, nil
}

// flush closes the block: the sink's references start again.
func (r *sampleRecorder) flush(ctx context.Context) error {
	if r.err != nil {
		return r.err
	}
	if r.appended == 0 {
		return nil
	}
	r.appended = 0
	// The sink's references end with the block. A series the block did
	// not write (an agent gone idle and forgotten by the ledger) is
	// forgotten too, or agents coming and going over a month would pile up.
	for d, m := range r.byFamily {
		for k, s := range m {
			if s.lastBlock != r.block {
				delete(m, k)
				continue
			}
			clear(s.refs)
		}
		if len(m) == 0 {
			delete(r.byFamily, d)
		}
	}
	r.block++
	return r.sink.Flush(ctx)
}

// Value records a counter's or a gauge's sample (ledger.Sink).
func (r *sampleRecorder) Value(f *ledger.Family, v float64, labels []string) {
	if s := r.get(f, nil, labels); s != nil {
		r.append(s, 0, v)
	}
}

// Histogram records a histogram's or a summary's samples (ledger.Sink).
func (r *sampleRecorder) Histogram(f *ledger.Family, h *ledger.Histogram, labels []string) {
	s := r.get(f, h, labels)
	if s == nil {
		return
	}
	n := 0
	for i, c := range h.CumulativeSlice() {
		r.append(s, i, float64(c))
		n++
	}
	if h.Bounds() != nil {
		r.append(s, n, float64(h.Count())) // +Inf
		n++
	}
	r.append(s, n, float64(h.Count()))
	r.append(s, n+1, h.Sum())
}

func (r *sampleRecorder) append(s *recordedSeries, i int, v float64) {
	if r.err != nil {
		return
	}
	ref, err := r.sink.Append(s.refs[i], s.labels[i], r.at, v)
	if err != nil {
		r.err = err
		return
	}
	s.refs[i] = ref
	r.appended++
}

// get returns the series of a family's label values, learning their
// labels the first time: the catalogue's names, the operation, and the
// backfill's own labels.
func (r *sampleRecorder) get(f *ledger.Family, h *ledger.Histogram, values []string) *recordedSeries {
	joined := strings.Join(values, "\xff")
	s := r.byFamily[f.Name][joined]
	if s == nil {
		s = &recordedSeries{}
		base := slices.Clone(r.constLabels)
		for i, v := range values {
			base = append(base, Label{Name: f.Labels[i], Value: v})
		}
		base = append(base, r.extra...)
		series := func(name string, more ...Label) {
			lbls := append(slices.Clone(base), Label{Name: "__name__", Value: name})
			lbls = append(lbls, more...)
			slices.SortFunc(lbls, func(x, y Label) int { return strings.Compare(x.Name, y.Name) })
			s.labels = append(s.labels, lbls)
		}
		switch {
		case h == nil:
			series(f.Name)
		default:
			for _, bound := range h.Bounds() {
				series(f.Name+"_bucket", Label{Name: "le", Value: r.le(bound)})
			}
			if h.Bounds() != nil {
				series(f.Name+"_bucket", Label{Name: "le", Value: "+Inf"})
			}
			series(f.Name + "_count")
			series(f.Name + "_sum")
		}
		s.refs = make([]uint64, len(s.labels))
		if r.byFamily[f.Name] == nil {
			r.byFamily[f.Name] = map[string]*recordedSeries{}
		}
		r.byFamily[f.Name][joined] = s
	}
	s.lastBlock = r.block
	if s.day != r.day {
		s.day = r.day
		r.series += len(s.labels)
	}
	return s
}
