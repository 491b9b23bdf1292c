package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Bounds of every duration an operation takes, from the file or the
// flags alike. A second is the API's date precision; 31 days is the
// longest window one call may ask for.
const (
	MinDuration = time.Second
	MaxDuration = 31 * 24 * time.Hour
	// MaxTimeout bounds one call: the API allows itself 60 s.
	MaxTimeout = 10 * time.Minute
	// MinFollowAge and MaxFollowAge bound chat_follow_max_age: the cases
	// followed stay in the book and the state file as long. Below the
	// revisit sweep's reach, the ledger gives up at the reach instead.
	MinFollowAge = time.Hour
	MaxFollowAge = 31 * 24 * time.Hour
	// MaxFollowCallsPerDay bounds following's budget: the largest
	// operations' quotas are a few hundred thousand tokens a day.
	MaxFollowCallsPerDay = 100_000
	// SuggestedInterval is the vendor's suggested cadence; below it a
	// warning states the daily token cost.
	SuggestedInterval = 5 * time.Minute
)

// Source is where an operation was written, so that each problem names a
// setting as its user spelled it.
type Source int

const (
	FromFile  Source = iota // the configuration file's keys
	FromFlags               // the command line's flags
)

var flagNames = map[string]string{
	"interval": "--poll.interval", "delay": "--poll.delay", "max_catchup": "--poll.max-catchup",
	"chat_revisit": "--chat.revisit", "timeout": "--wolkvox.timeout", "daily_quota": "--wolkvox.daily-quota",
	"url": "--wolkvox.url", "server": "--wolkvox.server", "token_file": "--wolkvox.token-file",
	"timezone": "--wolkvox.timezone", "name": "--wolkvox.operation",
	"realtime_interval": "--realtime.interval", "quota_interval": "--quota.interval", "skills": "--realtime.skill",
	"chat_follow_max_age": "--chat.follow.max-age", "chat_follow_max_calls_per_day": "--chat.follow.max-calls-per-day",
	"targets.chat_open_age": "--chat.open-age-target",
}

// off says how to turn a boolean setting off.
func (s Source) off(setting string) string {
	if s == FromFlags {
		return "--no-chat.follow"
	}
	return setting + ": false"
}

func (s Source) name(setting string) string {
	if s == FromFlags {
		return flagNames[setting]
	}
	return setting
}

// prefix introduces an error that names its subject itself (a token
// file, a zone, a URL): the flag it came from, on the command line.
func (s Source) prefix(setting string) string {
	if s == FromFlags {
		return flagNames[setting] + ": "
	}
	return ""
}

// resolve applies the defaults to op, reads its token and checks it all:
// the one validator of an operation, whether it comes from the file or
// the flags. It returns every problem found.
func resolve(op Operation, defaults Polling, builtin Builtin, src Source) (Resolved, []string) {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	r := Resolved{Name: op.Name, Server: op.Server, URL: op.URL, TokenFile: op.TokenFile, DailyQuota: op.DailyQuota}
	if err := CheckName(op.Name); err != nil {
		add("%s%v", src.prefix("name"), err)
	}
	switch {
	case op.Server == "" && op.URL == "":
		add("neither %s nor %s", src.name("server"), src.name("url"))
	case op.Server != "" && op.URL != "":
		add("both %s and %s; give one", src.name("server"), src.name("url"))
	case op.URL != "":
		if _, err := wolkvox.New(wolkvox.Config{BaseURL: op.URL, Token: "x", Location: time.UTC}); err != nil {
			add("%s%v", src.prefix("url"), err)
		}
	default:
		if _, err := wolkvox.New(wolkvox.Config{Server: op.Server, Token: "x", Location: time.UTC}); err != nil {
			add("%s%v", src.prefix("server"), err)
		}
	}
	switch {
	case op.TokenFile != "":
		if token, err := ReadTokenFile(op.TokenFile); err != nil {
			add("%s%v", src.prefix("token_file"), err)
		} else {
			r.Token = token
		}
	case src == FromFile:
		add("no token_file (the token itself never goes in the file)")
	}
	if loc, err := LoadZone(op.Timezone); err != nil {
		add("%s%v", src.prefix("timezone"), err)
	} else {
		r.Location = loc
	}
	if op.DailyQuota < 0 {
		add("%s must be 0 (unknown) or more, not %d", src.name("daily_quota"), op.DailyQuota)
	}
	pick := func(own, def *model.Duration, builtin time.Duration) time.Duration {
		switch {
		case own != nil:
			return time.Duration(*own)
		case def != nil:
			return time.Duration(*def)
		}
		return builtin
	}
	r.Interval = pick(op.Interval, defaults.Interval, builtin.Interval)
	r.Delay = pick(op.Delay, defaults.Delay, builtin.Delay)
	r.MaxCatchup = pick(op.MaxCatchup, defaults.MaxCatchup, builtin.MaxCatchup)
	r.ChatRevisit = pick(op.ChatRevisit, defaults.ChatRevisit, builtin.ChatRevisit)
	r.Timeout = pick(op.Timeout, defaults.Timeout, builtin.Timeout)
	r.RealtimeInterval = pick(op.RealtimeInterval, defaults.RealtimeInterval, builtin.RealtimeInterval)
	if r.RealtimeInterval < 0 {
		r.RealtimeInterval = r.Interval // the default: the poll's cadence
	}
	r.QuotaInterval = pick(op.QuotaInterval, defaults.QuotaInterval, builtin.QuotaInterval)
	r.ChatFollowMaxAge = pick(op.ChatFollowMaxAge, defaults.ChatFollowMaxAge, builtin.ChatFollowMaxAge)
	r.ChatFollow = builtin.ChatFollow
	for _, b := range []*bool{defaults.ChatFollow, op.ChatFollow} {
		if b != nil {
			r.ChatFollow = *b
		}
	}
	r.ChatFollowCallsPerDay = builtin.ChatFollowCallsPerDay
	for _, n := range []*int{defaults.ChatFollowCallsPerDay, op.ChatFollowCallsPerDay} {
		if n != nil {
			r.ChatFollowCallsPerDay = *n
		}
	}
	if r.ChatFollow && (r.ChatFollowCallsPerDay < 1 || r.ChatFollowCallsPerDay > MaxFollowCallsPerDay) {
		add("%s must be between 1 and %d, not %d (turn following off with %s)", src.name("chat_follow_max_calls_per_day"), MaxFollowCallsPerDay, r.ChatFollowCallsPerDay, src.off("chat_follow"))
	}
	problems = append(problems, r.checkDurations(src)...)
	r.Skills = op.Skills
	problems = append(problems, checkSkills(op.Skills, src)...)
	r.TimeoutCodes = op.TimeoutCodes
	for _, code := range op.TimeoutCodes {
		if strings.TrimSpace(code) == "" {
			add("timeout_codes: an empty code would mark every close a timeout")
		}
	}
	r.Targets = DefaultTargets()
	if builtin.ChatOpenAge != 0 {
		r.Targets.ChatOpenAge = model.Duration(builtin.ChatOpenAge)
	}
	for _, t := range []*Targets{defaults.Targets, op.Targets} {
		if t != nil {
			r.Targets = mergeTargets(r.Targets, *t)
		}
	}
	problems = append(problems, checkTargets(r.Targets, "targets")...)
	if age := time.Duration(r.Targets.ChatOpenAge); r.ChatFollow && age >= r.ChatFollowMaxAge && r.ChatFollowMaxAge > 0 {
		add("%s (%v) must be below %s (%v): a case is given up at the max-age, so none would ever be seen open past the target",
			src.name("targets.chat_open_age"), r.Targets.ChatOpenAge, src.name("chat_follow_max_age"), model.Duration(r.ChatFollowMaxAge))
	}
	return r, problems
}

// checkSkills refuses skill ids that cannot be asked for one by one.
func checkSkills(ids []string, src Source) []string {
	var problems []string
	seen := map[string]bool{}
	if len(ids) > 1000 {
		problems = append(problems, fmt.Sprintf("%s lists %d skills, more than 1000 (each costs a call per snapshot)", src.name("skills"), len(ids)))
	}
	for _, id := range ids {
		switch {
		case strings.TrimSpace(id) == "" || strings.EqualFold(id, "all"):
			problems = append(problems, fmt.Sprintf("%s: %q is not one skill's id (leave the list out to ask for all)", src.name("skills"), id))
		case seen[id]:
			problems = append(problems, fmt.Sprintf("%s: skill %q is listed twice", src.name("skills"), id))
		}
		seen[id] = true
	}
	return problems
}

// mergeTargets returns base with what over sets.
func mergeTargets(base, over Targets) Targets {
	if over.ServiceLevel != 0 {
		base.ServiceLevel = over.ServiceLevel
	}
	if over.ServiceLevelSeconds != 0 {
		base.ServiceLevelSeconds = over.ServiceLevelSeconds
	}
	if over.Queue != 0 {
		base.Queue = over.Queue
	}
	if over.Abandoned != 0 {
		base.Abandoned = over.Abandoned
	}
	if over.ChatOpenAge != 0 {
		base.ChatOpenAge = over.ChatOpenAge
	}
	if len(over.Skills) > 0 {
		skills := map[string]Targets{}
		for k, v := range base.Skills {
			skills[k] = v
		}
		for k, v := range over.Skills {
			skills[k] = v
		}
		base.Skills = skills
	}
	return base
}

// checkTargets bounds targets: ratios in (0, 1], a threshold the API can
// report, a queue that is not negative.
func checkTargets(t Targets, where string) []string {
	var problems []string
	if t.ServiceLevel < 0 || t.ServiceLevel > 1 {
		problems = append(problems, fmt.Sprintf("%s: service_level must be a share between 0 and 1, not %v", where, t.ServiceLevel))
	}
	if t.ServiceLevelSeconds != 0 && t.ServiceLevelSeconds != 10 && t.ServiceLevelSeconds != 20 && t.ServiceLevelSeconds != 30 {
		// The thresholds the API reports: a target at another could never
		// be compared, and its alert never fire.
		problems = append(problems, fmt.Sprintf("%s: service_level_seconds must be 10, 20 or 30 (the thresholds the API reports), not %d", where, t.ServiceLevelSeconds))
	}
	if t.Queue < 0 {
		problems = append(problems, fmt.Sprintf("%s: queue must not be negative, not %v", where, t.Queue))
	}
	if t.Abandoned < 0 || t.Abandoned > 1 {
		problems = append(problems, fmt.Sprintf("%s: abandoned must be a share between 0 and 1, not %v", where, t.Abandoned))
	}
	if age := time.Duration(t.ChatOpenAge); age != 0 && (age < time.Minute || age > MaxFollowAge) {
		problems = append(problems, fmt.Sprintf("%s: chat_open_age must be 0 (the default, 48h) or between 1m and %v, not %v", where, model.Duration(MaxFollowAge), t.ChatOpenAge))
	}
	for id, st := range t.Skills {
		if st.ChatOpenAge != 0 {
			problems = append(problems, fmt.Sprintf("%s.skills.%s: chat_open_age is the operation's, not a skill's", where, id))
		}
		if len(st.Skills) > 0 {
			problems = append(problems, fmt.Sprintf("%s.skills.%s: a skill's targets have no skills of their own", where, id))
		}
		problems = append(problems, checkTargets(st, where+".skills."+id)...)
	}
	return problems
}

// checkDurations bounds every duration (see MinDuration, MaxDuration).
func (r Resolved) checkDurations(src Source) []string {
	var problems []string
	within := func(setting string, d, lo, hi time.Duration, zeroOK bool) {
		if (zeroOK && d == 0) || (d >= lo && d <= hi) {
			return
		}
		off := ""
		if zeroOK {
			off = "0 (off) or "
		}
		problems = append(problems, fmt.Sprintf("%s must be %sbetween %v and %v, not %v", src.name(setting), off, model.Duration(lo), model.Duration(hi), model.Duration(d)))
	}
	within("interval", r.Interval, MinDuration, MaxDuration, false)
	within("delay", r.Delay, 0, MaxDuration, false)
	within("chat_revisit", r.ChatRevisit, MinDuration, MaxDuration, true)
	within("timeout", r.Timeout, MinDuration, MaxTimeout, false)
	within("realtime_interval", r.RealtimeInterval, MinDuration, MaxDuration, true)
	within("quota_interval", r.QuotaInterval, MinDuration, MaxDuration, true)
	if r.ChatFollow {
		// Past the revisit's reach, and within what a state file and the
		// book hold sensibly.
		within("chat_follow_max_age", r.ChatFollowMaxAge, MinFollowAge, MaxFollowAge, false)
	}
	if r.MaxCatchup < r.Interval || r.MaxCatchup > MaxDuration {
		problems = append(problems, fmt.Sprintf("%s (%v) must be at least one %s (%v) and at most %v",
			src.name("max_catchup"), model.Duration(r.MaxCatchup), src.name("interval"), model.Duration(r.Interval), model.Duration(MaxDuration)))
	}
	return problems
}

// ResolveFlags resolves the one operation the command line describes.
// Its token comes from its token file, or else envToken (WOLKVOX_TOKEN).
func ResolveFlags(op Operation, envToken string, builtin Builtin) (Resolved, []error) {
	r, problems := resolve(op, Polling{}, builtin, FromFlags)
	if op.TokenFile == "" {
		token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(envToken), "\uFEFF"))
		switch err := wolkvox.CheckToken(token); {
		case token == "":
			problems = append(problems, "no token: set --wolkvox.token-file or the WOLKVOX_TOKEN environment variable (or try --demo)")
		case err != nil:
			problems = append(problems, "WOLKVOX_TOKEN: "+err.Error())
		default:
			r.Token = token
		}
	}
	var errs []error
	for _, p := range problems {
		errs = append(errs, fmt.Errorf("%s", p))
	}
	return r, errs
}

// Warnings are what may work but should be said, for every operation:
// the token in clear text over a network, and a cadence faster than the
// vendor suggests, with its daily token cost.
func (r Resolved) Warnings() []string {
	var out []string
	if u, err := url.Parse(r.URL); err == nil && u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			out = append(out, fmt.Sprintf("url uses plain http to %s, not a loopback host: the token crosses the network in clear text", u.Hostname()))
		}
	}
	if r.Interval < SuggestedInterval {
		out = append(out, fmt.Sprintf("interval %v is shorter than the vendor's suggested %v: new windows alone cost %d tokens a day of the operation's quota (licenses x 1000)",
			model.Duration(r.Interval), model.Duration(SuggestedInterval), int(2*24*time.Hour/r.Interval)))
	}
	return out
}
