package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An editor's UTF-8 byte-order mark is not part of the token; without
// this, every call failed as network.
func TestTokenByteOrderMarkIsDropped(t *testing.T) {
	file := write(t, t.TempDir(), "token", "\xef\xbb\xbfabc-token\r\n")
	if got, err := ReadTokenFile(file); got != "abc-token" || err != nil {
		t.Errorf("token file with a BOM: %q, %v", got, err)
	}
	r, errs := ResolveFlags(Operation{Name: "op", Server: "0002", Timezone: "America/Bogota"}, "\ufeffenv-token ", builtin)
	if r.Token != "env-token" || len(errs) > 0 {
		t.Errorf("WOLKVOX_TOKEN with a BOM: %q, %v", r.Token, errs)
	}
}

var builtin = Builtin{Interval: 5 * time.Minute, Delay: time.Minute, MaxCatchup: 24 * time.Hour, ChatRevisit: 24 * time.Hour, Timeout: time.Minute}

// Files that never end, or never open, are refused at once with a line
// naming them: a FIFO used to hang a start or a reload for ever (the
// reload lock held), /dev/zero to kill the exporter out of memory.
func TestUnreadableFilesAreRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"fifo": fifo, "/dev/zero": "/dev/zero", "directory": dir, "huge": huge} {
		done := make(chan error, 2)
		go func() { _, err := ReadTokenFile(path); done <- err }()
		go func() { _, errs := Load(path, builtin); done <- errorsOf(errs) }()
		for range 2 {
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("%s: read without an error", name)
				} else if !strings.Contains(err.Error(), path) {
					t.Errorf("%s: %v does not name the file", name, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: the read hangs", name)
			}
		}
	}
}

func errorsOf(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// Every duration is bounded, in the file and the flags alike, and each
// problem names its setting as the user wrote it.
func TestDurationsAreBounded(t *testing.T) {
	token := write(t, t.TempDir(), "token", "tok")
	d := func(s string) *model.Duration {
		v, err := model.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	cases := []struct {
		polling   Polling
		file, flg string
	}{
		{Polling{Interval: d("1ms")}, "interval must be between 1s and 31d, not 1ms", "--poll.interval must be between"},
		{Polling{Interval: d("200y")}, "interval must be between 1s and 31d, not 200y", "--poll.interval must be between"},
		{Polling{Delay: d("250y")}, "delay must be between 0s and 31d", "--poll.delay must be between"},
		{Polling{ChatRevisit: d("250y")}, "chat_revisit must be 0 (off) or between 1s and 31d", "--chat.revisit must be 0 (off) or between"},
		{Polling{ChatRevisit: d("1ms")}, "chat_revisit must be 0 (off) or between", "--chat.revisit must be 0 (off) or between"},
		{Polling{MaxCatchup: d("1m")}, "max_catchup (1m) must be at least one interval (5m)", "--poll.max-catchup (1m) must be at least one --poll.interval (5m)"},
		{Polling{MaxCatchup: d("60d")}, "max_catchup (60d) must be at least one interval (5m) and at most 31d", "--poll.max-catchup (60d)"},
		{Polling{Timeout: d("1ms")}, "timeout must be between 1s and 10m", "--wolkvox.timeout must be between"},
	}
	for _, tc := range cases {
		op := Operation{Name: "op", Server: "0002", TokenFile: token, Timezone: "America/Bogota", Polling: tc.polling}
		_, problems := resolve(op, Polling{}, builtin, FromFile)
		if len(problems) == 0 || !strings.Contains(problems[0], tc.file) {
			t.Errorf("file %+v: %v, want %q", tc.polling, problems, tc.file)
		}
		_, errs := ResolveFlags(op, "", builtin)
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.flg) {
			t.Errorf("flags %+v: %v, want %q", tc.polling, errs, tc.flg)
		}
	}
	op := Operation{Name: "op", Server: "0002", TokenFile: token, Timezone: "America/Bogota", Polling: Polling{ChatRevisit: d("0s")}}
	if _, problems := resolve(op, Polling{}, builtin, FromFile); len(problems) != 0 {
		t.Errorf("chat_revisit 0 (off): %v", problems)
	}
}

// Following's settings: a budget and a max-age within bounds while it is
// on, nothing asked of them while it is off, and a target per operation.
func TestFollowSettingsAreChecked(t *testing.T) {
	token := write(t, t.TempDir(), "token", "tok")
	on, off := true, false
	zero, many := 0, 100_001
	d := func(s string) *model.Duration { v, _ := model.ParseDuration(s); return &v }
	follow := builtin
	follow.ChatFollow, follow.ChatFollowMaxAge, follow.ChatFollowCallsPerDay = true, 14*24*time.Hour, 288
	cases := []struct {
		polling Polling
		targets *Targets
		want    string
	}{
		{Polling{ChatFollowCallsPerDay: &zero}, nil, "chat_follow_max_calls_per_day must be between 1 and 100000, not 0 (turn following off with chat_follow: false)"},
		{Polling{ChatFollowCallsPerDay: &many}, nil, "chat_follow_max_calls_per_day must be between 1 and 100000"},
		{Polling{ChatFollowMaxAge: d("60d")}, nil, "chat_follow_max_age must be between 1h and 31d, not 60d"},
		{Polling{ChatFollowMaxAge: d("30m")}, nil, "chat_follow_max_age must be between 1h and 31d, not 30m"},
		{Polling{ChatFollow: &on}, &Targets{ChatOpenAge: model.Duration(-time.Hour)}, "chat_open_age must be 0 (the default, 48h) or between 1m and 31d, not -1h"},
		{Polling{ChatFollow: &on}, &Targets{ChatOpenAge: model.Duration(time.Millisecond)}, "chat_open_age must be 0 (the default, 48h) or between 1m and 31d, not 1ms"},
		{Polling{ChatFollowMaxAge: d("14d")}, &Targets{ChatOpenAge: model.Duration(20 * 24 * time.Hour)}, "targets.chat_open_age (20d) must be below chat_follow_max_age (2w): a case is given up at the max-age"},
		{Polling{ChatFollowMaxAge: d("1d")}, nil, "targets.chat_open_age (2d) must be below chat_follow_max_age (1d)"},
		{Polling{ChatFollow: &off, ChatFollowMaxAge: d("1d")}, nil, ""},
		{Polling{ChatFollow: &on}, &Targets{Skills: map[string]Targets{"101": {ChatOpenAge: model.Duration(time.Hour)}}}, "chat_open_age is the operation's, not a skill's"},
		{Polling{ChatFollow: &off, ChatFollowCallsPerDay: &zero, ChatFollowMaxAge: d("60d")}, nil, ""},
	}
	for _, tc := range cases {
		tc.polling.Targets = tc.targets
		op := Operation{Name: "op", Server: "0002", TokenFile: token, Timezone: "America/Bogota", Polling: tc.polling}
		r, problems := resolve(op, Polling{}, follow, FromFile)
		switch {
		case tc.want == "" && len(problems) != 0:
			t.Errorf("%+v: %v, want none", tc.polling, problems)
		case tc.want != "" && (len(problems) == 0 || !strings.Contains(problems[0], tc.want)):
			t.Errorf("%+v: %v, want %q", tc.polling, problems, tc.want)
		case tc.want == "" && r.ChatFollow:
			t.Errorf("chat_follow: false left following on")
		}
	}
	_, errs := ResolveFlags(Operation{Name: "op", Server: "0002", TokenFile: token, Timezone: "America/Bogota", Polling: Polling{ChatFollowCallsPerDay: &zero}}, "", follow)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "--chat.follow.max-calls-per-day must be between 1 and 100000, not 0 (turn following off with --no-chat.follow)") {
		t.Errorf("flags: %v", errs)
	}
	r, problems := resolve(Operation{Name: "op", Server: "0002", TokenFile: token, Timezone: "America/Bogota"}, Polling{}, follow, FromFile)
	if len(problems) != 0 || !r.ChatFollow || r.ChatFollowCallsPerDay != 288 || r.ChatFollowMaxAge != 14*24*time.Hour || time.Duration(r.Targets.ChatOpenAge) != 48*time.Hour {
		t.Errorf("the defaults: %+v %v", r, problems)
	}
}

// The cost and clear-text warnings apply to every operation, not only the
// flags' one.
func TestWarningsApplyToEveryOperation(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "wolkvox.yml", `operations:
  - {name: fast, server: "0002", token_file: `+write(t, dir, "a", "tok-a")+`, timezone: America/Bogota, interval: 1m}
  - {name: clear, url: "http://10.1.2.3:8080", token_file: `+write(t, dir, "b", "tok-b")+`, timezone: America/Lima}
  - {name: fine, server: "0003", token_file: `+write(t, dir, "c", "tok-c")+`, timezone: America/Lima}
`)
	ops, errs := Load(file, builtin)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[string]string{"fast": "2880 tokens a day", "clear": "clear text", "fine": ""}
	for _, r := range ops {
		w := strings.Join(r.Warnings(), "; ")
		if (want[r.Name] == "") != (w == "") || !strings.Contains(w, want[r.Name]) {
			t.Errorf("%s: warnings %q, want %q", r.Name, w, want[r.Name])
		}
	}
}

func TestPlainHTTPToARemoteHostWarns(t *testing.T) {
	for raw, warn := range map[string]bool{
		"http://10.1.2.3:8080":       true,
		"http://wv0002.example.com":  true,
		"https://wv0002.wolkvox.com": false,
		"http://127.0.0.1:8080":      false,
		"http://localhost:8080":      false,
		"http://[::1]:8080":          false,
	} {
		r := Resolved{URL: raw, Interval: 5 * time.Minute}
		if got := strings.Contains(strings.Join(r.Warnings(), ";"), "clear text"); got != warn {
			t.Errorf("%s: warned %v, want %v", raw, got, warn)
		}
	}
}
