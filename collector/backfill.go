package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Backfill replays an operation's history through the same ledger the
// live poller uses, and writes what a scrape every step would have seen as
// OpenMetrics, for promtool tsdb create-blocks-from openmetrics. Each
// increment lands at the time its record says it happened (a transfer's
// date; a case's creation, and its close, survey and typification at the
// close date), not when it was fetched. Its state file is the live
// exporter's: started on it, the exporter continues every counter from
// the backfilled value and reads on from the backfill's end.
type Backfill struct {
	p      *Poller
	labels []*dto.LabelPair // extra labels, e.g. job and instance
}

// DayStats says what one day of backfill cost and held.
type DayStats struct {
	Calls, Records int
	Series         int
}

// NewBackfill returns a backfill for cfg, whose StateFile must be set: it
// is the checkpoint and the live exporter's starting point. labels are
// added to every series, so backfilled series are the live scrape's.
func NewBackfill(cfg Config, labels map[string]string) (*Backfill, error) {
	if cfg.StateFile == "" {
		return nil, errors.New("backfill needs a state file")
	}
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	b := &Backfill{p: p}
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		b.labels = append(b.labels, &dto.LabelPair{Name: &name, Value: ref(labels[name])})
	}
	return b, nil
}

func ref[T any](v T) *T { return &v }

// Close releases the state file.
func (b *Backfill) Close() error { return b.p.Close() }

// Mark returns where the backfill has got to for both reports (the
// earlier), or the zero time when it has not started.
func (b *Backfill) Mark() time.Time {
	t, c := b.p.ledger.marks[wolkvox.ReportTransfers], b.p.ledger.marks[wolkvox.ReportInteractions]
	if t.IsZero() || c.IsZero() {
		return time.Time{}
	}
	if c.Before(t) {
		return c
	}
	return t
}

// Origin returns where the state file's history starts: a backfill's
// --from, or the first window of a live exporter that ran first.
func (b *Backfill) Origin() time.Time {
	t, c := b.p.ledger.origins[wolkvox.ReportTransfers], b.p.ledger.origins[wolkvox.ReportInteractions]
	if c.Before(t) {
		return c
	}
	return t
}

// Start sets where a fresh backfill begins: from is the first second read.
func (b *Backfill) Start(from time.Time) {
	for _, r := range wolkvox.Reports {
		b.p.ledger.marks[r] = from.Add(-time.Second)
		b.p.ledger.origins[r] = from
	}
}

// event is one record to apply at a time.
type event struct {
	at          time.Time
	transfer    *wolkvox.Transfer
	interaction *wolkvox.Interaction
}

// Day backfills (mark, end]: it fetches both reports whole (all or
// nothing: a failure writes nothing), replays their records at their own
// times, and writes a sample of every series every step to w. Commit then
// moves the checkpoint.
func (b *Backfill) Day(ctx context.Context, end time.Time, step time.Duration, flush func(blockEnd time.Time, write func(io.Writer) error) error) (DayStats, error) {
	var st DayStats
	l := b.p.ledger
	start := b.Mark()
	window := wolkvox.Window{Start: start.Add(time.Second), End: end}
	b.p.purpose = purposeNew
	var events []event
	stats, err := b.p.client.FetchTransfers(ctx, window, func(_ wolkvox.Window, recs []wolkvox.Transfer) error {
		for i := range recs {
			t := &recs[i]
			events = append(events, event{at: orTime(t.Date, window.End), transfer: t})
		}
		return nil
	})
	st.Calls += stats.Calls
	if err != nil {
		return st, err
	}
	stats, err = b.p.client.FetchInteractions(ctx, window, func(_ wolkvox.Window, recs []wolkvox.Interaction) error {
		for i := range recs {
			events = append(events, caseEvents(&recs[i], window.End)...)
		}
		return nil
	})
	st.Calls += stats.Calls
	if err != nil {
		return st, err
	}
	st.Records = len(events)
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })

	// The samples are written a block (2 h, as Prometheus aligns them) at
	// a time: memory holds one block's samples, and each file makes one
	// block that overlaps no other.
	rec := newOMRecorder(b.labels)
	seen := map[string]bool{}
	writeBlock := func(blockEnd time.Time) error {
		if len(rec.order) == 0 {
			return nil
		}
		for _, k := range rec.order {
			seen[k] = true
		}
		err := flush(blockEnd, rec.write)
		rec.reset()
		return err
	}
	next := 0
	first := start.Truncate(step).Add(step)
	blockEnd := first.Truncate(omBlock).Add(omBlock)
	for t := first; !t.After(end); t = t.Add(step) {
		// A block is [start, end): a sample on the boundary is the next
		// block's, or promtool would make a block of that one sample.
		if !t.Before(blockEnd) {
			if err := writeBlock(blockEnd); err != nil {
				return st, err
			}
			blockEnd = blockEnd.Add(omBlock)
		}
		for ; next < len(events) && !events[next].at.After(t); next++ {
			b.apply(&events[next], t)
		}
		if b.p.cfg.AgentMetrics {
			l.agg.forgetIdleAgents(t)
		}
		rec.at = t.Unix()
		l.emit(t, renderSettings{interval: b.p.cfg.Interval, revisit: b.p.cfg.Revisit, dailyQuota: b.p.cfg.DailyQuota}, b.p.descs, rec)
		if rec.err != nil {
			return st, rec.err
		}
	}
	for ; next < len(events); next++ { // a record dated after end (a clock ahead): counted at the end
		b.apply(&events[next], end)
	}
	if err := writeBlock(blockEnd); err != nil {
		return st, err
	}
	st.Series = len(seen)
	return st, nil
}

// omBlock is the span of one OpenMetrics file: Prometheus's block length,
// and its alignment.
const omBlock = 2 * time.Hour

// Commit records that everything up to end is written: the checkpoint,
// and the live exporter's starting point. Call it once the day's output
// is safely on disk.
func (b *Backfill) Commit(end time.Time) error {
	l := b.p.ledger
	for _, r := range wolkvox.Reports {
		l.marks[r] = end
	}
	l.prune(end)
	failures := b.p.health.stateSaveFailures
	b.p.save(end)
	if b.p.health.stateSaveFailures > failures {
		return errors.New("could not save the checkpoint state file; see the log")
	}
	return nil
}

func (b *Backfill) apply(e *event, seen time.Time) {
	l := b.p.ledger
	if e.transfer != nil {
		l.agg.applyTransfers(l.transfers, []wolkvox.Transfer{*e.transfer}, seen, map[uint64]string{})
		return
	}
	l.agg.applyInteractions(l.cases, []wolkvox.Interaction{*e.interaction}, seen)
}

func orTime(t, fallback time.Time) time.Time {
	if t.IsZero() {
		return fallback
	}
	return t
}

// caseEvents splits a case, read as it stands now, into what happened
// when: created (open, as it was then), and closed with its survey and
// typification at the close date. A case archived without a close, or
// still open, is one event at its creation, as it stands.
func caseEvents(c *wolkvox.Interaction, fallback time.Time) []event {
	created := orTime(c.Created, fallback)
	if c.Status != "close" || c.Closed.IsZero() {
		return []event{{at: created, interaction: c}}
	}
	open := *c
	open.Status, open.Closed, open.HasSurvey, open.Survey, open.CodAct, open.CodDescription = "open", time.Time{}, false, 0, "", ""
	open.Invalid = 0 // counted once, with the full record
	return []event{{at: created, interaction: &open}, {at: c.Closed, interaction: c}}
}

// omSeries is one series' samples, in time order.
type omSeries struct {
	family, kind string
	name         string // the sample name, for counters and gauges
	labels       string // rendered, without braces and without le
	ats          []int64
	values       []float64
	hist         []omHistogram // histograms and summaries
}

type omHistogram struct {
	bounds     []float64 // shared
	cumulative []uint64
	count      uint64
	sum        float64
}

// omRecorder is the emitter of a backfill: it keeps each series'
// samples, with its labels rendered once.
type omRecorder struct {
	at     int64
	series map[*prometheus.Desc]map[string]*omSeries // by joined label values
	order  []string
	byKey  map[string]*omSeries
	names  map[*prometheus.Desc]*descLabels
	extra  []*dto.LabelPair
	err    error
}

func newOMRecorder(extra []*dto.LabelPair) *omRecorder {
	r := &omRecorder{names: map[*prometheus.Desc]*descLabels{}, extra: extra}
	r.reset()
	return r
}

// reset forgets the samples written, keeping what it learned of labels.
func (r *omRecorder) reset() {
	r.series = map[*prometheus.Desc]map[string]*omSeries{}
	r.byKey = map[string]*omSeries{}
	r.order = nil
}

func (r *omRecorder) write(w io.Writer) error { return writeOpenMetrics(w, r.byKey, r.order) }

// descLabels is what a descriptor's series are named and labelled with.
type descLabels struct {
	name        string
	constLabels []*dto.LabelPair
	variable    []string
}

// labelsOf learns a descriptor's name, constant and variable labels once,
// from one metric of it with a sentinel for each variable label's value
// (client_golang keeps a descriptor's labels unexported).
func (r *omRecorder) labelsOf(d *prometheus.Desc, t prometheus.ValueType, histogram bool, values []string) *descLabels {
	if dl := r.names[d]; dl != nil {
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
		dl.constLabels = append(dl.constLabels, lp)
	}
	r.names[d] = dl
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

func (r *omRecorder) key(dl *descLabels, values []string) (string, string) {
	pairs := slices.Clone(dl.constLabels)
	for i, v := range values {
		pairs = append(pairs, &dto.LabelPair{Name: &dl.variable[i], Value: ref(v)})
	}
	pairs = append(pairs, r.extra...)
	slices.SortFunc(pairs, func(x, y *dto.LabelPair) int { return strings.Compare(x.GetName(), y.GetName()) })
	labels := renderLabels(pairs)
	return dl.name + labels, labels
}

func (r *omRecorder) get(d *prometheus.Desc, t prometheus.ValueType, histogram bool, values []string, kind string) *omSeries {
	joined := joinLabels(values)
	if s := r.series[d][joined]; s != nil {
		return s
	}
	dl := r.labelsOf(d, t, histogram, values)
	if dl == nil {
		return nil
	}
	key, labels := r.key(dl, values)
	s := &omSeries{family: dl.name, name: dl.name, labels: labels, kind: kind}
	if kind == "counter" {
		s.family = strings.TrimSuffix(dl.name, "_total")
	}
	if r.series[d] == nil {
		r.series[d] = map[string]*omSeries{}
	}
	r.series[d][joined] = s
	r.byKey[key] = s
	r.order = append(r.order, key)
	return s
}

func (r *omRecorder) value(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	kind := "gauge"
	if t == prometheus.CounterValue {
		kind = "counter"
	}
	if s := r.get(d, t, false, labels, kind); s != nil {
		s.ats = append(s.ats, r.at)
		s.values = append(s.values, v)
	}
}

func (r *omRecorder) histogram(d *prometheus.Desc, h *histogram, labels []string) {
	kind := "histogram"
	if h.bounds == nil {
		kind = "summary"
	}
	if s := r.get(d, prometheus.UntypedValue, true, labels, kind); s != nil {
		s.ats = append(s.ats, r.at)
		s.hist = append(s.hist, omHistogram{bounds: h.bounds, cumulative: h.cumulativeSlice(), count: h.count, sum: h.sum})
	}
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func renderLabels(pairs []*dto.LabelPair) string {
	var b strings.Builder
	for i, lp := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(lp.GetName())
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(lp.GetValue()))
		b.WriteByte('"')
	}
	return b.String()
}

func withLabel(labels, extra string) string {
	if labels == "" {
		return "{" + extra + "}"
	}
	return "{" + labels + "," + extra + "}"
}

func braces(labels string) string {
	if labels == "" {
		return ""
	}
	return "{" + labels + "}"
}

// writeOpenMetrics writes the series family by family, each series'
// samples together and in time order, as OpenMetrics requires.
func writeOpenMetrics(w io.Writer, series map[string]*omSeries, order []string) error {
	families := map[string][]*omSeries{}
	var names []string
	for _, key := range order {
		s := series[key]
		if _, ok := families[s.family]; !ok {
			names = append(names, s.family)
		}
		families[s.family] = append(families[s.family], s)
	}
	slices.Sort(names)
	bw := &errWriter{w: w}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, family := range names {
		group := families[family]
		fmt.Fprintf(bw, "# TYPE %s %s\n", family, group[0].kind)
		for _, s := range group {
			for i, at := range s.ats {
				ts := strconv.FormatInt(at, 10)
				switch s.kind {
				case "counter", "gauge":
					fmt.Fprintf(bw, "%s%s %s %s\n", s.name, braces(s.labels), f(s.values[i]), ts)
				case "histogram":
					h := s.hist[i]
					for j, bound := range h.bounds {
						fmt.Fprintf(bw, "%s_bucket%s %d %s\n", family, withLabel(s.labels, `le="`+f(bound)+`"`), h.cumulative[j], ts)
					}
					fmt.Fprintf(bw, "%s_bucket%s %d %s\n", family, withLabel(s.labels, `le="+Inf"`), h.count, ts)
					fmt.Fprintf(bw, "%s_count%s %d %s\n", family, braces(s.labels), h.count, ts)
					fmt.Fprintf(bw, "%s_sum%s %s %s\n", family, braces(s.labels), f(h.sum), ts)
				case "summary":
					h := s.hist[i]
					fmt.Fprintf(bw, "%s_count%s %d %s\n", family, braces(s.labels), h.count, ts)
					fmt.Fprintf(bw, "%s_sum%s %s %s\n", family, braces(s.labels), f(h.sum), ts)
				}
			}
		}
	}
	fmt.Fprint(bw, "# EOF\n")
	return bw.err
}

// errWriter keeps the first write error, so the writing above reads plain.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
