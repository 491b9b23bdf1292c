// Package config reads the exporter's configuration file: the Wolkvox
// operations to poll, each with its own server, token file, time zone and
// quota, and polling defaults that each operation may override.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/safefile"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// Polling holds the settings an operation may take from the file's
// defaults or set itself. A nil field is not set.
type Polling struct {
	Interval    *model.Duration `yaml:"interval"`
	Delay       *model.Duration `yaml:"delay"`
	MaxCatchup  *model.Duration `yaml:"max_catchup"`
	ChatRevisit *model.Duration `yaml:"chat_revisit"`
	Timeout     *model.Duration `yaml:"timeout"`
	// RealtimeInterval spaces the real-time snapshots (skills, agents);
	// unset: the interval; 0: off. QuotaInterval spaces token_info.
	RealtimeInterval *model.Duration `yaml:"realtime_interval"`
	QuotaInterval    *model.Duration `yaml:"quota_interval"`
	// Targets are the alert rules' thresholds.
	Targets *Targets `yaml:"targets"`
	// ChatFollow keeps following chat_4 cases open beyond the revisit
	// horizon, up to ChatFollowMaxAge, spending at most
	// ChatFollowCallsPerDay calls a day.
	ChatFollow            *bool           `yaml:"chat_follow"`
	ChatFollowMaxAge      *model.Duration `yaml:"chat_follow_max_age"`
	ChatFollowCallsPerDay *int            `yaml:"chat_follow_max_calls_per_day"`
}

// Targets are an operation's real-time targets, exported as gauges so the
// shipped alert rules need no editing. A zero field takes the default.
type Targets struct {
	ServiceLevel        float64 `yaml:"service_level"`         // share of calls answered within ServiceLevelSeconds
	ServiceLevelSeconds int     `yaml:"service_level_seconds"` // one of the thresholds the API reports: 10, 20, 30 (or services_time)
	Queue               float64 `yaml:"queue"`                 // the most calls a skill's queue should hold
	Abandoned           float64 `yaml:"abandoned"`             // the highest share of abandoned calls
	// ChatOpenAge is the age by which an open chat_4 case should be
	// closed (an e-mail desk's 48 hours); it is not per skill.
	ChatOpenAge model.Duration `yaml:"chat_open_age"`
	// Skills overrides some of the above by skill id.
	Skills map[string]Targets `yaml:"skills"`
}

// DefaultTargets are the targets where none is configured: the
// contact-center industry's common 80 % within 20 seconds, a queue of 10,
// 10 % abandoned, and e-mails answered within 48 hours.
func DefaultTargets() Targets {
	return Targets{ServiceLevel: 0.8, ServiceLevelSeconds: 20, Queue: 10, Abandoned: 0.1, ChatOpenAge: model.Duration(48 * time.Hour)}
}

// Operation is one entry of the file's operations list.
type Operation struct {
	Name       string `yaml:"name"`
	Server     string `yaml:"server"`
	URL        string `yaml:"url"`
	TokenFile  string `yaml:"token_file"`
	Timezone   string `yaml:"timezone"`
	DailyQuota int    `yaml:"daily_quota"`
	// Skills lists the skill ids to read one call each where the API
	// refuses skill_id=all, or not every skill is wanted.
	Skills []string `yaml:"skills"`
	// TimeoutCodes are the cod_act prefixes of closes by the platform's
	// timeout, counted apart from closes by agents; default TIMEOUT.
	TimeoutCodes []string `yaml:"timeout_codes"`
	Polling      `yaml:",inline"`
}

// File is the configuration file.
type File struct {
	Defaults   Polling     `yaml:"defaults"`
	Operations []Operation `yaml:"operations"`
}

// Resolved is one operation ready to poll: every default applied, the
// token read, the zone loaded.
type Resolved struct {
	Name        string
	Server, URL string
	TokenFile   string // "" when the token came from elsewhere
	Token       string
	Location    *time.Location
	DailyQuota  int
	Interval    time.Duration
	Delay       time.Duration
	MaxCatchup  time.Duration
	ChatRevisit time.Duration
	Timeout     time.Duration
	// RealtimeInterval and QuotaInterval: 0 is off.
	RealtimeInterval, QuotaInterval time.Duration
	Skills                          []string
	Targets                         Targets
	TimeoutCodes                    []string // nil: the default
	ChatFollow                      bool
	ChatFollowMaxAge                time.Duration
	ChatFollowCallsPerDay           int
}

// Builtin are the defaults of settings neither the file nor the
// operation sets; the command line's flags, for the flags' operation.
type Builtin struct {
	Interval, Delay, MaxCatchup, ChatRevisit, Timeout time.Duration
	// RealtimeInterval, negative: the operation's interval.
	RealtimeInterval, QuotaInterval time.Duration
	ChatFollow                      bool
	ChatFollowMaxAge                time.Duration
	ChatFollowCallsPerDay           int
	// ChatOpenAge, when set, is the chat_open_age target of every
	// operation that sets none.
	ChatOpenAge time.Duration
}

// Limits on the files the exporter reads on a user's behalf. Each is read
// without blocking (a FIFO, a device or a directory is refused at once)
// and only up to its limit, so that no file can hang or exhaust a start
// or a reload.
const (
	MaxConfigBytes    = 1 << 20  // a thousand operations take a tenth of it
	MaxTokenBytes     = 4 << 10  // a token is tens of bytes
	MaxWebConfigBytes = 64 << 10 // exporter-toolkit's TLS and basic auth file
)

// validName is what an operation name may be: it becomes a label value
// and a state file's name.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// CheckName rejects an operation name that cannot be a label value and a
// file name.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("no name")
	case !validName.MatchString(name):
		return fmt.Errorf("name %q must be letters, digits, '_', '.' or '-', at most 64", name)
	}
	return nil
}

// Load reads and checks the file at path. It returns every problem it
// finds, one error each, each naming its operation.
func Load(path string, builtin Builtin) ([]Resolved, []error) {
	data, err := safefile.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return nil, []error{fmt.Errorf("config file: %w", err)}
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, []error{fmt.Errorf("config file %s: %w", path, err)}
	}
	if len(f.Operations) == 0 {
		return nil, []error{fmt.Errorf("config file %s lists no operations", path)}
	}
	var errs []error
	var out []Resolved
	names := map[string]bool{}
	tokens := map[string]string{} // token -> first operation's name
	for i, op := range f.Operations {
		label := op.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		fail := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("operation %s: %s", label, fmt.Sprintf(format, a...)))
		}
		r, problems := resolve(op, f.Defaults, builtin, FromFile)
		for _, p := range problems {
			fail("%s", p)
		}
		if op.Name != "" && names[op.Name] {
			fail("the name is used twice")
		}
		names[op.Name] = true
		if r.Token != "" {
			if other, dup := tokens[r.Token]; dup {
				fail("has the same token as operation %s; the API forbids two requests at once with one token", other)
			}
			tokens[r.Token] = label
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// LoadZone loads an operation's time zone, refusing names that do not
// name one: empty (Go reads it as UTC), Local (whatever the host has) and
// Factory (tzdata's "not set").
func LoadZone(name string) (*time.Location, error) {
	switch strings.TrimSpace(name) {
	case "":
		return nil, errors.New("no timezone; name the operation's zone, e.g. America/Bogota")
	case "Local", "Factory":
		return nil, fmt.Errorf("timezone %q does not name the operation's zone; use an IANA name such as America/Bogota", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q: %w", name, err)
	}
	return loc, nil
}

// ReadTokenFile reads a token file: a byte-order mark is dropped, white
// space around the token trimmed, and anything that cannot be an HTTP
// header value refused, naming the file, never the token.
func ReadTokenFile(path string) (string, error) {
	b, err := safefile.ReadFile(path, MaxTokenBytes)
	if err != nil {
		// The path only when it names a file: a token pasted where its
		// file's path belongs would otherwise show in the message.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return "", fmt.Errorf("cannot read token file %s: %w", path, err)
		}
		return "", fmt.Errorf("cannot read token file: %w", err)
	}
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) {
		return "", fmt.Errorf("token file %s is UTF-16 text; save it as ASCII", path)
	}
	token := strings.TrimSpace(string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	if err := wolkvox.CheckToken(token); err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	return token, nil
}
