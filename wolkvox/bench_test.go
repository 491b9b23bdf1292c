package wolkvox_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// The benchmarks compare, on the same bytes in the same run:
//
//	wolkvox: the exporter's streaming decoder;
//	wolkvox_scan_only: its scanner validating the body, keeping nothing;
//	scan:    jsontext skipping the whole body: the scan-only bound the
//	         issue's 60% target is measured against;
//	stdlib_stream: encoding/json's Decoder, one record at a time;
//	naive:   encoding/json Unmarshal of the whole body into a typed slice.
//
// Reproduce: go test ./wolkvox -run '^$' -bench Decode -benchmem -count 5

type rawTransfer struct {
	ConnIDTransfer, SkillID, Date, ANI, OriginAgentID, OriginAgentName   string `json:",omitempty"`
	DestinyAgentID, DestinyAgentName, DNIS, Time, TypeCall, IDCallOrigin string `json:",omitempty"`
}

type rawInteraction struct {
	Channel, AgentName, SkillID, CaseID, Subject, From, To, Body, Answer string
	DateCreation, CloseDate, EvaluationSurvey, CodAct, CodDescription    string
	Comments, Attachments, Status                                        string
}

func benchmarkDecoders(b *testing.B, body []byte, decode func([]byte) (int, error), naive func([]byte) error, stream func([]byte) error) {
	b.Run("wolkvox", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wolkvox_scan_only", func(b *testing.B) {
		// The exporter's scanner validating the same bytes, keeping nothing.
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wolkvox.ScanOnly(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			d := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
			if err := d.SkipValue(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib_stream", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := stream(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("naive", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := naive(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// streamStdlib decodes data one element at a time with encoding/json.
func streamStdlib[T any](body []byte) error {
	d := json.NewDecoder(bytes.NewReader(body))
	if _, err := d.Token(); err != nil { // {
		return err
	}
	for d.More() {
		key, err := d.Token()
		if err != nil {
			return err
		}
		if key != "data" {
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if _, err := d.Token(); err != nil { // [
			return err
		}
		for d.More() {
			var rec T
			if err := d.Decode(&rec); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil { // ]
			return err
		}
	}
	return nil
}

func BenchmarkDecode(b *testing.B) {
	transfers, interactions := generatedResponses(2000, 3000)
	b.Run("agent_13_1", func(b *testing.B) {
		benchmarkDecoders(b, transfers,
			func(body []byte) (int, error) {
				return wolkvox.DecodeTransfers(bytes.NewReader(body), bogota, 0, func(wolkvox.Transfer) error { return nil })
			},
			func(body []byte) error {
				var r struct{ Data []rawTransfer }
				return json.Unmarshal(body, &r)
			},
			streamStdlib[rawTransfer])
	})
	b.Run("chat_4", func(b *testing.B) {
		benchmarkDecoders(b, interactions,
			func(body []byte) (int, error) {
				return wolkvox.DecodeInteractions(bytes.NewReader(body), bogota, 0, func(wolkvox.Interaction) error { return nil })
			},
			func(body []byte) error {
				var r struct{ Data []rawInteraction }
				return json.Unmarshal(body, &r)
			},
			streamStdlib[rawInteraction])
	})
}
