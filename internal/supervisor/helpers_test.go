package supervisor

import (
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

var bogota = func() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		panic(err)
	}
	return loc
}()

// t0 is when the tests' fake clock starts.
var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, bogota)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFake(t *testing.T, data wolkvoxtest.Dataset) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, TB: t})
	t.Cleanup(srv.Close)
	return srv
}

var _ poller.Clock = (*fakeClock)(nil)
var _ = wolkvox.ReportTransfers
