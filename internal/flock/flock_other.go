//go:build !unix

package flock

import "os"

// Lock does nothing where flock does not exist.
func Lock(string) (*os.File, error) { return nil, nil }
