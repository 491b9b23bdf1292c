package collector

import "time"

var bogota = func() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		panic(err)
	}
	return loc
}()

// t0 is when the tests' records are dated.
var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, bogota)
