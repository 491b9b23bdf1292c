package main

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

const openMetricsAccept = "application/openmetrics-text; version=1.0.0"

// scrape fetches the metrics with an Accept header and returns the
// Content-Type and the body.
func scrape(t *testing.T, p *exportertest.Process, accept string) (string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.Addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics (Accept %q): %d", accept, resp.StatusCode)
	}
	return resp.Header.Get("Content-Type"), body
}

// sampleKey names a sample by its series, its labels sorted; le and
// quantile are normalised as numbers, since the text format writes le="5"
// where OpenMetrics writes le="5.0".
func sampleKey(name string, lbls map[string]string) string {
	names := make([]string, 0, len(lbls))
	for n := range lbls {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(name)
	for _, n := range names {
		v := lbls[n]
		if n == "le" || n == "quantile" {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		b.WriteString("," + n + "=" + strconv.Quote(v))
	}
	return b.String()
}

// textSamples parses the text format with Prometheus's expfmt parser.
func textSamples(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("text format does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			lbls := map[string]string{}
			for _, lp := range m.GetLabel() {
				lbls[lp.GetName()] = lp.GetValue()
			}
			with := func(extra, value string) map[string]string {
				l := map[string]string{extra: value}
				for k, v := range lbls {
					l[k] = v
				}
				return l
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[sampleKey(name, lbls)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[sampleKey(name, lbls)] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[sampleKey(name, lbls)] = m.GetUntyped().GetValue()
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					out[sampleKey(name, with("quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)))] = q.GetValue()
				}
				out[sampleKey(name+"_sum", lbls)] = s.GetSampleSum()
				out[sampleKey(name+"_count", lbls)] = float64(s.GetSampleCount())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, bkt := range h.GetBucket() {
					out[sampleKey(name+"_bucket", with("le", strconv.FormatFloat(bkt.GetUpperBound(), 'g', -1, 64)))] = float64(bkt.GetCumulativeCount())
				}
				out[sampleKey(name+"_bucket", with("le", "+Inf"))] = float64(h.GetSampleCount())
				out[sampleKey(name+"_sum", lbls)] = h.GetSampleSum()
				out[sampleKey(name+"_count", lbls)] = float64(h.GetSampleCount())
			default:
				t.Fatalf("%s: unexpected type %v", name, mf.GetType())
			}
		}
	}
	return out
}

// openMetricsSamples parses OpenMetrics with Prometheus's own scrape
// parser, which refuses a body without its closing # EOF.
func openMetricsSamples(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	p := textparse.NewOpenMetricsParser(body, labels.NewSymbolTable())
	out := map[string]float64{}
	var lset labels.Labels
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("OpenMetrics does not parse: %v", err)
		}
		if entry != textparse.EntrySeries {
			continue
		}
		_, _, v := p.Series()
		p.Labels(&lset)
		lbls := map[string]string{}
		lset.Range(func(l labels.Label) {
			if l.Name != model.MetricNameLabel {
				lbls[l.Name] = l.Value
			}
		})
		out[sampleKey(lset.Get(model.MetricNameLabel), lbls)] = v
	}
	return out
}

// volatile samples change between two scrapes a moment apart: the
// process's and the Go runtime's, and the handler's count of scrapes.
func volatile(key string) bool {
	return strings.HasPrefix(key, "process_") || strings.HasPrefix(key, "go_") || strings.HasPrefix(key, "promhttp_")
}

// stillBetween: two scrapes agree on every sample but the process's own.
func stillBetween(a, b map[string]float64) bool {
	for key, v := range a {
		if w, ok := b[key]; !volatile(key) && (!ok || (v != w && !(math.IsNaN(v) && math.IsNaN(w)))) {
			return false
		}
	}
	return len(a) == len(b)
}

// A scraper that asks for OpenMetrics gets it, ending in # EOF; one that
// does not gets the text format. Both parse with Prometheus's own parsers
// and carry the same series, and the same values where nothing moved
// between the two scrapes.
func TestMetricsNegotiateOpenMetrics(t *testing.T) {
	// One poll at start, then none for an hour; but a revisit or a
	// token_info read may still land just after ready. The scrapes are
	// compared once a text scrape before and one after the OpenMetrics
	// scrape agree: nothing moved in between.
	p := exportertest.Start(t, binary, nil, "--demo", "--poll.interval=1h")
	p.WaitFor(t, "/-/ready", 30*time.Second, func(s int, _ string) bool { return s == 200 })

	var omType, textType string
	var omBody, textBody []byte
	for attempt := 0; ; attempt++ {
		textType, textBody = scrape(t, p, "")
		omType, omBody = scrape(t, p, openMetricsAccept)
		_, after := scrape(t, p, "")
		if stillBetween(textSamples(t, textBody), textSamples(t, after)) {
			break
		}
		if attempt == 20 {
			t.Fatal("the exporter's samples never stood still across three scrapes")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.HasPrefix(omType, "application/openmetrics-text; version=1.0.0") {
		t.Errorf("Accept: OpenMetrics got Content-Type %q", omType)
	}
	if !bytes.HasSuffix(omBody, []byte("# EOF\n")) {
		t.Errorf("OpenMetrics body does not end with # EOF; it ends %q", omBody[max(0, len(omBody)-80):])
	}
	if !strings.HasPrefix(textType, "text/plain; version=0.0.4") {
		t.Errorf("no Accept got Content-Type %q, not the text format", textType)
	}
	if bytes.Contains(textBody, []byte("# EOF")) {
		t.Error("the text format carries OpenMetrics' # EOF")
	}

	om, text := openMetricsSamples(t, omBody), textSamples(t, textBody)
	if len(text) < 100 {
		t.Fatalf("only %d samples in the text format", len(text))
	}
	wolkvox := 0
	for key, tv := range text {
		ov, ok := om[key]
		switch {
		case !ok:
			t.Errorf("%s: in the text format, not in OpenMetrics", key)
		case volatile(key):
		case ov != tv && !(math.IsNaN(ov) && math.IsNaN(tv)):
			t.Errorf("%s: text %v, OpenMetrics %v", key, tv, ov)
		}
		if strings.HasPrefix(key, "wolkvox_") {
			wolkvox++
		}
	}
	for key := range om {
		if _, ok := text[key]; !ok {
			t.Errorf("%s: in OpenMetrics, not in the text format", key)
		}
	}
	if wolkvox < 50 {
		t.Errorf("only %d wolkvox_ samples compared", wolkvox)
	}
	p.Stop(t)
}
