package state

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CheckStatePath fails when the state file's directory is not writable,
// or the path is there but is not a regular file (a FIFO would hang the
// load, a directory cannot be replaced), so that the problem stops a
// start, a reload or --config.check instead of every save failing.
func CheckStatePath(path string) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("state file %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".wolkvox-state-check-*")
	if err != nil {
		return fmt.Errorf("state file %s is not writable: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// removeStaleTemps removes the temporary files of saves a crash cut short.
func removeStaleTemps(path string) (int, error) {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	if err != nil {
		return 0, err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			return 0, fmt.Errorf("removing a stale temporary state file: %w", err)
		}
	}
	return len(matches), nil
}

// WriteAtomic writes through write into a temporary file in the same
// directory, syncs it and renames it over path: a crash at any point
// leaves the old file or the new one, never a mix.
func WriteAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this fails harmlessly
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a power loss.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
