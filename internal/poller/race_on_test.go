//go:build race

package poller

// raceEnabled scales the long simulations down under the race detector,
// which makes them several times slower; they still run in full.
const raceEnabled = true
