package supervisor

import (
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

var bogota = exportertest.Bogota()

// t0 is when the tests' fake clock starts.
var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, bogota)

// fakeClock is the tests' clock, moved by hand.
type fakeClock = exportertest.Clock

func newFake(t *testing.T, data wolkvoxtest.Dataset) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: data, TB: t})
	t.Cleanup(srv.Close)
	return srv
}

var _ poller.Clock = (*fakeClock)(nil)
var _ = wolkvox.ReportTransfers
