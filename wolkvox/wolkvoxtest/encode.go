package wolkvoxtest

import (
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// TransfersResponse returns a complete agent_13_1 response holding recs,
// byte for byte as the server sends it.
func TransfersResponse(recs []RawTransfer) []byte {
	b := envelopeHead(nil, "200", len(recs))
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = recs[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// InteractionsResponse returns a complete chat_4 response holding recs.
func InteractionsResponse(recs []RawInteraction) []byte {
	b := envelopeHead(nil, 200, len(recs))
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = recs[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// StreamInteractions writes a complete chat_4 response of at most size
// bytes, and within 64 KB of it, to w, generating records as it goes so that nothing of the size is held
// in memory. Records have bodies of about bodyBytes and distinct case ids.
// It returns the number of records written.
func StreamInteractions(w io.Writer, seed uint64, size int64, bodyBytes int) (int, error) {
	rng := rand.New(rand.NewPCG(seed, 0))
	minute := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	// A pool of generated records, varied per use by case id, keeps the
	// generator's cost out of decoding measurements.
	pool := make([]RawInteraction, 64)
	for i := range pool {
		pool[i] = NewInteraction(rng, minute, 0, bodyBytes)
	}
	buf := envelopeHead(make([]byte, 0, 64<<10), 200, 0)
	var written int64
	n := 0
	for ; written+int64(len(buf))+64<<10 < size; n++ {
		if n > 0 {
			buf = append(buf, ',')
		}
		rec := pool[n%len(pool)]
		rec.CaseID = strconv.Itoa(n + 1)
		buf = rec.appendJSON(buf)
		if len(buf) > 32<<10 {
			m, err := w.Write(buf)
			written += int64(m)
			if err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}"...)
	_, err := w.Write(buf)
	return n, err
}
