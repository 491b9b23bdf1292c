// Command wolkvox_exporter exports Wolkvox contact-center reports (call
// transfers and conferences from agent_13_1; e-mail, chat and social
// interactions from chat_4) as Prometheus metrics.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
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
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
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
	intervalSet, delaySet, revisitSet     bool
	maxSeries                             *int
	agents, demo                          *bool
	stateFile, telemetryPath              *string
	logLevel, logFormat                   *string
	web                                   *web.FlagConfig
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	app := kingpin.New(exporterName, "Prometheus exporter for Wolkvox contact-center reports: call transfers and conferences (agent_13_1) and chat, e-mail and social interactions (chat_4).")
	app.ErrorWriter(stderr)
	app.UsageWriter(stderr)
	f := &flags{
		server:        app.Flag("wolkvox.server", "The operation's server code: 0002 means https://wv0002.wolkvox.com.").String(),
		baseURL:       app.Flag("wolkvox.url", "Base URL of the API, overriding --wolkvox.server.").String(),
		tokenFile:     app.Flag("wolkvox.token-file", "File holding the wolkvox-token. Default: the WOLKVOX_TOKEN environment variable. The token is never a flag value, because those show in process lists.").String(),
		timezone:      app.Flag("wolkvox.timezone", "The operation's time zone; the API's dates carry none.").Default("America/Bogota").String(),
		timeout:       app.Flag("wolkvox.timeout", "Timeout of one API call, body included. The API allows itself 60s.").Default("60s").Duration(),
		dailyQuota:    app.Flag("wolkvox.daily-quota", "The operation's daily token quota (licenses x 1000), exported for the quota alert. 0: unknown.").Default("0").Int(),
		interval:      app.Flag("poll.interval", "How often to poll each report. Each poll spends 2 tokens of the daily quota. With --demo, 15s unless given.").Default("5m").Duration(),
		delay:         app.Flag("poll.delay", "How far behind now windows end, for rows that land late. With --demo, 0s unless given.").Default("1m").Duration(),
		maxCatchup:    app.Flag("poll.max-catchup", "After an outage, fetch at most this far back; older time is skipped and counted.").Default("24h").Duration(),
		revisit:       app.Flag("chat.revisit", "Re-read chat_4 over this trailing horizon, so that cases closed, surveyed or typified after they were first read are counted. 0 turns it off. With --demo, 30m unless given.").Default("24h").Duration(),
		maxSeries:     app.Flag("collector.max-series-per-metric", "Label combinations each metric may take; beyond it, observations count under labels \"other\" (wolkvox_series_overflow_total).").Default(strconv.Itoa(collector.DefaultMaxSeriesPerMetric)).Int(),
		agents:        app.Flag("collector.agents", "Export per-agent metrics.").Default("true").Bool(),
		agentTTL:      app.Flag("collector.agents.ttl", "Drop an agent from the per-agent metrics when not seen for this long.").Default("24h").Duration(),
		stateFile:     app.Flag("storage.state-file", "File to keep window marks and de-duplication keys in, so a restart neither leaves a gap nor counts twice. Unset: start fresh each time.").String(),
		demo:          app.Flag("demo", "Serve generated demo data from a built-in fake API; needs no server or token.").Bool(),
		telemetryPath: app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String(),
		logLevel:      app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error"),
		logFormat:     app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json"),
		web:           kingpinflag.AddFlags(app, ":10049"),
	}
	app.GetFlag("poll.interval").IsSetByUser(&f.intervalSet)
	app.GetFlag("poll.delay").IsSetByUser(&f.delaySet)
	app.GetFlag("chat.revisit").IsSetByUser(&f.revisitSet)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	_, err := app.Parse(args)
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

// checkFlags rejects values kingpin accepts but the exporter cannot use,
// so that they end in one clear line rather than a panic or a silent default.
func checkFlags(f *flags) error {
	switch {
	case *f.interval <= 0:
		return fmt.Errorf("--poll.interval must be positive, not %v", *f.interval)
	case *f.delay < 0:
		return fmt.Errorf("--poll.delay must not be negative, not %v", *f.delay)
	case *f.maxCatchup < *f.interval:
		return fmt.Errorf("--poll.max-catchup (%v) must be at least one --poll.interval (%v)", *f.maxCatchup, *f.interval)
	case *f.timeout <= 0:
		return fmt.Errorf("--wolkvox.timeout must be positive, not %v", *f.timeout)
	case *f.dailyQuota < 0:
		return fmt.Errorf("--wolkvox.daily-quota must be 0 (unknown) or more, not %d", *f.dailyQuota)
	case *f.revisit < 0:
		return fmt.Errorf("--chat.revisit must be 0 (off) or positive, not %v", *f.revisit)
	case *f.maxSeries < 1:
		return fmt.Errorf("--collector.max-series-per-metric must be positive, not %d", *f.maxSeries)
	case *f.agentTTL <= 0:
		return fmt.Errorf("--collector.agents.ttl must be positive, not %v", *f.agentTTL)
	case !strings.HasPrefix(*f.telemetryPath, "/"):
		return fmt.Errorf("--web.telemetry-path %q must start with /", *f.telemetryPath)
	case *f.telemetryPath == "/-/healthy" || *f.telemetryPath == "/-/ready":
		return fmt.Errorf("--web.telemetry-path %q is taken by the exporter's own endpoint", *f.telemetryPath)
	case strings.TrimSpace(*f.timezone) == "":
		// time.LoadLocation("") is UTC: every window would be off by the
		// operation's offset without a word.
		return errors.New("--wolkvox.timezone is empty; name the operation's zone, e.g. America/Bogota")
	case *f.timezone == "Local" || *f.timezone == "Factory":
		// Local is whatever zone the host or container happens to have;
		// Factory is tzdata's placeholder for "not set". Neither names the
		// operation's zone.
		return fmt.Errorf("--wolkvox.timezone %q does not name the operation's zone; use an IANA name such as America/Bogota", *f.timezone)
	}
	// exporter-toolkit reads this file only once it is listening.
	if file := *f.web.WebConfigFile; file != "" {
		if err := web.Validate(file); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", file, err)
		}
	}
	return nil
}

// readToken reads the token from the file, or else the environment. A
// UTF-8 byte-order mark (an editor's) and surrounding white space are
// dropped; anything else that cannot be in an HTTP header is refused, with
// a message that never shows the token.
func readToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cannot read --wolkvox.token-file: %w", err)
		}
		if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) {
			return "", fmt.Errorf("--wolkvox.token-file %s is UTF-16 text; save it as ASCII or UTF-8", file)
		}
		token := cleanToken(string(b))
		if token == "" {
			return "", fmt.Errorf("--wolkvox.token-file %s is empty", file)
		}
		if err := wolkvox.CheckToken(token); err != nil {
			return "", fmt.Errorf("--wolkvox.token-file %s: %w", file, err)
		}
		return token, nil
	}
	if token := cleanToken(os.Getenv("WOLKVOX_TOKEN")); token != "" {
		if err := wolkvox.CheckToken(token); err != nil {
			return "", fmt.Errorf("WOLKVOX_TOKEN: %w", err)
		}
		return token, nil
	}
	return "", errors.New("no token: set --wolkvox.token-file or the WOLKVOX_TOKEN environment variable (or try --demo)")
}

// cleanToken drops a UTF-8 byte-order mark and surrounding white space.
func cleanToken(s string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF"))
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

	loc, err := time.LoadLocation(*f.timezone)
	if err != nil {
		return fail("unknown --wolkvox.timezone %q: %v", *f.timezone, err)
	}
	clientCfg := wolkvox.Config{
		Server: *f.server, BaseURL: *f.baseURL, Location: loc, Timeout: *f.timeout,
		UserAgent: exporterName + "/" + version.Version,
	}
	interval, delay, revisit := *f.interval, *f.delay, *f.revisit
	var demo *wolkvoxtest.Server
	if *f.demo {
		demo = startDemo(loc)
		defer demo.Close()
		clientCfg.BaseURL, clientCfg.Server, clientCfg.Token = demo.URL, "", demo.Token()
		// Lively defaults for a demo, unless given: the generated chats
		// close within minutes, so a short horizon shows them close.
		if !f.intervalSet {
			interval = 15 * time.Second
		}
		if !f.delaySet {
			delay = 0
		}
		if !f.revisitSet {
			revisit = 30 * time.Minute
		}
		level.Warn(logger).Log("msg", "DEMO MODE: serving generated data from a built-in fake Wolkvox API, not a real operation", "fake_api", demo.URL,
			"interval", interval, "delay", delay, "chat_revisit", revisit)
	} else {
		if clientCfg.Token, err = readToken(*f.tokenFile); err != nil {
			return fail("%v", err)
		}
		if clientCfg.BaseURL != "" {
			if err := checkBaseURL(clientCfg.BaseURL, logger); err != nil {
				return fail("%v", err)
			}
		}
		if interval < 5*time.Minute {
			level.Warn(logger).Log("msg", "--poll.interval is shorter than the vendor's suggested 5m; every call spends one token of the operation's daily quota (licenses x 1000)",
				"interval", interval, "tokens_per_day", int(2*24*time.Hour/interval))
		}
	}

	poller, err := collector.New(collector.Config{
		Client: clientCfg, Interval: interval, Delay: delay, MaxCatchup: *f.maxCatchup, Revisit: revisit,
		AgentMetrics: *f.agents, AgentTTL: *f.agentTTL, MaxSeriesPerMetric: *f.maxSeries,
		DailyQuota: float64(*f.dailyQuota), StateFile: *f.stateFile, Logger: logger,
	})
	if err != nil {
		return fail("%v", err)
	}
	defer poller.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		poller.Collector(),
		versioncollector.NewCollector(exporterName),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	mux := http.NewServeMux()
	mux.Handle(*f.telemetryPath, promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(slogger.Handler(), slog.LevelError), Registry: reg,
	})))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if poller.Status().Ready() {
			fmt.Fprintln(w, "Ready")
			return
		}
		http.Error(w, "Not ready: waiting for the first successful poll of both reports", http.StatusServiceUnavailable)
	})
	if *f.telemetryPath != "/" {
		mux.Handle("/", landingPage(*f.telemetryPath, poller, loc, demo != nil))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP's default action ends the process without a word. There is
	// no configuration to reload yet: say so and carry on.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			level.Info(logger).Log("msg", "SIGHUP received and ignored: there is no configuration file to reload; restart to change flags")
		}
	}()
	level.Info(logger).Log("msg", "starting "+exporterName, "version", version.Info(), "api", poller.Endpoint(), "interval", interval,
		"timezone", loc.String(), "chat_revisit", revisit)
	polling := make(chan struct{})
	go func() { poller.Run(ctx); close(polling) }()

	// Bounded timeouts, so idle keep-alive connections and slow clients
	// cannot hold sockets for ever. A scrape of the largest /metrics is
	// well under the write timeout.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, f.web, slogger) }()
	select {
	case err := <-served:
		stop()
		<-polling
		level.Error(logger).Log("msg", "cannot serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down; abandoning any API call in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	<-polling
	return 0
}

// checkBaseURL rejects a URL the client cannot use and warns when the token
// would cross a network in clear text.
func checkBaseURL(raw string, logger log.Logger) error {
	// The URL is quoted redacted: it may hold a password.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--wolkvox.url %q is not an http(s) URL with a host", wolkvox.RedactURL(raw))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("--wolkvox.url %q must not have a query or fragment: the exporter writes the query itself (api, date_ini, date_end)", wolkvox.RedactURL(raw))
	}
	if u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			level.Warn(logger).Log("msg", "--wolkvox.url uses plain http to a host that is not loopback: the token crosses the network in clear text", "host", u.Hostname())
		}
	}
	return nil
}

// Demo transfer spikes: one skill, a few minutes long, soon after start and
// then every half hour, so the dashboard shows them and the spike alert
// fires with examples/demo/wolkvox.rules.yml, whose time ranges are short
// enough for a demo (the shipped rules need a 2-hour baseline).
const (
	demoSpikeFirst  = 8 * time.Minute
	demoSpikeEvery  = 30 * time.Minute
	demoSpikeLength = 4 * time.Minute
)

// startDemo starts a fake API with lively traffic and transfer spikes.
func startDemo(loc *time.Location) *wolkvoxtest.Server {
	now := time.Now()
	traffic := &wolkvoxtest.Traffic{
		Seed: uint64(now.UnixNano()), Location: loc,
		// Lively enough that each 15-second window holds both kinds of
		// record: the first poll already shows nonzero counters.
		TransfersPerMinute: 60, InteractionsPerMinute: 40, BodyBytes: 1024,
	}
	first := now.Add(demoSpikeFirst).Truncate(time.Minute)
	traffic.AddSpike(wolkvoxtest.Spike{
		Start: first, End: first.Add(demoSpikeLength), Every: demoSpikeEvery,
		TypeCall: "transfer", SkillID: "101", PerMinute: 60,
	})
	return wolkvoxtest.NewServer(wolkvoxtest.Config{Location: loc, ForgetServed: true, Data: traffic})
}

// landingPage links the metrics and shows each report's last poll.
// windowFormat shows a window bound in the operation's zone, with its offset.
const windowFormat = "2006-01-02 15:04:05 -0700"

func landingPage(metricsPath string, poller *collector.Poller, loc *time.Location, demo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var extra strings.Builder
		if demo {
			extra.WriteString(`<p><strong>DEMO MODE:</strong> these metrics come from generated data, not a real Wolkvox operation.</p>`)
		}
		extra.WriteString(`<h2>Reports</h2><table><tr><th>report</th><th>up</th><th>last success</th><th>latest window</th><th>last error</th></tr>`)
		for _, rs := range poller.Status().Reports {
			up := "not polled yet"
			if rs.Polled {
				up = map[bool]string{true: "yes", false: "no"}[rs.Up]
			}
			last, window := "never", ""
			if !rs.LastSuccess.IsZero() {
				last = rs.LastSuccess.In(loc).Format(time.RFC3339)
				window = rs.Window.Start.In(loc).Format(windowFormat) + " .. " + rs.Window.End.In(loc).Format(windowFormat)
			}
			fmt.Fprintf(&extra, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				html.EscapeString(string(rs.Report)), up, last, html.EscapeString(window), html.EscapeString(rs.LastError))
		}
		extra.WriteString("</table>")
		page, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Wolkvox Exporter",
			Description: "Prometheus exporter for Wolkvox contact-center reports",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
			ExtraHTML: extra.String(),
			Profiling: "false", // no pprof handlers are served
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.ServeHTTP(w, r)
	})
}
