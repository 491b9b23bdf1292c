//go:build !unix

package collector

import "os"

// lockState does nothing where flock does not exist.
func lockState(string) (*os.File, error) { return nil, nil }
