//go:build unix

package collector

import (
	"fmt"
	"os"
	"syscall"
)

// lockState takes an exclusive lock beside the state file, so that a
// second exporter on the same file fails at start instead of the two
// overwriting each other's keys and salts without a word. The lock goes
// with the process, however it ends.
func lockState(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state file lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("state file %s is in use by another process (lock %s.lock): %w", path, path, err)
	}
	return f, nil
}
