// Package supervisor runs and reloads an exporter's operations, one poller
// each, and serves their metrics with the exporter-wide ones.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Supervisor runs one poller per operation and serves all their metrics. A
// reload hands it the new set of operations: it keeps the pollers whose
// settings did not change, polling without a break and keeping their
// counters (a new token is handed to the running poller), restarts the
// changed ones (their state files carry their counters over), stops the
// removed ones and deletes their state, and starts the new ones.
type Supervisor struct {
	ctx    context.Context
	logger log.Logger

	mu      sync.Mutex // one Apply at a time; guards running
	running map[string]*running

	view   sync.RWMutex // what scrapes and the landing page read
	sorted []*running

	reloads reloadStatus
	// gates are the token gates every operation's client shares (see
	// wolkvox.Gates), where its config brings none.
	gates *wolkvox.Gates
	descs *collector.Descs // the exporter-wide families'
}

type running struct {
	cfg    poller.Config
	poller *poller.Poller
	cancel context.CancelFunc
	done   chan struct{}
}

type reloadStatus struct {
	mu          sync.Mutex
	ok          bool
	lastSuccess time.Time
}

// New returns a supervisor whose pollers run until ctx is done.
// Operations whose client config brings no token gates share gates, the
// process's (nil: the supervisor's own, without host-wide locks).
func New(ctx context.Context, logger log.Logger, gates *wolkvox.Gates) *Supervisor {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	if gates == nil {
		gates = wolkvox.NewGates("", nil)
	}
	return &Supervisor{ctx: ctx, logger: logger, running: map[string]*running{}, gates: gates, descs: collector.ExporterDescs()}
}

// sameSettings reports whether two operation configs differ at most in
// their token. It compares every field but those that are not settings
// (the token, and the process's gates, clock, logger and hooks), so a
// field added to poller.Config restarts its poller on reload without being
// listed here.
func sameSettings(a, b poller.Config) bool {
	settings := func(c poller.Config) (poller.Config, string) {
		zone := ""
		if c.Client.Location != nil {
			zone = c.Client.Location.String()
		}
		c.Client.Token, c.Client.Location, c.Client.Gates, c.Client.HTTPClient, c.Client.ObserveRequest = "", nil, nil, nil, nil
		c.Client.Retry.Sleep = nil
		c.Clock, c.Logger = nil, nil
		return c, zone
	}
	sa, za := settings(a)
	sb, zb := settings(b)
	return za == zb && reflect.DeepEqual(sa, sb)
}

// Apply makes the running operations those of cfgs, and records the
// outcome as the last reload's. Operation names and tokens must be
// unique: two pollers on one token would make the requests at once that
// the API forbids. An operation whose new poller cannot start keeps its
// old one; the error says which.
func (r *Supervisor) Apply(cfgs []poller.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.apply(cfgs)
	r.reloads.mu.Lock()
	r.reloads.ok = err == nil
	if err == nil {
		r.reloads.lastSuccess = time.Now()
	}
	r.reloads.mu.Unlock()
	r.publish()
	return err
}

// apply runs in phases, so that nothing is stopped for a set that cannot
// run, and no failure can come after something was stopped:
//
//  1. check the whole set (unique names and tokens) and prepare every new
//     and changed poller without starting it: its client built (which
//     takes its token's host-wide lock), a new state file locked and
//     loaded; on any problem, undo the prepared and change nothing, so
//     every running operation keeps its settings;
//  2. hand kept pollers whose token changed their new one;
//  3. stop every poller that leaves or changes;
//  4. start the prepared: a changed one takes over its predecessor's
//     ledger, counters and state lock, which cannot fail.
//
// The token gates (wolkvox.Gates) keep any two clients with one token
// from calling at once, whatever the order here: a token moving from one
// operation to another waits for the call, and the hang-up wait, of its
// last holder.
func (r *Supervisor) apply(cfgs []poller.Config) error {
	cfgs = slices.Clone(cfgs)
	for i := range cfgs {
		if cfgs[i].Client.Gates == nil {
			cfgs[i].Client.Gates = r.gates
		}
	}
	names, tokens := map[string]bool{}, map[string]string{}
	for _, c := range cfgs {
		if names[c.Operation] {
			return fmt.Errorf("operation %s is listed twice", c.Operation)
		}
		names[c.Operation] = true
		if other, ok := tokens[c.Client.Token]; ok {
			return fmt.Errorf("operations %s and %s share a token; the API forbids two requests at once with one token", other, c.Operation)
		}
		tokens[c.Client.Token] = c.Operation
	}

	// Phase 1.
	prepared := map[string]*poller.Poller{}
	var errs []error
	for _, c := range cfgs {
		old := r.running[c.Operation]
		if old != nil && sameSettings(old.cfg, c) {
			continue
		}
		// A changed operation continues from its running poller's memory,
		// which is never behind its state file.
		var p *poller.Poller
		var err error
		if old == nil {
			p, err = poller.New(c)
		} else {
			p, err = poller.NewSuccessor(c, old.poller)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("operation %s: %w", c.Operation, err))
			continue
		}
		prepared[c.Operation] = p
	}
	// A kept operation whose token changes takes its new token now, while
	// nothing has changed: another process on this host may hold it.
	var held []*wolkvox.Client
	defer func() {
		for _, c := range held {
			c.Close() // the pollers hold their own by then
		}
	}()
	for _, c := range cfgs {
		old := r.running[c.Operation]
		if old == nil || prepared[c.Operation] != nil || old.cfg.Client.Token == c.Client.Token {
			continue
		}
		client, err := wolkvox.New(c.Client)
		if err != nil {
			errs = append(errs, fmt.Errorf("operation %s: %w", c.Operation, err))
			continue
		}
		held = append(held, client)
	}
	if len(errs) > 0 {
		for _, p := range prepared {
			p.Close()
		}
		return errors.Join(errs...)
	}

	// Phase 2.
	for _, c := range cfgs {
		old := r.running[c.Operation]
		if old == nil || prepared[c.Operation] != nil || old.cfg.Client.Token == c.Client.Token {
			continue
		}
		if err := old.poller.SetToken(c.Client.Token); err != nil {
			// Cannot fail: the token passed the validator and is held.
			errs = append(errs, fmt.Errorf("operation %s keeps its previous token: %w", c.Operation, err))
			continue
		}
		level.Info(r.logger).Log("msg", "token rotated; the operation keeps polling", "operation", c.Operation)
		// A new record, not a write to one scrapes may be reading.
		r.running[c.Operation] = &running{cfg: c, poller: old.poller, cancel: old.cancel, done: old.done}
	}

	// Phase 3.
	stopped := map[string]*running{}
	for name, old := range r.running {
		if _, changed := prepared[name]; !changed && names[name] {
			continue
		}
		old.stop()
		delete(r.running, name)
		if !names[name] {
			old.poller.Close()
			r.removeState(name, old.cfg)
			continue
		}
		stopped[name] = old
	}

	// Phase 4.
	for name, p := range prepared {
		if prev := stopped[name]; prev != nil {
			p.TakeOver(prev.poller)
			prev.poller.Close()
			level.Info(r.logger).Log("msg", "operation's settings changed; its poller restarted", "operation", name)
		}
		r.running[name] = r.start(p)
	}
	return errors.Join(errs...)
}

// removeState deletes the state of an operation that left the config.
func (r *Supervisor) removeState(name string, cfg poller.Config) {
	if cfg.StateFile != "" {
		// Not its lock file: a process that opened it a moment ago would
		// lock an unlinked file while the next locks a new one.
		for _, f := range []string{cfg.StateFile} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				level.Warn(r.logger).Log("msg", "could not remove the state of a removed operation", "operation", name, "err", err)
			}
		}
	}
	level.Info(r.logger).Log("msg", "operation removed; its poller stopped and its state deleted", "operation", name)
}

// start runs p until the supervisor's context is done or it is stopped.
func (r *Supervisor) start(p *poller.Poller) *running {
	ctx, cancel := context.WithCancel(r.ctx)
	run := &running{cfg: p.Config(), poller: p, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(run.done); p.Run(ctx) }()
	return run
}

// stop ends the poller, abandoning a call in flight. Its token gate makes
// the token's next call, by whichever client, wait as after a hang-up.
func (o *running) stop() {
	o.cancel()
	<-o.done
}

// publish swaps in the sorted view scrapes read.
func (r *Supervisor) publish() {
	sorted := make([]*running, 0, len(r.running))
	for _, o := range r.running {
		sorted = append(sorted, o)
	}
	slices.SortFunc(sorted, func(a, b *running) int {
		if a.cfg.Operation < b.cfg.Operation {
			return -1
		}
		return 1
	})
	r.view.Lock()
	r.sorted = sorted
	r.view.Unlock()
}

func (r *Supervisor) operations() []*running {
	r.view.RLock()
	defer r.view.RUnlock()
	return r.sorted
}

// Stop stops every poller; for shutdown.
func (r *Supervisor) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, o := range r.running {
		o.stop()
		o.poller.Close()
		delete(r.running, name)
	}
	r.publish()
}

// Describe sends nothing: the set of operations, and so of descriptors,
// changes with reloads. The supervisor is an unchecked collector.
func (r *Supervisor) Describe(chan<- *prometheus.Desc) {}

// Collect sends every operation's metrics and the exporter-wide ones.
func (r *Supervisor) Collect(ch chan<- prometheus.Metric) {
	ops := r.operations()
	for _, o := range ops {
		o.poller.Collector().Collect(ch)
	}
	r.reloads.mu.Lock()
	ok, last := r.reloads.ok, r.reloads.lastSuccess
	r.reloads.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(r.descs.Of(ledger.ReloadSuccessful), prometheus.GaugeValue, collector.Bool(ok))
	if !last.IsZero() {
		ch <- prometheus.MustNewConstMetric(r.descs.Of(ledger.ReloadSuccessSeconds), prometheus.GaugeValue, collector.Unix(last))
	}
	ch <- prometheus.MustNewConstMetric(r.descs.Of(ledger.Operations), prometheus.GaugeValue, float64(len(ops)))
}

// OperationStatus is what the landing page and /-/ready show of one
// operation.
type OperationStatus struct {
	Name     string
	Location *time.Location
	Status   *collector.Status
}

// Status returns every operation's status, sorted by name.
func (r *Supervisor) Status() []OperationStatus {
	var out []OperationStatus
	for _, o := range r.operations() {
		out = append(out, OperationStatus{Name: o.cfg.Operation, Location: o.cfg.Client.Location, Status: o.poller.Status()})
	}
	return out
}

// NotReady names the operations that have not yet polled both reports
// successfully.
func (r *Supervisor) NotReady() []string {
	var out []string
	for _, s := range r.Status() {
		if !s.Status.Ready() {
			out = append(out, s.Name)
		}
	}
	return out
}

// Endpoints returns each operation's API URL, without secrets.
func (r *Supervisor) Endpoints() map[string]string {
	out := map[string]string{}
	for _, o := range r.operations() {
		out[o.cfg.Operation] = o.poller.Endpoint()
	}
	return out
}

// ReloadFailed records a reload that failed before it reached Apply (a
// file that does not load): the running operations stay as they are.
func (r *Supervisor) ReloadFailed() {
	r.reloads.mu.Lock()
	r.reloads.ok = false
	r.reloads.mu.Unlock()
}
