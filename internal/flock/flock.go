// Package flock takes the exporter's advisory file locks: one per state
// file, and one per token across the processes of a host. A lock goes
// with its process, however it ends, so a crash never leaves one behind.
package flock

import "errors"

// ErrHeld is returned when another process holds the lock.
var ErrHeld = errors.New("held by another process")
