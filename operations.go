package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/config"
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
func (o *operations) load() ([]collector.Config, []error) {
	if *o.f.configFile != "" {
		resolved, errs := config.Load(*o.f.configFile, config.Builtin{
			Interval: *o.f.interval, Delay: *o.f.delay, MaxCatchup: *o.f.maxCatchup, ChatRevisit: *o.f.revisit, Timeout: *o.f.timeout,
		})
		if len(errs) > 0 {
			return nil, errs
		}
		var out []collector.Config
		for _, r := range resolved {
			out = append(out, o.poller(r))
		}
		return out, nil
	}
	r, err := o.fromFlags()
	if err != nil {
		return nil, []error{err}
	}
	cfg := o.poller(r)
	if *o.f.stateFile != "" {
		cfg.StateFile = *o.f.stateFile
	}
	return []collector.Config{cfg}, nil
}

// fromFlags is the one operation today's flags describe.
func (o *operations) fromFlags() (config.Resolved, error) {
	f := o.f
	loc, err := config.LoadZone(*f.timezone)
	if err != nil {
		return config.Resolved{}, fmt.Errorf("--wolkvox.timezone: %w", err)
	}
	r := config.Resolved{
		Name: *f.operation, Server: *f.server, URL: *f.baseURL, TokenFile: *f.tokenFile, Location: loc,
		DailyQuota: *f.dailyQuota, Interval: *f.interval, Delay: *f.delay, MaxCatchup: *f.maxCatchup,
		ChatRevisit: *f.revisit, Timeout: *f.timeout,
	}
	if o.demoURL != "" {
		r.Server, r.URL, r.Token, r.TokenFile = "", o.demoURL, o.demoToken, ""
		if r.Name == "" {
			r.Name = "demo"
		}
		return r, nil
	}
	if r.Token, err = readToken(*f.tokenFile); err != nil {
		return r, err
	}
	if r.URL != "" {
		if err := checkBaseURL(r.URL, o.logger); err != nil {
			return r, err
		}
	}
	if r.Name == "" {
		r.Name = defaultName(r.Server, r.URL)
	}
	if err := config.CheckName(r.Name); err != nil {
		return r, fmt.Errorf("--wolkvox.operation: %w", err)
	}
	if r.Interval < 5*time.Minute {
		level.Warn(o.logger).Log("msg", "--poll.interval is shorter than the vendor's suggested 5m; every call spends one token of the operation's daily quota (licenses x 1000)",
			"interval", r.Interval, "tokens_per_day", int(2*24*time.Hour/r.Interval))
	}
	return r, nil
}

// defaultName names the flags' operation when --wolkvox.operation does
// not: after its server code, or its URL's host.
func defaultName(server, rawURL string) string {
	if server != "" {
		return server
	}
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "default"
}

// poller makes a resolved operation's poller config.
func (o *operations) poller(r config.Resolved) collector.Config {
	f := o.f
	cfg := collector.Config{
		Operation: r.Name,
		Client: wolkvox.Config{
			Server: r.Server, BaseURL: r.URL, Token: r.Token, Location: r.Location, Timeout: r.Timeout,
			UserAgent: exporterName + "/" + version.Version, Gates: o.gates,
		},
		Interval: r.Interval, Delay: r.Delay, MaxCatchup: r.MaxCatchup, Revisit: r.ChatRevisit,
		AgentMetrics: *f.agents, AgentTTL: *f.agentTTL, MaxSeriesPerMetric: *f.maxSeries,
		DailyQuota: float64(r.DailyQuota), Logger: o.logger,
	}
	if *f.stateDir != "" {
		cfg.StateFile = filepath.Join(*f.stateDir, r.Name+".state")
	}
	return cfg
}

// errNoConfigFile is a reload's answer when there is nothing to reload.
var errNoConfigFile = errors.New("there is no --config.file to reload; restart to change flags")
