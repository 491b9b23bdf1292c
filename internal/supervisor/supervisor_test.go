package supervisor

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// operationConfig is one operation against its own fake, polled every
// 200 ms of real time.
func operationConfig(name string, srv *wolkvoxtest.Server) poller.Config {
	return poller.Config{
		Operation: name,
		Client: wolkvox.Config{BaseURL: srv.URL, Token: srv.Token(), Location: bogota, Timeout: 3 * time.Second,
			Retry: wolkvox.RetryPolicy{Attempts: 1}},
		Interval: 200 * time.Millisecond, Delay: 0, MaxCatchup: time.Hour, AgentMetrics: true, AgentTTL: time.Hour,
	}
}

// byOperation sums a metric's samples per operation label.
func byOperation(t *testing.T, r *Supervisor, name string, match ...string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for _, kv := range match {
				k, v, _ := strings.Cut(kv, "=")
				if labels[k] != v {
					continue next
				}
			}
			out[labels["operation"]] += value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

// Three operations, each against its own fake with its own token: each
// operation's counts equal what its own fake served; one operation's API
// hanging past its timeout never delays the others' polls.
func TestOperationsAreCountedApartAndNeverWaitForEachOther(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(ctx, nil, nil)
	defer r.Stop()
	srvs := map[string]*wolkvoxtest.Server{}
	var cfgs []poller.Config
	for i, name := range []string{"bogota", "lima", "quito"} {
		srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: fmt.Sprintf("tok-%d", i), Location: bogota, TB: t,
			Data: &wolkvoxtest.Traffic{Seed: uint64(i), Location: bogota, TransfersPerMinute: 1200, InteractionsPerMinute: 60, BodyBytes: 32}})
		t.Cleanup(srv.Close)
		srvs[name] = srv
		cfgs = append(cfgs, operationConfig(name, srv))
	}
	srvs["quito"].FailAll(wolkvoxtest.Fault{Latency: 10 * time.Second}) // hangs past its 3 s timeout
	if err := r.Apply(cfgs); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	// The healthy operations kept polling every 200 ms meanwhile, and
	// quito shows down once its call timed out.
	for _, name := range []string{"bogota", "lima"} {
		if n := len(srvs[name].Requests()); n < 12 {
			t.Errorf("%s made %d calls in 3.5 s while quito hung; want its polls on time (about 35)", name, n)
		}
	}
	if up := byOperation(t, r, "wolkvox_report_up"); up["quito"] != 0 || up["bogota"] != 2 || up["lima"] != 2 {
		t.Errorf("report_up by operation: %v", up)
	}
	for _, srv := range srvs {
		srv.FailAll(wolkvoxtest.Fault{Status: 400, Body: "frozen"}) // nothing more served or counted
	}
	time.Sleep(time.Second)
	transfers := byOperation(t, r, "wolkvox_transfers_total")
	chats := byOperation(t, r, "wolkvox_chat_interactions_total")
	for _, name := range []string{"bogota", "lima"} {
		if got, want := transfers[name], float64(len(srvs[name].ServedTransfers())); got != want || want == 0 {
			t.Errorf("%s: transfers_total %v, its fake served %v", name, got, want)
		}
		if got, want := chats[name], float64(len(srvs[name].ServedInteractions())); got != want {
			t.Errorf("%s: chat_interactions_total %v, its fake served %v", name, got, want)
		}
	}
}

// A reload that keeps, changes, adds and removes operations: the kept one
// polls on and its counters continue; the others start or stop. Two
// operations on one token are refused, and the last good set keeps running.
func TestApplyKeepsChangesAddsAndRemoves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(ctx, nil, nil)
	defer r.Stop()
	newSrv := func(token string) *wolkvoxtest.Server {
		srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: token, Location: bogota, TB: t,
			Data: &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 1200}})
		t.Cleanup(srv.Close)
		return srv
	}
	a, b, c := newSrv("tok-a"), newSrv("tok-b"), newSrv("tok-c")
	keep, change, drop := operationConfig("keep", a), operationConfig("change", b), operationConfig("drop", c)
	if err := r.Apply([]poller.Config{keep, change, drop}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	keptPoller := r.running["keep"].poller
	before := byOperation(t, r, "wolkvox_transfers_total")["keep"]
	changedBefore := byOperation(t, r, "wolkvox_transfers_total")["change"]

	change.Interval = 400 * time.Millisecond
	added := operationConfig("added", newSrv("tok-d"))
	if err := r.Apply([]poller.Config{keep, change, added}); err != nil {
		t.Fatal(err)
	}
	if r.running["keep"].poller != keptPoller {
		t.Error("an unchanged operation's poller was replaced")
	}
	if r.running["change"].cfg.Interval != 400*time.Millisecond {
		t.Error("a changed operation runs its old settings")
	}
	// Without a state file, the restarted poller takes over the old one's
	// ledger: its counters continue.
	if got := byOperation(t, r, "wolkvox_transfers_total")["change"]; got < changedBefore || changedBefore == 0 {
		t.Errorf("the changed operation's transfers_total went from %v to %v", changedBefore, got)
	}
	if _, ok := r.running["drop"]; ok {
		t.Error("a removed operation still runs")
	}
	calls := len(c.Requests())
	time.Sleep(time.Second)
	if len(c.Requests()) != calls {
		t.Error("a removed operation still calls its API")
	}
	got := byOperation(t, r, "wolkvox_transfers_total")
	if got["keep"] <= before || got["added"] == 0 {
		t.Errorf("after the reload: %v (keep was %v before)", got, before)
	}

	// Two operations on one token: refused, and nothing changes.
	twin := operationConfig("twin", a)
	if err := r.Apply([]poller.Config{keep, change, added, twin}); err == nil || !strings.Contains(err.Error(), "share a token") {
		t.Errorf("two operations on one token: %v", err)
	}
	if _, ok := r.running["twin"]; ok || r.running["keep"].poller != keptPoller {
		t.Error("a refused reload changed what runs")
	}
	if ok := byOperation(t, r, "wolkvox_exporter_config_last_reload_successful"); ok[""] != 0 {
		t.Errorf("last reload successful = %v after a refused reload", ok[""])
	}
}

// Reloads that move tokens around must never put one token in two calls
// at once (the fake fails the test on any overlap, per token): two
// operations swapping tokens, and a changed operation restarted while its
// call is slow, its token moving to a new operation listed first.
func TestReloadNeverOverlapsATokensCalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(ctx, nil, nil)
	defer r.Stop()
	// One server for both operations: it tells calls apart by token.
	srv := wolkvoxtest.NewServer(wolkvoxtest.Config{Token: "tok-1", Location: bogota, TB: t,
		Data: &wolkvoxtest.Traffic{Seed: 1, Location: bogota, TransfersPerMinute: 600}})
	t.Cleanup(srv.Close)
	srv.SetToken("tok-1", "tok-2", "tok-3")
	srv.FailAll(wolkvoxtest.Fault{Latency: 150 * time.Millisecond}) // every call is in flight a while
	a, b := operationConfig("a", srv), operationConfig("b", srv)
	a.Client.Token, b.Client.Token = "tok-1", "tok-2"
	a.Interval, b.Interval = 10*time.Millisecond, 10*time.Millisecond
	if err := r.Apply([]poller.Config{a, b}); err != nil {
		t.Fatal(err)
	}
	// Each reload once calls have gone on since the last: a reload no
	// longer waits for calls in flight, so time alone proves nothing.
	callsGoOn := func() {
		n := len(srv.Requests())
		waitFor(t, func() bool { return len(srv.Requests()) >= n+3 })
	}
	for range 5 {
		callsGoOn()
		a.Client.Token, b.Client.Token = b.Client.Token, a.Client.Token
		if err := r.Apply([]poller.Config{a, b}); err != nil {
			t.Fatal(err)
		}
	}
	// b changes (a new interval) and gives its token to a new operation
	// listed before it; b takes the third token.
	callsGoOn()
	c := operationConfig("c", srv)
	c.Client.Token, c.Interval = b.Client.Token, 10*time.Millisecond
	b.Client.Token, b.Interval = "tok-3", 20*time.Millisecond
	if err := r.Apply([]poller.Config{c, a, b}); err != nil {
		t.Fatal(err)
	}
	callsGoOn()
	callsGoOn()
	if n := srv.Overlaps(); n != 0 {
		t.Errorf("%d calls overlapped another with the same token", n)
	}
	if len(srv.Requests()) < 20 {
		t.Errorf("only %d calls: the test did not exercise the reloads", len(srv.Requests()))
	}
}

// Every setting of an operation, the ones added later included, makes a
// reload restart its poller; only the token is handed over in place.
func TestSameSettingsSeesEveryField(t *testing.T) {
	srv := newFake(t, nil)
	base := operationConfig("op", srv)
	other := base
	other.Client.Token = "another"
	if !sameSettings(base, other) {
		t.Error("a new token alone counts as a change of settings")
	}
	change := func(v reflect.Value, path string) {
		var skip = map[string]bool{"Client.Token": true, "Client.Gates": true, "Client.HTTPClient": true, "Client.ObserveRequest": true,
			"Client.Retry.Sleep": true, "Clock": true, "Logger": true, "Client": true, "Client.Retry": true, "Client.Location": true,
			"Realtime": true, "Realtime.Targets": true, "Follow": true}
		if skip[path] {
			return
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Float64:
			v.SetFloat(v.Float() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
		case reflect.Map:
			m := reflect.MakeMap(v.Type())
			m.SetMapIndex(reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem())
			v.Set(m)
		default:
			t.Errorf("%s: a %v setting this test cannot change; teach it", path, v.Kind())
		}
	}
	var walk func(typ reflect.Type, prefix string, get func(*poller.Config) reflect.Value)
	walk = func(typ reflect.Type, prefix string, get func(*poller.Config) reflect.Value) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			path := prefix + f.Name
			field := func(c *poller.Config) reflect.Value { return get(c).Field(i) }
			if f.Type.Kind() == reflect.Struct && (path == "Client" || path == "Client.Retry" || path == "Realtime" || path == "Realtime.Targets" || path == "Follow") {
				walk(f.Type, path+".", field)
				continue
			}
			c := base
			before := c
			change(field(&c), path)
			if reflect.DeepEqual(c, before) {
				continue
			}
			if sameSettings(base, c) {
				t.Errorf("a change of %s is not seen as a change of settings", path)
			}
		}
	}
	walk(reflect.TypeOf(base), "", func(c *poller.Config) reflect.Value { return reflect.ValueOf(c).Elem() })
	loc, _ := time.LoadLocation("America/Lima")
	moved := base
	moved.Client.Location = loc
	if sameSettings(base, moved) {
		t.Error("a new zone is not seen as a change of settings")
	}
}
