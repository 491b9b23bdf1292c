package wolkvox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/flock"
)

// Gates owns the API's rule that one token never has two calls in flight.
// Every client of a process that is given the same Gates shares one gate
// per token, whichever operation, reload or backfill it serves: two
// clients with one token take turns, whatever the code above them does.
// The hang-up wait is part of the turn: after a client hangs up on a call,
// the token's next call, by any client, waits HangUpSettle.
//
// Across the processes of a host, a Gates made with a lock directory also
// holds an advisory lock per token (a file named by a hash of it) while
// any of its clients has that token, so a second exporter or a backfill
// with the same token fails at start. Across hosts nothing can tell.
type Gates struct {
	dir string
	// warn hears of a host-wide lock that cannot be taken for another
	// reason than another process holding it (a read-only or missing
	// directory, a file planted at its path): the exporter then runs
	// without that protection rather than not at all.
	warn func(error)

	mu    sync.Mutex
	gates map[string]*gate
}

// NewGates returns the gates of a process. lockDir, when not empty, is
// where the per-token lock files go; the system's temporary directory is
// the one place two processes of a host share.
func NewGates(lockDir string, warn func(error)) *Gates {
	if warn == nil {
		warn = func(error) {}
	}
	return &Gates{dir: lockDir, warn: warn, gates: map[string]*gate{}}
}

// ErrTokenInUse is returned by New when another process on this host
// holds the token.
var ErrTokenInUse = errors.New("another process on this host is using the same token (the API forbids two requests at once with one token)")

// gate is one token's turn. It outlives its clients, so that a hang-up's
// wait holds for a client that comes after the last one left.
type gate struct {
	key  string
	turn chan struct{} // a one-slot semaphore: a mutex callers can stop waiting for

	mu       sync.Mutex
	hungUpAt time.Time // when the last call was hung up on; zero if it was not
	refs     int       // clients holding this token
	lock     *os.File  // the host-wide lock, when taken
	touched  time.Time // when the lock file's times were last set
}

// tokenKey names a token without being it: a hash, salted with a constant
// so that it is this program's name for the token and no other's.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte("wolkvox_exporter token gate\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// acquire returns token's gate, counting one more client on it, and takes
// the host-wide lock when it is the first.
func (g *Gates) acquire(token string) (*gate, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := tokenKey(token)
	gt := g.gates[key]
	if gt == nil {
		gt = &gate{key: key, turn: make(chan struct{}, 1)}
		g.gates[key] = gt
	}
	if gt.refs == 0 && g.dir != "" {
		path := filepath.Join(g.dir, "wolkvox_exporter-token-"+key+".lock")
		f, err := flock.Lock(path)
		switch {
		case errors.Is(err, flock.ErrHeld):
			return nil, fmt.Errorf("%w (lock %s)", ErrTokenInUse, path)
		case err != nil:
			g.warn(fmt.Errorf("cannot take the host-wide lock of a token, so a second process with it on this host would not be refused: %w", err))
		case f != nil:
			gt.lock, gt.touched = f, time.Now()
		}
	}
	gt.refs++
	return gt, nil
}

// release counts one client fewer on gt, and lets the host-wide lock go
// with the last.
func (g *Gates) release(gt *gate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt.refs--
	if gt.refs == 0 && gt.lock != nil {
		_ = gt.lock.Close()
		gt.lock = nil
	}
}

// touchEvery is how often a held lock file's times are renewed: a
// temporary-directory cleaner (systemd-tmpfiles ages /tmp at 10 days)
// would otherwise delete a file still locked, and a second process would
// lock a new one.
const touchEvery = time.Hour

// enter waits for the token's turn and for any hang-up wait to pass.
func (gt *gate) enter(ctx context.Context, sleep func(context.Context, time.Duration) error) error {
	select {
	case gt.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	gt.mu.Lock()
	if gt.lock != nil && time.Since(gt.touched) > touchEvery {
		now := time.Now()
		_ = os.Chtimes(gt.lock.Name(), now, now)
		gt.touched = now
	}
	// The whole pause, not what is left of it: at most a second more,
	// only after a hang-up, and a test's Sleep sees the one figure.
	wait := !gt.hungUpAt.IsZero() && time.Since(gt.hungUpAt) < hangUpSettle
	gt.hungUpAt = time.Time{}
	gt.mu.Unlock()
	if wait {
		if err := sleep(ctx, hangUpSettle); err != nil {
			gt.mu.Lock()
			gt.hungUpAt = time.Now() // still owed to the next caller
			gt.mu.Unlock()
			<-gt.turn
			return err
		}
	}
	return nil
}

// waitIdle returns once a call in flight on the token, if any, has
// ended, without taking the hang-up pause that is the next caller's.
func (gt *gate) waitIdle() {
	gt.turn <- struct{}{}
	<-gt.turn
}

// leave ends a turn. A client that hung up before the server had sent
// its whole answer sets the wait: the server may not have noticed yet,
// and would refuse the token's next call as simultaneous.
func (gt *gate) leave(hungUp bool) {
	if hungUp {
		gt.mu.Lock()
		gt.hungUpAt = time.Now()
		gt.mu.Unlock()
	}
	<-gt.turn
}
