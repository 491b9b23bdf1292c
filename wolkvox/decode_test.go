package wolkvox_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

func decodeTransfers(t testing.TB, body []byte) ([]wolkvox.Transfer, error) {
	var out []wolkvox.Transfer
	_, err := wolkvox.DecodeTransfers(bytes.NewReader(body), bogota, 0, func(r wolkvox.Transfer) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func decodeInteractions(t testing.TB, body []byte) ([]wolkvox.Interaction, error) {
	var out []wolkvox.Interaction
	_, err := wolkvox.DecodeInteractions(bytes.NewReader(body), bogota, 0, func(r wolkvox.Interaction) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func TestFieldHygiene(t *testing.T) {
	body := wolkvoxtest.TransfersResponse([]wolkvoxtest.RawTransfer{{
		ConnIDTransfer:   "12462.0277.1782402643.44005",
		SkillID:          " - ",
		Date:             "2026-06-01 10:11:12",
		OriginAgentID:    " 12462 ",
		OriginAgentName:  "MU\xd1OZ \x93JR\x94",
		DestinyAgentID:   "-",
		DestinyAgentName: "COM-CAMILO PATIÑO",
		Time:             "23:03:04",
		TypeCall:         "internal call_que",
	}, {
		ConnIDTransfer: "2",
		Date:           "2026-02-31 10:00:00",
		Time:           "1:2",
		Override:       map[string]string{"origin_agent_name": `"JOS\u00c9 \u00d1"`, "skill_id": "101", "type_call": `{"nested":["x"]}`},
	}})
	recs, err := decodeTransfers(t, body)
	if err != nil {
		t.Fatal(err)
	}
	a := recs[0]
	want := wolkvox.Transfer{
		ConnID: "12462.0277.1782402643.44005", Date: time.Date(2026, 6, 1, 10, 11, 12, 0, bogota),
		OriginAgentID: "12462", OriginAgentName: "MUÑOZ “JR”", DestinationAgentName: "COM-CAMILO PATIÑO",
		Duration: 23*time.Hour + 3*time.Minute + 4*time.Second, HasDuration: true, TypeCall: "internal call_que",
	}
	if a != want {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	b := recs[1]
	if !b.Invalid.Has(wolkvox.FieldDate) || !b.Invalid.Has(wolkvox.FieldTime) || !b.Invalid.Has(wolkvox.FieldText) || b.Invalid.Len() != 3 {
		t.Errorf("invalid fields %b", b.Invalid)
	}
	if b.OriginAgentName != "JOSÉ Ñ" || b.SkillID != "101" || b.TypeCall != "" || !b.Date.IsZero() || b.HasDuration {
		t.Errorf("record with bad fields: %+v", b)
	}
}

func TestInteractionFields(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	body := wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{{
		Channel: "Email", AgentName: "SOFÍA", SkillID: "205", CaseID: "991",
		Body: big, Answer: big, Subject: "secret", From: "a@b.co",
		DateCreation: "2026-06-01 10:00:00", CloseDate: "2026-06-01 11:30:00",
		EvaluationSurvey: "4,5", CodAct: "11", CodDescription: "RECLAMO", Status: "close",
	}, {
		Channel: "twitter", CaseID: "992", DateCreation: "2026-06-01 10:00:00", CloseDate: "",
		EvaluationSurvey: "N/A", Status: "open", NoCodDescription: true,
		AgentName: strings.Repeat("Ñ", 1000),
	}, {}})
	recs, err := decodeInteractions(t, body)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := recs[0], recs[1], recs[2]
	if a.Closed.Sub(a.Created) != 90*time.Minute || !a.HasSurvey || a.Survey != 4.5 || a.CodDescription != "RECLAMO" || a.Invalid != 0 {
		t.Errorf("closed case: %+v", a)
	}
	if !b.Closed.IsZero() || b.HasSurvey || !b.Invalid.Has(wolkvox.FieldEvaluationSurvey) || b.Invalid.Len() != 1 {
		t.Errorf("open case: %+v", b)
	}
	if len(b.AgentName) > wolkvox.MaxFieldLen || !utf8.ValidString(b.AgentName) {
		t.Errorf("long name not capped cleanly: %d bytes", len(b.AgentName))
	}
	if c != (wolkvox.Interaction{}) {
		t.Errorf("empty record: %+v", c)
	}
}

func TestSurveyScores(t *testing.T) {
	for in, want := range map[string]float64{"4": 4, "4.5": 4.5, "4,5": 4.5, " 7 ": 7, "80%": 80, "0": 0, "100": 100, "99.5 %": 99.5} {
		body := wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{{CaseID: "1", EvaluationSurvey: in}})
		recs, err := decodeInteractions(t, body)
		if err != nil || !recs[0].HasSurvey || recs[0].Survey != want {
			t.Errorf("%q: %+v %v, want %v", in, recs, err, want)
		}
	}
	// Outside [0, 100]: parsed, but no survey score (9,336.00 % parses as 9336).
	for _, in := range []string{"N/A", "NaN", "Inf", "-Inf", "abc", "1e400", "1e308", "-5", "-0.5", "100.01", "1024", "1,000", "9,336.00 %"} {
		body := wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{{CaseID: "1", EvaluationSurvey: in}})
		recs, err := decodeInteractions(t, body)
		if err != nil || recs[0].HasSurvey || !recs[0].Invalid.Has(wolkvox.FieldEvaluationSurvey) {
			t.Errorf("%q: %+v %v, want invalid", in, recs, err)
		}
	}
}

func TestDecodeStopsAtTheCap(t *testing.T) {
	recs := make([]wolkvoxtest.RawTransfer, 10)
	n, err := wolkvox.DecodeTransfers(bytes.NewReader(wolkvoxtest.TransfersResponse(recs)), bogota, 10, func(wolkvox.Transfer) error { return nil })
	if err == nil || n != 10 {
		t.Errorf("n %d, err %v", n, err)
	}
}

// generatedResponses returns realistic responses of both reports, used to
// seed the fuzzer and by benchmarks.
func generatedResponses(records, bodyBytes int) (transfers, interactions []byte) {
	rng := rand.New(rand.NewPCG(42, 42))
	minute := time.Date(2026, 6, 1, 8, 0, 0, 0, bogota)
	ts := make([]wolkvoxtest.RawTransfer, records)
	is := make([]wolkvoxtest.RawInteraction, records)
	for i := range records {
		ts[i] = wolkvoxtest.NewTransfer(rng, minute, i)
		is[i] = wolkvoxtest.NewInteraction(rng, minute, int64(i), bodyBytes)
	}
	return wolkvoxtest.TransfersResponse(ts), wolkvoxtest.InteractionsResponse(is)
}

// FuzzDecode checks that no input panics the decoder, that every string it
// hands out is valid UTF-8 within the length cap, and that a response it
// accepts delivers exactly the records it counted.
func FuzzDecode(f *testing.F) {
	tr, in := generatedResponses(3, 64)
	f.Add(tr)
	f.Add(in)
	f.Add([]byte(`{"code":200,"error":null,"data":[{"agent_name":"MU` + "\xd1" + `OZ","date":"2026-01-01 00:00:00","time":"1:2"}]}`))
	f.Add([]byte(`{"data":null,"code":"0"}`))
	f.Add([]byte("<br />\n<b>Warning</b>: x {\"code\":\"200\",\"data\":[]}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(fields ...string) {
			for _, s := range fields {
				if !utf8.ValidString(s) || len(s) > wolkvox.MaxFieldLen {
					t.Fatalf("bad field %q", s)
				}
			}
		}
		// The single-pass scanner must accept exactly the JSON jsontext
		// accepts (allowing invalid UTF-8 and duplicate names, as the
		// decoder does): a syntax error if and only if jsontext finds one.
		jsonOK := jsontextAccepts(body)
		_, derr := wolkvox.DecodeTransfers(bytes.NewReader(body), bogota, 0, func(wolkvox.Transfer) error { return nil })
		syntaxErr := derr != nil && (strings.HasPrefix(derr.Error(), "invalid JSON") || strings.Contains(derr.Error(), "body ended"))
		if jsonOK == syntaxErr {
			t.Fatalf("jsontext accepts: %v; decoder error: %v\ninput: %q", jsonOK, derr, body)
		}
		calls := 0
		n, err := wolkvox.DecodeTransfers(bytes.NewReader(body), bogota, 0, func(r wolkvox.Transfer) error {
			calls++
			check(r.ConnID, r.SkillID, r.OriginAgentID, r.OriginAgentName, r.DestinationAgentID, r.DestinationAgentName, r.TypeCall)
			if r.Duration < 0 {
				t.Fatalf("negative duration %v", r.Duration)
			}
			return nil
		})
		if err == nil && n != calls {
			t.Fatalf("counted %d, delivered %d", n, calls)
		}
		calls = 0
		n, err = wolkvox.DecodeInteractions(bytes.NewReader(body), bogota, 0, func(r wolkvox.Interaction) error {
			calls++
			check(r.Channel, r.AgentName, r.SkillID, r.CaseID, r.CodAct, r.CodDescription, r.Status)
			return nil
		})
		if err == nil && n != calls {
			t.Fatalf("counted %d, delivered %d", n, calls)
		}
	})
}

// jsontextAccepts reports whether body is one JSON value, as jsontext reads it.
func jsontextAccepts(body []byte) bool {
	d := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	if err := d.SkipValue(); err != nil {
		return false
	}
	_, err := d.ReadToken()
	return err == io.EOF
}

// TestDecoderReadsInAnyChunking feeds a response one byte at a time and in
// odd chunks: the records must not depend on where reads end.
func TestDecoderReadsInAnyChunking(t *testing.T) {
	_, body := generatedResponses(50, 700)
	want, err := decodeInteractions(t, body)
	if err != nil || len(want) != 50 {
		t.Fatal(err, len(want))
	}
	for _, chunk := range []int{1, 7, 4093, 65537} {
		var got []wolkvox.Interaction
		_, err := wolkvox.DecodeInteractions(&chunkReader{b: body, n: chunk}, bogota, 0, func(r wolkvox.Interaction) error {
			got = append(got, r)
			return nil
		})
		if err != nil || len(got) != len(want) {
			t.Fatalf("chunks of %d: %v, %d records", chunk, err, len(got))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("chunks of %d: record %d differs", chunk, i)
			}
		}
	}
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}

// TestControlCharactersNeverReachValues: escaped controls and bidi
// overrides made label values such as channel="Email\x00", which look the
// same as the real ones. They are removed.
func TestControlCharactersNeverReachValues(t *testing.T) {
	transfers, err := decodeTransfers(t, wolkvoxtest.TransfersResponse([]wolkvoxtest.RawTransfer{{
		ConnIDTransfer: "1", Date: "2026-06-01 10:00:00",
		Override: map[string]string{
			"type_call":         `"transfer\u0000"`,
			"origin_agent_name": `"\u202eANA\u202c"`,
			"origin_agent_id":   `"12\u0007462"`,
			"skill_id":          `"101\u001b[0m"`,
		},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if tr := transfers[0]; tr.TypeCall != "transfer" || tr.OriginAgentName != "ANA" || tr.OriginAgentID != "12462" || tr.SkillID != "101[0m" {
		t.Errorf("transfer %+v", tr)
	}
	interactions, err := decodeInteractions(t, wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{{
		CaseID: "1", DateCreation: "2026-06-01 10:00:00",
		Override: map[string]string{"channel": `"Email\u0000"`, "status": `"\u2066open\u2069"`, "agent_name": "\"SOF\u00cdA\u200f\""},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if c := interactions[0]; c.Channel != "Email" || c.Status != "open" || c.AgentName != "SOFÍA" {
		t.Errorf("interaction %+v", c)
	}
}

// TestEnvelopeErrorValues: only an error member that reports an error
// fails the response. false, 0 and "" failed every poll.
func TestEnvelopeErrorValues(t *testing.T) {
	for value, isError := range map[string]bool{
		`null`: false, `false`: false, `""`: false, `" "`: false, `0`: false, `0.0`: false, `-0`: false,
		`true`: true, `"TOKEN LIMIT EXCEEDED"`: true, `1`: true, `{"msg":"x"}`: true, `["x"]`: true, `[]`: true,
	} {
		body := `{"code":"200","error":` + value + `,"msg":"1 records were found","data":[{"conn_id_transfer":"1"}]}`
		recs, err := decodeTransfers(t, []byte(body))
		switch {
		case isError && (err == nil || !strings.Contains(err.Error(), `error "`)):
			t.Errorf("error %s: %v, want an API error", value, err)
		case !isError && (err != nil || len(recs) != 1):
			t.Errorf("error %s: %v, %d records; want success", value, err, len(recs))
		}
	}
}

// TestEnvelopeMemberTwice: two data, code or error members make an
// envelope whose meaning depends on which one a reader keeps: decode.
func TestEnvelopeMemberTwice(t *testing.T) {
	rec := `[{"conn_id_transfer":"1"}]`
	for _, body := range []string{
		`{"code":"200","error":null,"data":` + rec + `,"data":` + rec + `}`,
		`{"code":"200","error":null,"data":[],"data":` + rec + `}`,
		`{"code":"200","error":null,"data":` + rec + `,"data":null}`,
		`{"code":"500","code":"200","error":null,"data":` + rec + `}`,
		`{"code":"200","error":"FAILED","error":null,"data":` + rec + `}`,
		`{"code":"200","error":null,"error":null,"data":[]}`,
	} {
		_, err := decodeTransfers(t, []byte(body))
		if err == nil || !strings.Contains(err.Error(), "more than one") {
			t.Errorf("%s: %v, want a decode error", body, err)
		}
	}
	// Once each, in any order, is fine.
	if recs, err := decodeTransfers(t, []byte(`{"data":`+rec+`,"msg":"","error":null,"code":200}`)); err != nil || len(recs) != 1 {
		t.Errorf("members in another order: %v", err)
	}
}

// TestValueBounds: values that parse but cannot be real are counted
// invalid: a leg over a day, a date before 2000 or after 2100. A survey of
// 1e308 made sums +Inf; see TestSurveyScores.
func TestValueBounds(t *testing.T) {
	for in, valid := range map[string]bool{"00:00:00": true, "24:00:00": true, "24:00:01": false, "27:03:04": false, "999999:00:00": false} {
		recs, err := decodeTransfers(t, wolkvoxtest.TransfersResponse([]wolkvoxtest.RawTransfer{{ConnIDTransfer: "1", Time: in}}))
		if err != nil || recs[0].HasDuration != valid || recs[0].Invalid.Has(wolkvox.FieldTime) == valid || (!valid && recs[0].Duration != 0) {
			t.Errorf("time %q: %+v %v, want valid %v", in, recs, err, valid)
		}
	}
	for in, valid := range map[string]bool{
		"2000-01-01 00:00:00": true, "2100-12-31 23:59:59": true, "1999-12-31 23:59:59": false,
		"2101-01-01 00:00:00": false, "0001-01-01 00:00:00": false, "9999-12-31 23:59:59": false,
	} {
		recs, err := decodeTransfers(t, wolkvoxtest.TransfersResponse([]wolkvoxtest.RawTransfer{{ConnIDTransfer: "1", Date: in}}))
		if err != nil || recs[0].Date.IsZero() == valid || recs[0].Invalid.Has(wolkvox.FieldDate) == valid {
			t.Errorf("date %q: %+v %v, want valid %v", in, recs, err, valid)
		}
		chats, err := decodeInteractions(t, wolkvoxtest.InteractionsResponse([]wolkvoxtest.RawInteraction{{CaseID: "1", DateCreation: in, CloseDate: in}}))
		if c := chats[0]; err != nil || c.Invalid.Has(wolkvox.FieldDateCreation) == valid || c.Invalid.Has(wolkvox.FieldCloseDate) == valid {
			t.Errorf("date_creation and close_date %q: %+v %v, want valid %v", in, c, err, valid)
		}
	}
}
