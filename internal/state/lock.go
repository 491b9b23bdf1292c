package state

import (
	"errors"
	"fmt"
	"os"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/flock"
)

// lockState takes an exclusive lock beside the state file, so that a
// second exporter on the same file fails at start instead of the two
// overwriting each other's keys and salts without a word. The lock goes
// with the process, however it ends.
func lockState(path string) (*os.File, error) {
	f, err := flock.Lock(path + ".lock")
	switch {
	case errors.Is(err, flock.ErrHeld):
		return nil, fmt.Errorf("state file %s is in use by another process (lock %s.lock)", path, path)
	case err != nil:
		return nil, fmt.Errorf("state file lock: %w", err)
	}
	return f, nil
}
