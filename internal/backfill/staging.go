package backfill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/blocks"
)

// dayDoneFile, in the staging directory, says its blocks are a whole day
// ending at the time it holds: once the checkpoint is there, they belong
// in the output.
const dayDoneFile = "day-complete"

// blockDir is a block's directory name, a ULID.
var blockDir = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)

// settleStaging finishes what an earlier run left in staging if its
// checkpoint was saved (mark is at or past the day it staged), or throws
// it away, and leaves staging empty.
func settleStaging(staging, output string, mark time.Time) (int, error) {
	moved := 0
	if b, err := os.ReadFile(filepath.Join(staging, dayDoneFile)); err == nil {
		end, err := time.Parse(time.RFC3339Nano, string(b))
		if err == nil && !mark.IsZero() && !mark.Before(end) {
			entries, err := os.ReadDir(staging)
			if err != nil {
				return 0, err
			}
			var names []string
			for _, e := range entries {
				if e.IsDir() && blockDir.MatchString(e.Name()) {
					names = append(names, e.Name())
				}
			}
			if err := moveBlocks(staging, output, names); err != nil {
				return 0, err
			}
			moved = len(names)
		}
	}
	if err := os.RemoveAll(staging); err != nil {
		return moved, err
	}
	return moved, os.Mkdir(staging, 0o755)
}

// discardStaging removes what a run leaves staged, unless a day in it is
// marked complete: that day's checkpoint may be saved already (a move of
// its blocks failed after it), and removing them would lose the day for
// good; the next run moves them instead (settleStaging).
func discardStaging(staging string) {
	if _, err := os.Stat(filepath.Join(staging, dayDoneFile)); err == nil {
		return
	}
	_ = os.RemoveAll(staging)
}

// writeSynced writes a small file and flushes it to disk.
func writeSynced(name, content string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	return errors.Join(err, f.Sync(), f.Close())
}

// moveBlocks moves a day's blocks from the staging directory into the
// output, each whole (a rename).
func moveBlocks(staging, output string, names []string) error {
	for _, name := range names {
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(output, name)); err != nil {
			return fmt.Errorf("move block %s into %s: %w", name, output, err)
		}
	}
	return nil
}

// Staging is where a backfill writes a day's blocks into output: beside
// it, moved in only once the whole day is written and its checkpoint
// saved, so that Prometheus never loads half a day.
type Staging struct {
	dir, output string
}

// NewStaging returns operation's staging under output.
func NewStaging(output, operation string) Staging {
	return Staging{dir: filepath.Join(output, operation+".staging"), output: output}
}

// Settle finishes what an earlier run left staged, if its checkpoint was
// saved (mark is at or past the day it staged), or throws it away. Call
// it while holding the state file's lock (b is open).
func (s Staging) Settle(b *Backfill) (moved int, err error) {
	return settleStaging(s.dir, s.output, b.Mark())
}

// Discard removes what a run leaves staged, unless a day in it is marked
// complete (see discardStaging).
func (s Staging) Discard() { discardStaging(s.dir) }

// DayDone is a day's end and what it cost.
type DayDone struct {
	End   time.Time
	Stats DayStats
	Took  time.Duration
}

// RunDays backfills the days of (b.Mark(), to], each written into the
// staging, marked complete, checkpointed and only then moved into the
// output. A crash before the checkpoint is saved re-does the day; one
// after it leaves the blocks staged, and the next run's Settle moves them.
// done is called after each day. It returns the checkpoint reached.
func (s Staging) RunDays(ctx context.Context, b *Backfill, to time.Time, done func(DayDone)) (time.Time, error) {
	loc := b.cfg.Client.Location
	for _, end := range Days(b.Mark().Add(time.Second), to, loc) {
		began := time.Now()
		sink := blocks.NewWriter(s.dir)
		st, err := b.Day(ctx, end, sink)
		if err == nil {
			err = writeSynced(filepath.Join(s.dir, dayDoneFile), end.Format(time.RFC3339Nano))
		}
		if err == nil {
			err = b.Commit(end)
		}
		if err == nil {
			err = moveBlocks(s.dir, s.output, sink.Blocks())
		}
		if err == nil {
			err = os.Remove(filepath.Join(s.dir, dayDoneFile))
		}
		if err != nil {
			return b.Mark(), err
		}
		done(DayDone{End: end, Stats: st, Took: time.Since(began)})
	}
	return b.Mark(), nil
}
