package wolkvox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

const maxResponse = 256 << 20 // the API's documented maximum

// peakHeap runs fn while sampling the heap's object bytes, live and not yet
// collected, and returns the highest sample above the starting point.
func peakHeap(t *testing.T, fn func()) uint64 {
	t.Helper()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	peak = max(peak, read())
	if peak < base {
		return 0
	}
	return peak - base
}

// TestDecoding256MBStaysUnder32MB streams a 256 MB chat_4 response from the
// generator through the decoder: memory must not grow with the response.
func TestDecoding256MBStaysUnder32MB(t *testing.T) {
	pr, pw := io.Pipe()
	written := make(chan int, 1)
	go func() {
		n, err := wolkvoxtest.StreamInteractions(pw, 1, maxResponse, 3000)
		pw.CloseWithError(err)
		written <- n
	}()
	var decoded int
	peak := peakHeap(t, func() {
		n, err := wolkvox.DecodeInteractions(pr, bogota, 0, func(wolkvox.Interaction) error { return nil })
		if err != nil {
			t.Error(err)
		}
		decoded = n
	})
	if w := <-written; decoded != w || w < 40000 {
		t.Fatalf("decoded %d of %d records", decoded, w)
	}
	t.Logf("256 MB, %d records: peak heap %.1f MB", decoded, float64(peak)/(1<<20))
	if peak > 32<<20 {
		t.Errorf("peak heap %.1f MB, want under 32 MB", float64(peak)/(1<<20))
	}
}

// TestFetching256MBStaysUnder32MB does the same through the client, which
// holds one response's parsed records until the response has validated.
func TestFetching256MBStaysUnder32MB(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = wolkvoxtest.StreamInteractions(w, 2, maxResponse, 3500)
	}))
	defer srv.Close()
	c, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: "t", Location: bogota, Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	peak := peakHeap(t, func() {
		_, err := c.FetchInteractions(context.Background(), wolkvox.PurposeNew, day, func(_ wolkvox.Window, recs []wolkvox.Interaction) error {
			got += len(recs)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	t.Logf("256 MB through the client, %d records: peak heap %.1f MB", got, float64(peak)/(1<<20))
	if got < 30000 || got >= wolkvox.DefaultMaxRecords {
		t.Errorf("%d records; the test needs a response under the record cap", got)
	}
	if peak > 32<<20 {
		t.Errorf("peak heap %.1f MB, want under 32 MB", float64(peak)/(1<<20))
	}
}
