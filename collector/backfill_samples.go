package collector

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sampleRecorder is the emitter of a backfill: it turns each metric of a
// step into samples appended to a BlockSink, learning each series' labels
// once and remembering the sink's reference for it until the next block.
type sampleRecorder struct {
	sink   BlockSink
	at     int64 // the step's time, in milliseconds
	extra  []Label
	le     func(float64) string
	descs  map[*prometheus.Desc]*descLabels
	byDesc map[*prometheus.Desc]map[string]*recordedSeries // by joined label values

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

func newSampleRecorder(extra map[string]string, prometheusMajor int) *sampleRecorder {
	r := &sampleRecorder{descs: map[*prometheus.Desc]*descLabels{}, byDesc: map[*prometheus.Desc]map[string]*recordedSeries{}}
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
	for d, m := range r.byDesc {
		for k, s := range m {
			if s.lastBlock != r.block {
				delete(m, k)
				continue
			}
			clear(s.refs)
		}
		if len(m) == 0 {
			delete(r.byDesc, d)
		}
	}
	r.block++
	return r.sink.Flush(ctx)
}

func (r *sampleRecorder) value(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	if s := r.get(d, t, nil, labels); s != nil {
		r.append(s, 0, v)
	}
}

func (r *sampleRecorder) histogram(d *prometheus.Desc, h *histogram, labels []string) {
	s := r.get(d, prometheus.UntypedValue, h, labels)
	if s == nil {
		return
	}
	var acc uint64
	for i := range h.bounds {
		acc += h.counts[i]
		r.append(s, i, float64(acc))
	}
	n := len(h.bounds)
	if h.bounds != nil {
		r.append(s, n, float64(h.count)) // +Inf
		n++
	}
	r.append(s, n, float64(h.count))
	r.append(s, n+1, h.sum)
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

// get returns the series of a metric, learning their labels the first time.
func (r *sampleRecorder) get(d *prometheus.Desc, t prometheus.ValueType, h *histogram, values []string) *recordedSeries {
	joined := joinLabels(values)
	s := r.byDesc[d][joined]
	if s == nil {
		dl := r.labelsOf(d, t, h != nil, values)
		if dl == nil {
			return nil
		}
		s = &recordedSeries{}
		base := slices.Clone(dl.constLabels)
		for i, v := range values {
			base = append(base, Label{Name: dl.variable[i], Value: v})
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
			series(dl.name)
		default:
			for _, bound := range h.bounds {
				series(dl.name+"_bucket", Label{Name: "le", Value: r.le(bound)})
			}
			if h.bounds != nil {
				series(dl.name+"_bucket", Label{Name: "le", Value: "+Inf"})
			}
			series(dl.name + "_count")
			series(dl.name + "_sum")
		}
		s.refs = make([]uint64, len(s.labels))
		if r.byDesc[d] == nil {
			r.byDesc[d] = map[string]*recordedSeries{}
		}
		r.byDesc[d][joined] = s
	}
	s.lastBlock = r.block
	if s.day != r.day {
		s.day = r.day
		r.series += len(s.labels)
	}
	return s
}

// descLabels is what a descriptor's series are named and labelled with.
type descLabels struct {
	name        string
	constLabels []Label
	variable    []string
}

// labelsOf learns a descriptor's name, constant and variable labels once,
// from one metric of it with a sentinel for each variable label's value
// (client_golang keeps a descriptor's labels unexported).
func (r *sampleRecorder) labelsOf(d *prometheus.Desc, t prometheus.ValueType, histogram bool, values []string) *descLabels {
	if dl := r.descs[d]; dl != nil {
		return dl
	}
	sentinels := make([]string, len(values))
	for i := range sentinels {
		sentinels[i] = "\x00" + strconv.Itoa(i)
	}
	var m prometheus.Metric
	var err error
	if histogram {
		m, err = prometheus.NewConstHistogram(d, 0, 0, nil, sentinels...)
	} else {
		m, err = prometheus.NewConstMetric(d, t, 0, sentinels...)
	}
	var pb dto.Metric
	if err == nil {
		err = m.Write(&pb)
	}
	if err != nil {
		r.err = err
		return nil
	}
	dl := &descLabels{name: descName(d), variable: make([]string, len(values))}
	for _, lp := range pb.GetLabel() {
		if v := lp.GetValue(); strings.HasPrefix(v, "\x00") {
			i, _ := strconv.Atoi(v[1:])
			dl.variable[i] = lp.GetName()
			continue
		}
		dl.constLabels = append(dl.constLabels, Label{Name: lp.GetName(), Value: lp.GetValue()})
	}
	r.descs[d] = dl
	return dl
}

// descName reads a descriptor's fully-qualified name: client_golang keeps
// it unexported, but its String form starts with it.
func descName(d *prometheus.Desc) string {
	s := strings.TrimPrefix(d.String(), `Desc{fqName: "`)
	if i := strings.IndexByte(s, '"'); i >= 0 {
		return s[:i]
	}
	return s
}
