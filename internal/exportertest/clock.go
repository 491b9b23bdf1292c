package exportertest

import (
	"sync"
	"time"
)

// Bogota is America/Bogota, the zone of the tests' operations.
func Bogota() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		panic(err) // the binary embeds time/tzdata where it matters; tests need the zone
	}
	return loc
}

// Clock is a fake clock tests move by hand; it satisfies poller.Clock and
// wolkvoxtest.Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t: a clock that steps, as NTP steps one.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
