package wolkvox

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// tlsReads returns at most 16 KiB per Read, as a TLS connection does.
type tlsReads struct{ r io.Reader }

func (t tlsReads) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), 16<<10)]) }

// TestOneLargeRecordIsScannedInLinearTime decodes one 32 MB record read 16
// KiB at a time. Re-parsing the record from its start after every read
// gave about 2,000 attempts over 32 GB; the scanner must instead parse it
// O(log n) times, over a few times its size. Counted, not timed.
func TestOneLargeRecordIsScannedInLinearTime(t *testing.T) {
	const size = 32 << 20
	var b bytes.Buffer
	b.WriteString(`{"code":200,"error":null,"msg":"1 records were found","data":[{"channel":"Email","agent_name":"ANA","case_id":"1","body":"`)
	b.WriteString(strings.Repeat("hola mundo ", size/11))
	b.WriteString(`","status":"close"}]}`)
	body := b.Bytes()
	s := newScanner(tlsReads{bytes.NewReader(body)})
	records := 0
	if _, err := decodeScanned(s, 0, interactionField, func([]keptValue) error { records++; return nil }); err != nil || records != 1 {
		t.Fatalf("%d records, %v", records, err)
	}
	t.Logf("%d bytes: %d parse attempts over %d bytes", len(body), s.steps, s.scanned)
	if s.steps > 64 {
		t.Errorf("%d parse attempts for one record of %d bytes, want O(log n) (at most 64)", s.steps, len(body))
	}
	if s.scanned > 8*int64(len(body)) {
		t.Errorf("scanned %d bytes for a body of %d, want at most 8 times the body", s.scanned, len(body))
	}
}
