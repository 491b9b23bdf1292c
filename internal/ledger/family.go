package ledger

import "strings"

// labelSep joins label values into one map key. It cannot occur in a
// label value: the decoder hands out valid UTF-8 only, and 0xff never is.
const labelSep = "\xff"

func joinLabels(values []string) string { return strings.Join(values, labelSep) }

func splitLabels(key string) []string { return strings.Split(key, labelSep) }

// DefaultMaxSeriesPerMetric bounds the label combinations of each metric
// family. A real operation (500 agents, 2 roles, 8 type_calls) needs about
// 8,000 for the largest; the bound is there to survive a broken response.
const DefaultMaxSeriesPerMetric = 20000

// seriesCap sends the label combinations of one family beyond max into a
// single combination whose every label is "other", and counts what it sent.
type seriesCap struct {
	max      int
	overflow float64 // observations sent to the "other" combination
}

// key returns the map key for values in a family that already holds n
// combinations. The all-"other" combination is one of the max.
func (c *seriesCap) key(values []string, exists func(string) bool, n int) string {
	k := joinLabels(values)
	if exists(k) || n < c.max-1 {
		return k
	}
	c.overflow++
	others := make([]string, len(values))
	for i := range others {
		others[i] = otherLabel
	}
	return joinLabels(others)
}

// counterFamily is one counter metric: a value per label combination.
type counterFamily struct {
	seriesCap
	values map[string]float64
}

func newCounterFamily(max int) *counterFamily {
	return &counterFamily{seriesCap: seriesCap{max: max}, values: map[string]float64{}}
}

func (f *counterFamily) add(v float64, labels ...string) {
	k := f.key(labels, func(k string) bool { _, ok := f.values[k]; return ok }, len(f.values))
	f.values[k] += v
}

// touch makes the combination exist at its current value (0 if new), so
// that rate() sees its first increase.
func (f *counterFamily) touch(labels ...string) {
	// A zero is no observation: at the cap it is left out, not counted as
	// an overflow.
	k := joinLabels(labels)
	if _, ok := f.values[k]; ok || len(f.values) < f.max-1 {
		f.values[k] += 0
	}
}

// histogramFamily is one histogram (or count-and-sum summary) metric.
type histogramFamily struct {
	seriesCap
	bounds []float64
	values map[string]*Histogram
}

func newHistogramFamily(max int, bounds []float64) *histogramFamily {
	return &histogramFamily{seriesCap: seriesCap{max: max}, bounds: bounds, values: map[string]*Histogram{}}
}

func (f *histogramFamily) observe(v float64, labels ...string) { f.get(labels...).observe(v) }

func (f *histogramFamily) get(labels ...string) *Histogram {
	k := f.key(labels, func(k string) bool { _, ok := f.values[k]; return ok }, len(f.values))
	h := f.values[k]
	if h == nil {
		h = newHistogram(f.bounds)
		f.values[k] = h
	}
	return h
}

// forgetLabels drops every combination whose label i is a value that
// values maps to true.
func forgetLabels[V any](m map[string]V, i int, values map[string]bool) {
	if len(values) == 0 {
		return
	}
	for k := range m {
		if values[splitLabels(k)[i]] {
			delete(m, k)
		}
	}
}
