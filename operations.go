package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/config"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/demo"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/ledger"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/state"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// operations turns the configuration file, or else the command line, into
// one poller config per operation. Every problem is returned, each naming
// its operation, so --config.check can list them all.
type operations struct {
	f      *flags
	logger log.Logger
	gates  *wolkvox.Gates // the process's: every client shares them
	// demoURL and demoToken, when set, are the built-in fake API's.
	demoURL, demoToken string
}

// load reads the operations afresh: at start and at every reload, so a
// changed token file is read again.
func (o *operations) load() ([]poller.Config, []error) {
	var resolved []config.Resolved
	if *o.f.configFile != "" {
		var errs []error
		resolved, errs = config.Load(*o.f.configFile, o.builtin())
		if len(errs) > 0 {
			return nil, errs
		}
	} else {
		r, errs := o.fromFlags()
		if len(errs) > 0 {
			return nil, errs
		}
		resolved = []config.Resolved{r}
	}
	var out []poller.Config
	var errs []error
	for _, r := range resolved {
		for _, w := range r.Warnings() {
			level.Warn(o.logger).Log("msg", w, "operation", r.Name)
		}
		cfg := o.poller(r)
		if *o.f.configFile == "" && *o.f.stateFile != "" {
			cfg.StateFile = *o.f.stateFile
		}
		if cfg.StateFile != "" {
			// Here, so that --config.check and a start agree.
			if err := state.CheckStatePath(cfg.StateFile); err != nil {
				errs = append(errs, fmt.Errorf("operation %s: %w", r.Name, err))
			}
		}
		out = append(out, cfg)
	}
	return out, errs
}

// fromFlags is the one operation the flags describe, checked by the same
// validator as the file's.
func (o *operations) fromFlags() (config.Resolved, []error) {
	f := o.f
	d := func(v time.Duration) *model.Duration { m := model.Duration(v); return &m }
	op := config.Operation{
		Name: *f.operation, Server: *f.server, URL: *f.baseURL, TokenFile: *f.tokenFile, Timezone: *f.timezone,
		DailyQuota: *f.dailyQuota,
		Polling:    config.Polling{Interval: d(*f.interval), Delay: d(*f.delay), MaxCatchup: d(*f.maxCatchup), ChatRevisit: d(*f.revisit), Timeout: d(*f.timeout)},
	}
	if op.Name == "" {
		op.Name = defaultName(op.Server, op.URL)
		if o.demoURL != "" {
			op.Name = "demo"
		}
	}
	env := os.Getenv("WOLKVOX_TOKEN")
	if o.demoURL != "" {
		op.Server, op.URL, op.TokenFile, env = "", o.demoURL, "", o.demoToken
	}
	op.Skills = *f.skills
	if f.realtimeSet {
		op.RealtimeInterval = d(*f.realtimeInterval)
	}
	op.QuotaInterval = d(*f.quotaInterval)
	return config.ResolveFlags(op, env, o.builtin())
}

// builtin are the defaults the flags give every operation.
func (o *operations) builtin() config.Builtin {
	f := o.f
	b := config.Builtin{
		Interval: *f.interval, Delay: *f.delay, MaxCatchup: *f.maxCatchup, ChatRevisit: *f.revisit, Timeout: *f.timeout,
		RealtimeInterval: -1, QuotaInterval: *f.quotaInterval,
		ChatFollow: *f.follow, ChatFollowMaxAge: time.Duration(*f.followMaxAge), ChatFollowCallsPerDay: *f.followCalls,
		ChatOpenAge: time.Duration(*f.openAgeTarget),
	}
	if f.realtimeSet {
		b.RealtimeInterval = *f.realtimeInterval
	}
	return b
}

// checkPlans refuses an operation whose settings plan more calls a day
// than its daily quota, when that is known: every call spends a token of
// the operation's day, shared with its other integrations. A backfill,
// which polls nothing live, does not ask.
func checkPlans(cfgs []poller.Config) []error {
	var errs []error
	for _, cfg := range cfgs {
		plan := poller.PlannedCallsPerDay(cfg)
		if cfg.DailyQuota > 0 && plan > cfg.DailyQuota {
			errs = append(errs, fmt.Errorf("operation %s: its settings plan %.0f calls a day, more than its daily_quota of %.0f; lengthen interval, realtime_interval or quota_interval, shorten chat_revisit, or lower chat_follow_max_calls_per_day (chat_follow: false spends none)",
				cfg.Operation, plan, cfg.DailyQuota))
		}
	}
	return errs
}

// logPlans says, at start and at every reload, what each operation plans
// to spend a day.
func logPlans(cfgs []poller.Config, logger log.Logger) {
	for _, cfg := range cfgs {
		level.Info(logger).Log("msg", "planned API calls a day", "operation", cfg.Operation, "calls", int(poller.PlannedCallsPerDay(cfg)+0.5),
			"interval", cfg.Interval, "chat_revisit", cfg.Revisit, "chat_follow_calls", followCalls(cfg), "realtime_interval", cfg.Realtime.Interval, "quota_interval", cfg.Realtime.QuotaInterval, "daily_quota", cfg.DailyQuota)
	}
}

// followPlan is following's share of the plan, as --config.check says it.
func followPlan(cfg poller.Config) string {
	if !cfg.Follow.Enabled {
		return "following off"
	}
	return "up to " + strconv.Itoa(cfg.Follow.CallsPerDay) + " following open cases"
}

// quotaShare is the plan against a known daily quota.
func quotaShare(cfg poller.Config) string {
	if cfg.DailyQuota <= 0 {
		return " (daily_quota unknown)"
	}
	return fmt.Sprintf(" (%.0f%% of daily_quota %.0f)", 100*poller.PlannedCallsPerDay(cfg)/cfg.DailyQuota, cfg.DailyQuota)
}

// followCalls is following's share of the plan, as the log shows it.
func followCalls(cfg poller.Config) string {
	if !cfg.Follow.Enabled {
		return "off"
	}
	return "up to " + strconv.Itoa(cfg.Follow.CallsPerDay)
}

// defaultName names the flags' operation when --wolkvox.operation does
// not: after its server code, or its URL's host.
func defaultName(server, rawURL string) string {
	if server != "" {
		return server
	}
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		// A host such as ::1 is no label value: its other characters
		// become '_'.
		return strings.Map(func(r rune) rune {
			if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return '_'
		}, strings.TrimLeft(u.Hostname(), ":"))
	}
	return "default"
}

// poller makes a resolved operation's poller config.
func (o *operations) poller(r config.Resolved) poller.Config {
	f := o.f
	cfg := poller.Config{
		Operation: r.Name,
		Client: wolkvox.Config{
			Server: r.Server, BaseURL: r.URL, Token: r.Token, Location: r.Location, Timeout: r.Timeout,
			UserAgent: exporterName + "/" + version.Version, Gates: o.gates,
		},
		Interval: r.Interval, Delay: r.Delay, MaxCatchup: r.MaxCatchup, Revisit: r.ChatRevisit,
		Realtime:     poller.Realtime{Interval: r.RealtimeInterval, QuotaInterval: r.QuotaInterval, Skills: r.Skills, Targets: targets(r.Targets)},
		TimeoutCodes: r.TimeoutCodes,
		Follow:       ledger.FollowSettings{Enabled: r.ChatFollow, MaxAge: r.ChatFollowMaxAge, CallsPerDay: r.ChatFollowCallsPerDay},
		OpenTarget:   time.Duration(r.Targets.ChatOpenAge),
		AgentMetrics: *f.agents, AgentTTL: *f.agentTTL, MaxSeriesPerMetric: *f.maxSeries,
		DailyQuota: float64(r.DailyQuota), Logger: o.logger,
	}
	if *f.stateDir != "" {
		cfg.StateFile = filepath.Join(*f.stateDir, r.Name+".state")
	}
	if o.demoURL != "" {
		cfg.FirstWindow = demo.FirstWindow
	}
	return cfg
}

// errNoConfigFile is a reload's answer when there is nothing to reload.
var errNoConfigFile = errors.New("there is no --config.file to reload; restart to change flags")

// targets turns the file's targets into the collector's.
func targets(t config.Targets) collector.Targets {
	out := collector.Targets{ServiceLevel: t.ServiceLevel, ServiceLevelSeconds: t.ServiceLevelSeconds, Queue: t.Queue, Abandoned: t.Abandoned}
	if len(t.Skills) > 0 {
		out.Skills = map[string]collector.Targets{}
		for id, st := range t.Skills {
			out.Skills[id] = targets(st)
		}
	}
	return out
}
