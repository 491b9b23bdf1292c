package wolkvoxtest

import (
	"strings"
	"testing"
	"time"
)

// TestServerRefusesADatasetInAnotherZone: the server reads request dates in
// its zone and the dataset selects by wall clock in its own, so two zones
// would serve the wrong records without a word.
func TestServerRefusesADatasetInAnotherZone(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]Dataset{
		"store":          &Store{},
		"traffic":        &Traffic{Location: time.UTC},
		"one of a merge": Merge{&Store{Location: santiago}, &Traffic{}},
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, "UTC") || !strings.Contains(msg, "America/Santiago") {
					t.Errorf("%s: panic %q, want one naming both zones", name, msg)
				}
			}()
			NewUnstartedServer(Config{Location: santiago, Data: data})
		}()
	}
	func() {
		defer func() {
			if msg, _ := recover().(string); !strings.Contains(msg, "America/Santiago") {
				t.Errorf("real-time data in another zone: panic %q", msg)
			}
		}()
		NewUnstartedServer(Config{Location: santiago, Realtime: &Realtime{}})
	}()
	// The same zone, and the default empty store, are fine.
	NewUnstartedServer(Config{Location: santiago, Data: Merge{&Store{Location: santiago}, &Traffic{Location: santiago}}}).Close()
	NewUnstartedServer(Config{Location: santiago}).Close()
}
