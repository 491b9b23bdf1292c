package wolkvox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// slowToNotice is a fake that takes half a second to notice a hang-up, as
// a PHP server notices one only at its next write; TB: t fails the test on
// any overlap of two calls with one token.
func slowToNotice(t *testing.T) *wolkvoxtest.Server {
	t.Helper()
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Location: bogota, Data: traffic(), TB: t, HangUpNotice: 500 * time.Millisecond})
	t.Cleanup(srv.Close)
	return srv
}

// startSlowCall starts a call the fake answers in a minute, on ctx, and
// returns once the fake has it in flight.
func startSlowCall(t *testing.T, srv *wolkvoxtest.Server, c *wolkvox.Client, ctx context.Context, wg *sync.WaitGroup) {
	t.Helper()
	srv.FailNext(1, wolkvoxtest.Fault{Latency: time.Minute, Reports: []wolkvox.Report{wolkvox.ReportTransfers}})
	wg.Go(func() {
		_, err := c.FetchTransfers(ctx, wolkvox.PurposeNew, day, func(wolkvox.Window, []wolkvox.Transfer) error { return nil })
		if err == nil {
			t.Error("the slow call succeeded")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); srv.InFlight() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never reached the fake")
		}
	}
}

// A caller that cancels (a poller stopped by a reload or shutdown) hangs
// up as a timeout does: the token's next call must still wait the
// hang-up pause. It used to be skipped, because the pause slept on the
// cancelled context.
func TestHangUpPauseHoldsWhenTheCallerCancels(t *testing.T) {
	srv := slowToNotice(t)
	c := newClient(t, srv, func(c *wolkvox.Config) { c.Retry = wolkvox.RetryPolicy{Attempts: 1} })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	startSlowCall(t, srv, c, ctx, &wg)
	cancel()
	wg.Wait()
	if _, _, err := interactionsOf(t, c, day); err != nil {
		t.Errorf("next call: %v", err)
	}
}

// Two clients with one token and one Gates (two operations of a process
// swapping tokens in a reload, or a backfill beside them) take turns, and
// the hang-up pause of one holds for the other.
func TestClientsOfOneTokenShareItsTurn(t *testing.T) {
	srv := slowToNotice(t)
	gates := wolkvox.NewGates("", nil)
	share := func(c *wolkvox.Config) { c.Gates, c.Retry = gates, wolkvox.RetryPolicy{Attempts: 1} }
	a, b := newClient(t, srv, share), newClient(t, srv, share)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	startSlowCall(t, srv, a, ctx, &wg)
	// b waits for a's turn while a's call is in flight...
	done := make(chan error, 1)
	go func() { _, _, err := interactionsOf(t, b, day); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("b called while a's call was in flight (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	// ...and after a hangs up, for the pause.
	cancel()
	wg.Wait()
	if err := <-done; err != nil {
		t.Errorf("b: %v", err)
	}
	// Rotation: a takes another token, b keeps the first; both call at
	// once, each on its own token, in parallel.
	srv.SetToken(srv.Token(), "second-token")
	if err := a.SetToken("second-token"); err != nil {
		t.Fatal(err)
	}
	// Whether they ran at once is read from the server, which sees both
	// in flight, not from the time they took: a loaded machine (CI under
	// the race detector) once made two parallel calls of 300 ms take 624.
	srv.FailAll(wolkvoxtest.Fault{Latency: 300 * time.Millisecond})
	var both sync.WaitGroup
	for _, c := range []*wolkvox.Client{a, b} {
		both.Go(func() {
			if _, _, err := transfersOf(t, c, day); err != nil {
				t.Error(err)
			}
		})
	}
	most := 0
	finished := make(chan struct{})
	go func() { both.Wait(); close(finished) }()
	for waiting := true; waiting; {
		select {
		case <-finished:
			waiting = false
		case <-time.After(2 * time.Millisecond):
			most = max(most, srv.InFlight())
		}
	}
	if most < 2 {
		t.Errorf("two tokens' calls were never in flight at once (at most %d): they waited for each other", most)
	}
}

// A second process (here: a second Gates on the same lock directory, as
// another process has) cannot take a token this one holds, until every
// client of it has closed.
func TestTokenLockKeepsOtherProcessesOut(t *testing.T) {
	dir := t.TempDir()
	srv := newFake(t, traffic())
	mine, theirs := wolkvox.NewGates(dir, nil), wolkvox.NewGates(dir, nil)
	a := newClient(t, srv, func(c *wolkvox.Config) { c.Gates = mine })
	b := newClient(t, srv, func(c *wolkvox.Config) { c.Gates = mine })
	_, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Gates: theirs})
	if !errors.Is(err, wolkvox.ErrTokenInUse) {
		t.Fatalf("a second holder of the token: %v, want ErrTokenInUse", err)
	}
	if strings.Contains(err.Error(), srv.Token()) {
		t.Errorf("the error quotes the token: %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, m := range matches {
		if strings.Contains(m, srv.Token()) {
			t.Errorf("the lock file is named after the token: %s", m)
		}
	}
	a.Close()
	if _, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Gates: theirs}); !errors.Is(err, wolkvox.ErrTokenInUse) {
		t.Fatalf("with one of two clients closed: %v, want ErrTokenInUse", err)
	}
	b.Close()
	c, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Gates: theirs})
	if err != nil {
		t.Fatalf("after every client closed: %v", err)
	}
	c.Close()
}

// A call in flight on the old token when SetToken rotates it may end in an
// error that quotes the token (a server echoing its header): the old
// token is redacted too, or the landing page and the log would show the
// very token being rotated away because it leaked.
func TestRotatedTokenIsRedactedFromTheCallInFlight(t *testing.T) {
	const oldToken, newToken = "OLDTOKEN-aaaabbbbccccdddd", "NEWTOKEN-eeeeffffgggghhhh"
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		http.Error(w, "bad request for token "+r.Header.Get("wolkvox-token"), http.StatusBadRequest)
	}))
	defer srv.Close()
	c, err := wolkvox.New(wolkvox.Config{BaseURL: srv.URL, Token: oldToken, Location: bogota, Retry: wolkvox.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.FetchTransfers(context.Background(), wolkvox.PurposeNew, day, func(wolkvox.Window, []wolkvox.Transfer) error { return nil })
		done <- err
	}()
	<-arrived
	if err := c.SetToken(newToken); err != nil {
		t.Fatal(err)
	}
	close(release)
	err = <-done
	if err == nil || strings.Contains(err.Error(), "OLDTOKEN") || strings.Contains(err.Error(), "aaaabbbb") {
		t.Errorf("the call in flight's error: %v", err)
	}
}

// A lock directory that cannot hold the lock (missing, read-only) is no
// reason not to run: the client works, and the warning says why the
// host-wide protection is off. Another process holding the lock is.
func TestUnusableLockDirWarnsAndRuns(t *testing.T) {
	srv := newFake(t, traffic())
	var warned []error
	gates := wolkvox.NewGates(filepath.Join(t.TempDir(), "missing"), func(err error) { warned = append(warned, err) })
	c := newClient(t, srv, func(c *wolkvox.Config) { c.Gates = gates })
	if _, _, err := transfersOf(t, c, day); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 {
		t.Errorf("warnings: %v, want one", warned)
	}
}
