// Command wolkvox_exporter exports Wolkvox contact-center reports (call
// transfers and conferences from agent_13_1; e-mail, chat and social
// interactions from chat_4) as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // so --wolkvox.timezone resolves in a bare container

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/wolkvox-exporter/wolkvox_exporter/config"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/demo"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/safefile"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/supervisor"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

const exporterName = "wolkvox_exporter"

func main() {
	if version.Version == "" {
		version.Version = "dev" // not stamped with -ldflags -X
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

// flags are the command line, in kingpin style.
type flags struct {
	server, baseURL, tokenFile, timezone  *string
	timeout                               *time.Duration
	dailyQuota                            *int
	interval, delay, maxCatchup, agentTTL *time.Duration
	revisit                               *time.Duration
	follow                                *bool
	followMaxAge                          *model.Duration
	followCalls                           *int
	openAgeTarget                         *model.Duration
	intervalSet, delaySet, revisitSet     bool
	realtimeInterval, quotaInterval       *time.Duration
	realtimeSet, quotaSet                 bool
	skills                                *[]string
	maxSeries                             *int
	configFile, stateDir, operation       *string
	configCheck, enableLifecycle          *bool
	agents, demo                          *bool
	stateFile, telemetryPath, lockDir     *string
	logLevel, logFormat                   *string
	web                                   *web.FlagConfig

	command  string // "serve" or "backfill"
	backfill backfillFlags
}

// durationFlag is a flag in Prometheus's duration syntax, which has days
// and weeks ("14d"), as the config file's durations do.
func durationFlag(c *kingpin.FlagClause) *model.Duration {
	d := new(model.Duration)
	c.SetValue(&durationValue{d})
	return d
}

type durationValue struct{ d *model.Duration }

func (v *durationValue) Set(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (v *durationValue) String() string { return v.d.String() }

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	app := kingpin.New(exporterName, "Prometheus exporter for Wolkvox contact-center reports: call transfers and conferences (agent_13_1) and chat, e-mail and social interactions (chat_4).")
	app.ErrorWriter(stderr)
	app.UsageWriter(stderr)
	f := &flags{
		configFile:       app.Flag("config.file", "YAML file listing the operations to poll (see examples/wolkvox.yml). Without it, the --wolkvox.* flags describe one operation. Reloaded on SIGHUP and, with --web.enable-lifecycle, POST /-/reload.").String(),
		configCheck:      app.Flag("config.check", "Check --config.file (or the flags' operation) and exit: 0 when good, 2 with one line per problem.").Bool(),
		enableLifecycle:  app.Flag("web.enable-lifecycle", "Enable POST /-/reload, as in Prometheus.").Bool(),
		stateDir:         app.Flag("storage.state-dir", "Directory to keep one state file per operation in (OPERATION.state); see --storage.state-file.").String(),
		operation:        app.Flag("wolkvox.operation", "Name of the flags' operation, its operation label. Default: the server code, or the --wolkvox.url host.").String(),
		server:           app.Flag("wolkvox.server", "The operation's server code: 0002 means https://wv0002.wolkvox.com.").String(),
		baseURL:          app.Flag("wolkvox.url", "Base URL of the API, overriding --wolkvox.server.").String(),
		tokenFile:        app.Flag("wolkvox.token-file", "File holding the wolkvox-token. Default: the WOLKVOX_TOKEN environment variable. The token is never a flag value, because those show in process lists.").String(),
		timezone:         app.Flag("wolkvox.timezone", "The operation's time zone; the API's dates carry none.").Default("America/Bogota").String(),
		timeout:          app.Flag("wolkvox.timeout", "Timeout of one API call, body included. The API allows itself 60s.").Default("60s").Duration(),
		dailyQuota:       app.Flag("wolkvox.daily-quota", "The operation's daily token quota (licenses x 1000), exported for the quota alert. 0: unknown.").Default("0").Int(),
		interval:         app.Flag("poll.interval", "How often to poll each report. Each poll spends 2 tokens of the daily quota. With --demo, 15s unless given.").Default("5m").Duration(),
		delay:            app.Flag("poll.delay", "How far behind now windows end, for rows that land late. With --demo, 0s unless given.").Default("1m").Duration(),
		maxCatchup:       app.Flag("poll.max-catchup", "After an outage, fetch at most this far back; older time is skipped and counted.").Default("24h").Duration(),
		revisit:          app.Flag("chat.revisit", "Re-read chat_4 over this trailing horizon, so that cases closed, surveyed or typified after they were first read are counted. 0 turns it off. With --demo, 30m unless given.").Default("24h").Duration(),
		follow:           app.Flag("chat.follow", "Keep following chat_4 cases still open beyond --chat.revisit: re-read only the creation windows that hold them, so that every late close, survey and typification is counted and the backlog is true. Costs at most --chat.follow.max-calls-per-day. Turn off with --no-chat.follow.").Default("true").Bool(),
		followMaxAge:     durationFlag(app.Flag("chat.follow.max-age", "Give up on a case still open this long after its creation: it is counted in wolkvox_chat_follow_given_up_total, no longer shown open, and a later close is not counted.").Default("14d")),
		openAgeTarget:    durationFlag(app.Flag("chat.open-age-target", "The age by which an open chat_4 case should be closed: wolkvox_chat_open_past_target_interactions and the WolkvoxChatOpenPastTarget alert. Per operation: targets: chat_open_age. Must be below --chat.follow.max-age.").Default("48h")),
		followCalls:      app.Flag("chat.follow.max-calls-per-day", "The most calls a day following may spend of the daily quota; a pass it cannot pay for waits, and the open figures grow staler.").Default(strconv.Itoa(ledger.DefaultFollowCallsPerDay)).Int(),
		realtimeInterval: app.Flag("realtime.interval", "How often to read the real-time skills and agents snapshots (queues, service level, abandons, agent states); each read spends 2 tokens (1 + one per --realtime.skill). Default: --poll.interval. 0 turns real time off.").Default("5m").Duration(),
		skills:           app.Flag("realtime.skill", "A skill id to read the real-time skills snapshot of, one call each; repeatable. Default: all skills in one call (skill_id=all), where the API allows it.").Strings(),
		quotaInterval:    app.Flag("quota.interval", "How often to read token_info, the operation's true token use today (1 token each). 0 turns it off.").Default("1h").Duration(),
		maxSeries:        app.Flag("collector.max-series-per-metric", "Label combinations each metric may take; beyond it, observations count under labels \"other\" (wolkvox_series_overflow_total).").Default(strconv.Itoa(ledger.DefaultMaxSeriesPerMetric)).Int(),
		agents:           app.Flag("collector.agents", "Export per-agent metrics.").Default("true").Bool(),
		agentTTL:         app.Flag("collector.agents.ttl", "Drop an agent from the per-agent metrics when not seen for this long.").Default("24h").Duration(),
		lockDir:          app.Flag("storage.lock-dir", "Directory of the host-wide token locks, which make a second exporter or a backfill with a token in use on this host exit 2. Every process with the same tokens must use the same one. Default: the temporary directory ($TMPDIR).").String(),
		stateFile:        app.Flag("storage.state-file", "File to keep window marks and de-duplication keys in, so a restart neither leaves a gap nor counts twice. Unset: start fresh each time.").String(),
		demo:             app.Flag("demo", "Serve generated demo data from a built-in fake API; needs no server or token.").Bool(),
		telemetryPath:    app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String(),
		logLevel:         app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error"),
		logFormat:        app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json"),
		web:              kingpinflag.AddFlags(app, ":10049"),
	}
	app.GetFlag("poll.interval").IsSetByUser(&f.intervalSet)
	app.GetFlag("poll.delay").IsSetByUser(&f.delaySet)
	app.GetFlag("chat.revisit").IsSetByUser(&f.revisitSet)
	app.GetFlag("realtime.interval").IsSetByUser(&f.realtimeSet)
	app.GetFlag("quota.interval").IsSetByUser(&f.quotaSet)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	app.Command("serve", "Poll the operations and serve their metrics (the default).").Default()
	f.backfill.add(app.Command("backfill", "Write past weeks of the operations' metrics as Prometheus TSDB blocks, joined to the live exporter's counters (see the README's \"Backfilling history\")."))
	cmd, err := app.Parse(args)
	f.command = cmd
	return f, err
}

// newLogger returns the exporter's go-kit logger and an slog logger for
// exporter-toolkit that writes through it. The slog bridge adds its own
// time and level keys, so only the go-kit side gets a timestamp.
func newLogger(f *flags, w io.Writer) (log.Logger, *slog.Logger) {
	var base log.Logger
	if *f.logFormat == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		base = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var allow level.Option
	var slogLevel slog.Level
	switch *f.logLevel {
	case "debug":
		allow, slogLevel = level.AllowDebug(), slog.LevelDebug
	case "warn":
		allow, slogLevel = level.AllowWarn(), slog.LevelWarn
	case "error":
		allow, slogLevel = level.AllowError(), slog.LevelError
	default:
		allow, slogLevel = level.AllowInfo(), slog.LevelInfo
	}
	base = level.NewFilter(base, allow)
	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, slog.New(sloggokit.NewGoKitHandler(base, slogLevel))
}

// telemetryPath is what --web.telemetry-path may be: a plain path, which
// Go's mux would otherwise read as a method or a wildcard pattern.
var telemetryPath = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)

// checkFlags rejects values kingpin accepts but the exporter cannot use,
// so that they end in one clear line rather than a panic or a silent default.
func checkFlags(f *flags) error {
	switch {
	case *f.maxSeries < 1:
		return fmt.Errorf("--collector.max-series-per-metric must be positive, not %d", *f.maxSeries)
	case *f.agentTTL < time.Minute || *f.agentTTL > 31*24*time.Hour:
		return fmt.Errorf("--collector.agents.ttl must be between 1m and 31d, not %v", *f.agentTTL)
	case !strings.HasPrefix(*f.telemetryPath, "/"):
		return fmt.Errorf("--web.telemetry-path %q must start with /", *f.telemetryPath)
	case !telemetryPath.MatchString(*f.telemetryPath):
		return fmt.Errorf("--web.telemetry-path %q must be a plain path: letters, digits and - . _ ~ /", *f.telemetryPath)
	case slices.Contains([]string{"/-/healthy", "/-/ready", "/-/reload", "/favicon.ico"}, *f.telemetryPath):
		return fmt.Errorf("--web.telemetry-path %q is taken by the exporter's own endpoint", *f.telemetryPath)
	case *f.configFile != "" && *f.stateFile != "":
		return errors.New("--storage.state-file is for the flags' one operation; with --config.file use --storage.state-dir")
	case *f.configFile != "" && *f.demo:
		return errors.New("--demo runs one built-in operation; it does not take --config.file")
	}
	// exporter-toolkit reads this file only once it is listening.
	if file := *f.web.WebConfigFile; file != "" {
		if err := safefile.Check(file, config.MaxWebConfigBytes); err != nil {
			return fmt.Errorf("--web.config.file: %w", err)
		}
		if err := web.Validate(file); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", file, err)
		}
	}
	return nil
}

// newHTTPServer returns the server for handler, with bounded timeouts so
// that idle keep-alive connections and slow clients cannot hold sockets
// for ever. A scrape of the largest /metrics is well under the write
// timeout.
func newHTTPServer(handler http.Handler) *http.Server {
	return &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
}

// checkConfig loads the operations as a start would, and says whether
// they are good: one line per problem, exit 2; or one line and exit 0.
func checkConfig(ops *operations, w io.Writer) int {
	cfgs, errs := ops.load()
	errs = append(errs, checkPlans(cfgs)...)
	for _, err := range errs {
		fmt.Fprintf(w, "%s: error: %v\n", exporterName, err)
	}
	if len(errs) > 0 {
		return 2
	}
	fmt.Fprintf(w, "%s: configuration is good: %d operation(s)\n", exporterName, len(cfgs))
	for _, cfg := range cfgs {
		p := poller.PlanOf(cfg)
		fmt.Fprintf(w, "%s: operation %s plans %.0f calls a day: %.0f new windows, %.0f revisits, %s, %.0f real time%s\n", exporterName, cfg.Operation,
			poller.PlannedCallsPerDay(cfg), p.NewWindows, p.Revisits, followPlan(cfg), p.Realtime, quotaShare(cfg))
	}
	return 0
}

func run(args []string, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v, try --help\n", exporterName, err)
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: error: %s\n", exporterName, fmt.Sprintf(format, a...))
		return 2
	}
	if err := checkFlags(f); err != nil {
		return fail("%v", err)
	}
	logger, slogger := newLogger(f, stderr)

	// SIGHUP's default action ends the process: catch it from the start,
	// before the configuration is even read; it is served below.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// The process's token gates: one call per token at a time, whatever
	// the operations, reloads or backfill do, and a lock per token in the
	// host's temporary directory, so a second exporter or a backfill with
	// the same token on this host exits 2 instead of overlapping calls.
	// The demo's fake API and its token are the process's own.
	lockDir := *f.lockDir
	if lockDir == "" {
		lockDir = os.TempDir()
	}
	gates := wolkvox.NewGates(lockDir, func(err error) {
		level.Warn(logger).Log("msg", "running without a host-wide token lock; set --storage.lock-dir to a writable directory", "err", err)
	})
	if *f.demo {
		gates = wolkvox.NewGates("", nil)
	}
	ops := &operations{f: f, logger: logger, gates: gates}
	if *f.configCheck {
		return checkConfig(ops, stderr)
	}
	if f.command == "backfill" {
		return runBackfill(f, ops, logger, stderr)
	}
	var demoSrv *wolkvoxtest.Server
	if *f.demo {
		loc, err := config.LoadZone(*f.timezone)
		if err != nil {
			return fail("--wolkvox.timezone: %v", err)
		}
		demoSrv = demo.Start(loc)
		defer demoSrv.Close()
		ops.demoURL, ops.demoToken = demoSrv.URL, demoSrv.Token()
		// Lively defaults for a demo, unless given.
		if !f.intervalSet {
			*f.interval = demo.Interval
		}
		if !f.delaySet {
			*f.delay = demo.Delay
		}
		if !f.revisitSet {
			*f.revisit = demo.Revisit
		}
		if !f.quotaSet {
			*f.quotaInterval = demo.QuotaInterval
		}
		if *f.dailyQuota == 0 {
			*f.dailyQuota = demo.DailyQuota
		}
		level.Warn(logger).Log("msg", "DEMO MODE: serving generated data from a built-in fake Wolkvox API, not a real operation", "fake_api", demoSrv.URL,
			"interval", *f.interval, "delay", *f.delay, "chat_revisit", *f.revisit)
	}
	cfgs, errs := ops.load()
	errs = append(errs, checkPlans(cfgs)...)
	if len(errs) > 0 {
		return fail("%v", errs[0]) // at start, the first problem; --config.check lists all
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	registry := supervisor.New(ctx, logger, gates)
	if err := registry.Apply(cfgs); err != nil {
		return fail("%v", err)
	}
	defer registry.Stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		registry,
		versioncollector.NewCollector(exporterName),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	// One reload at a time, read and apply together: a SIGHUP and a POST
	// at once must not apply an older file over a newer one.
	var reloading sync.Mutex
	reload := func(how string) error {
		if *f.configFile == "" {
			return errNoConfigFile
		}
		reloading.Lock()
		defer reloading.Unlock()
		cfgs, errs := ops.load()
		errs = append(errs, checkPlans(cfgs)...)
		if len(errs) > 0 {
			registry.ReloadFailed()
			for _, err := range errs {
				level.Error(logger).Log("msg", "reload failed; the previous configuration keeps running", "by", how, "err", err)
			}
			return errors.Join(errs...)
		}
		if err := registry.Apply(cfgs); err != nil {
			level.Error(logger).Log("msg", "reload partly failed; those operations keep their previous configuration", "by", how, "err", err)
			return err
		}
		logPlans(cfgs, logger)
		level.Info(logger).Log("msg", "configuration reloaded", "by", how, "operations", len(cfgs))
		return nil
	}

	mux := http.NewServeMux()
	// OpenMetrics is served to a scraper that asks for it (Prometheus does,
	// first), as the ecosystem's exporters do; the text format otherwise.
	// Created timestamps stay off: every counter would gain a _created
	// series, which Prometheus stores as a series of its own unless its
	// created-timestamp feature is on.
	mux.Handle(*f.telemetryPath, promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(slogger.Handler(), slog.LevelError), Registry: reg,
		EnableOpenMetrics: true,
	})))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if waiting := registry.NotReady(); len(waiting) > 0 {
			http.Error(w, "Not ready: waiting for the first successful poll of both reports of "+strings.Join(waiting, ", "), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !*f.enableLifecycle:
			http.Error(w, "Lifecycle API is not enabled (--web.enable-lifecycle).", http.StatusForbidden)
		case r.Method != http.MethodPost && r.Method != http.MethodPut:
			http.Error(w, "Use POST to reload.", http.StatusMethodNotAllowed)
		default:
			if err := reload("/-/reload"); err != nil {
				http.Error(w, "Reload failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "Reloaded")
		}
	})
	if *f.telemetryPath != "/" {
		mux.Handle("/", landingPage(*f.telemetryPath, registry, demoSrv != nil))
	}

	// SIGHUP reloads the configuration file.
	go func() {
		for range hup {
			if err := reload("SIGHUP"); errors.Is(err, errNoConfigFile) {
				level.Info(logger).Log("msg", "SIGHUP received and ignored: there is no configuration file to reload; restart to change flags")
			}
		}
	}()
	logPlans(cfgs, logger)
	for name, endpoint := range registry.Endpoints() {
		level.Info(logger).Log("msg", "polling operation", "operation", name, "api", endpoint)
	}
	level.Info(logger).Log("msg", "starting "+exporterName, "version", version.Info(), "operations", len(cfgs),
		"interval", *f.interval, "chat_revisit", *f.revisit)

	srv := newHTTPServer(mux)
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, f.web, slogger) }()
	select {
	case err := <-served:
		stop()
		level.Error(logger).Log("msg", "cannot serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down; abandoning any API call in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	registry.Stop()
	return 0
}
