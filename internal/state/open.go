// Package state keeps an operation's ledger on disk: the state file's
// lock, its atomic write, its load (a corrupt file moved aside) and a
// read-only load, so that a restart continues every counter exactly.
package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/safefile"
)

// Lock locks the state file at path for a writer (a poller or a
// backfill), and clears what crashed saves left. A failure keeps no lock:
// the next try in this process would find it "in use by another process".
func Lock(path string, logger log.Logger) (lock *os.File, err error) {
	if err := CheckStatePath(path); err != nil {
		return nil, err
	}
	if lock, err = lockState(path); err != nil {
		return nil, err
	}
	if n, err := removeStaleTemps(path); err != nil {
		lock.Close()
		return nil, err
	} else if n > 0 {
		level.Info(logger).Log("msg", "removed temporary state files left by an interrupted save", "count", n)
	}
	return lock, nil
}

// Open locks the state file at path and loads it into a ledger
// from fresh. A file that does not exist gives fresh's ledger; a corrupt
// one is moved aside (its history lost, logged) and gives a fresh one too.
func Open(path string, fresh func() *ledger.Ledger, now time.Time, logger log.Logger) (*os.File, *ledger.Ledger, time.Time, error) {
	lock, err := Lock(path, logger)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	l, savedAt, err := ReadOnly(path, fresh, now)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		level.Info(logger).Log("msg", "no state file yet; starting fresh", "file", path)
		return lock, fresh(), time.Time{}, nil
	case errors.Is(err, ledger.ErrNotState):
		aside := path + ".corrupt"
		if rerr := os.Rename(path, aside); rerr != nil {
			lock.Close()
			return nil, nil, time.Time{}, fmt.Errorf("state file %s is unusable (%v) and could not be moved aside: %w", path, err, rerr)
		}
		level.Error(logger).Log("msg", "state file is unusable; moved aside, starting fresh", "file", path, "moved_to", aside, "err", err)
		return lock, fresh(), time.Time{}, nil
	case err != nil:
		lock.Close()
		return nil, nil, time.Time{}, err
	}
	return lock, l, savedAt, nil
}

// ReadOnly loads the state file at path into a ledger from fresh,
// read-only: no lock, nothing moved or removed. A backfill's estimate and
// --dry-run read a state file this way.
func ReadOnly(path string, fresh func() *ledger.Ledger, now time.Time) (*ledger.Ledger, time.Time, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading state file: %w", err)
	}
	defer f.Close()
	l := fresh()
	savedAt, err := l.Decode(f, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	return l, savedAt, nil
}
