package wolkvox_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// TestClocksGoingBackNoRequestIsInverted: where clocks go back, a window
// that ends within the repeated hour ends earlier on the wall clock than it
// starts, and the API, selecting by wall clock, would serve it nothing. A
// window that ends later misses the rest of the first time round. Sent as
// is, or halved at the record cap, both lose records; every record of the
// window must be delivered.
func TestClocksGoingBackNoRequestIsInverted(t *testing.T) {
	santiago := mustZone("America/Santiago")
	change := time.Date(2026, 4, 4, 23, 0, 0, 0, santiago).Add(time.Hour) // 00:00 -03 becomes 23:00 -04
	if _, off := change.Zone(); off != -4*3600 {
		t.Fatalf("tzdata: %v is not the change to -04", change)
	}
	// A transfer every 10 s, from two hours before the change to two after.
	first := change.Add(-2 * time.Hour)
	store := &wolkvoxtest.Store{Location: santiago}
	for i := range 4 * 360 {
		at := first.Add(time.Duration(i) * 10 * time.Second)
		store.AddTransfers(wolkvoxtest.RawTransfer{ConnIDTransfer: strconv.Itoa(i), Date: at.In(santiago).Format(time.DateTime), TypeCall: "transfer"})
	}
	idAt := func(at time.Time) string { return strconv.Itoa(int(at.Sub(first) / (10 * time.Second))) }

	for name, tc := range map[string]struct {
		w   wolkvox.Window
		cap int
	}{
		"window ends in the repeated hour": {wolkvox.Window{Start: change.Add(-30 * time.Minute), End: change.Add(20 * time.Minute)}, 0},
		"window over the change, halved":   {wolkvox.Window{Start: change.Add(-70 * time.Minute), End: change.Add(20 * time.Minute)}, 400},
	} {
		t.Run(name, func(t *testing.T) {
			srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: santiago, Data: store, TB: t})
			t.Cleanup(srv.Close)
			c := newClient(t, srv, func(c *wolkvox.Config) {
				c.Location = santiago
				c.MaxRecords = tc.cap
			})
			delivered := map[string]bool{}
			var pieces []wolkvox.Window
			stats, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, tc.w, func(p wolkvox.Window, recs []wolkvox.Transfer) error {
				pieces = append(pieces, p)
				for _, r := range recs {
					delivered[r.ConnID] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.cap > 0 && stats.Splits == 0 {
				t.Errorf("the window was not halved at the cap of %d", tc.cap)
			}
			for _, r := range srv.Requests() {
				if wolkvox.WallClock(r.End, santiago).Before(wolkvox.WallClock(r.Start, santiago)) {
					t.Errorf("request ends before it starts on the wall clock: %s .. %s",
						r.Start.Format(time.DateTime), r.End.Format(time.DateTime))
				}
			}
			if !pieces[0].Start.Equal(tc.w.Start) || !pieces[len(pieces)-1].End.Equal(tc.w.End) {
				t.Errorf("pieces run %v .. %v, want the window %v", pieces[0].Start, pieces[len(pieces)-1].End, tc.w)
			}
			for i := 1; i < len(pieces); i++ {
				if !pieces[i].Start.Equal(pieces[i-1].End.Add(time.Second)) {
					t.Errorf("pieces %v and %v are not contiguous", pieces[i-1], pieces[i])
				}
			}
			missed := 0
			for at := tc.w.Start; !at.After(tc.w.End); at = at.Add(10 * time.Second) {
				if !delivered[idAt(at)] {
					missed++
				}
			}
			if missed > 0 {
				t.Errorf("%d records of the window were not delivered", missed)
			}
		})
	}
}
