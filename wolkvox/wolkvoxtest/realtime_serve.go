package wolkvoxtest

import (
	"bufio"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// DefaultTokenLimit is the token_limit the fake reports when
// Config.DailyQuota is not set: one license's, not enforced.
const DefaultTokenLimit = 1000

// usage counts the calls of each token on the operation's day, as
// token_info reports them: every call the server received with a token
// it accepts, whatever it answered, token_info's own included.
type usage struct {
	day   string
	spent map[string]int // by token
}

func (u *usage) spend(token string, now time.Time) {
	if d := now.Format(time.DateOnly); d != u.day {
		u.day, u.spent = d, map[string]int{}
	}
	u.spent[token]++
}

func (u *usage) today(token string, now time.Time) (mine, all int) {
	if now.Format(time.DateOnly) != u.day {
		return 0, 0
	}
	for t, n := range u.spent {
		all += n
		if t == token {
			mine += n
		}
	}
	return mine, all
}

// TokensToday returns what token_info would report now: the calls made
// today (the operation's day) with the server's token, and with every
// token it accepts.
func (s *Server) TokensToday() (token, all int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage.today(s.cfg.Token, s.cfg.Now().In(s.cfg.Location))
}

// serveSnapshot answers real_time.php?api=skills|agents and
// information.php?api=token_info, with the faults that apply to the api.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request, req *Request, answer func(int, string)) {
	q := r.URL.Query()
	switch {
	case req.Path == "real_time.php" && req.Report == wolkvox.ReportSkills:
		switch id := q.Get("skill_id"); {
		case id == "":
			answer(http.StatusBadRequest, envelopeError("400", "SOME PARAMETERS ARE REQUIRED"))
			return
		case id == "all" && s.cfg.RefuseAllSkills:
			answer(http.StatusBadRequest, envelopeError("400", "SOME PARAMETERS ARE REQUIRED"))
			return
		}
	case req.Path == "real_time.php" && req.Report == wolkvox.ReportAgents:
	case req.Path == "information.php" && req.Report == wolkvox.ReportTokenInfo:
	default:
		answer(http.StatusBadRequest, envelopeError("400", "THE API YOU WANT TO CONSULT DOES NOT EXIST"))
		return
	}
	f := s.takeFault(req.Report)
	if s.faulted(w, r, req, f) {
		return
	}
	now := s.cfg.Now()
	format := s.cfg.RealtimeFormat
	var code any = "200"
	if format.CodeNumber {
		code = 200
	}
	if f != nil && f.Code != nil {
		code = f.Code
	}
	var (
		ids    []string
		rows   [][]byte
		skills []SkillRow
		agents []AgentRow
	)
	switch req.Report {
	case wolkvox.ReportSkills:
		if s.cfg.Realtime != nil {
			skills = s.cfg.Realtime.SkillsAt(now)
		}
		if id := q.Get("skill_id"); id != "all" {
			skills = slices.DeleteFunc(slices.Clone(skills), func(r SkillRow) bool { return r.ID != id })
		}
		// As the API does: service_level_0seg unless services_time asks
		// for another threshold.
		zeroSeg := true
		for i := range skills {
			for n := range skills[i].ServiceLevel {
				zeroSeg = zeroSeg && (n == 10 || n == 20 || n == 30)
			}
		}
		for i := range skills {
			ids = append(ids, skills[i].ID)
			rows = append(rows, format.appendSkill(nil, &skills[i], zeroSeg))
		}
	case wolkvox.ReportAgents:
		if s.cfg.Realtime != nil {
			agents = s.cfg.Realtime.AgentsAt(now)
		}
		for i := range agents {
			ids = append(ids, agents[i].ID)
			rows = append(rows, format.appendAgent(nil, &agents[i]))
		}
	case wolkvox.ReportTokenInfo:
		s.mu.Lock()
		mine, all := s.usage.today(r.Header.Get("wolkvox-token"), now.In(s.cfg.Location))
		s.mu.Unlock()
		limit := s.cfg.DailyQuota
		if limit <= 0 {
			limit = DefaultTokenLimit
		}
		st := style{number: format.Numbers, thousands: format.Thousands}
		m := members{b: []byte{'{'}}
		m.raw("token_limit", st.count(nil, limit))
		m.raw("token_use_today", st.count(nil, mine))
		m.raw("all_token_today", st.count(nil, all))
		m.raw("available_consumption_options", st.count(nil, max(0, limit-all)))
		ids, rows = []string{"token_info"}, [][]byte{m.end()}
	}
	errText := ""
	if f != nil {
		errText = f.Error
	}
	body := snapshotBody(code, format.Data, ids, rows, errText)
	if f != nil && f.PHPWarning {
		body = append([]byte("<br />\n<b>Warning</b>:  Undefined index: skill in <b>/var/www/api/v2/"+req.Path+"</b> on line <b>88</b><br />\n"), body...)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	req.Status = http.StatusOK
	cw := &cutWriter{w: w, left: -1}
	if f != nil && f.CutAfter > 0 {
		cw.left = f.CutAfter
	}
	bw := bufio.NewWriterSize(cw, 32<<10)
	_, _ = bw.Write(body)
	_ = bw.Flush()
	w.(http.Flusher).Flush()
	if cw.cut {
		req.Status = -1
		panic(http.ErrAbortHandler)
	}
	req.Records = len(rows)
	if f.delivers() && !s.cfg.ForgetServed {
		s.mu.Lock()
		s.served.addSnapshot(now, skills, agents, req.Report == wolkvox.ReportAgents)
		s.mu.Unlock()
	}
}

// snapshotLog remembers what the real-time API delivered in complete
// responses: the ground truth a test compares a client's snapshot with.
type snapshotLog struct {
	skills   map[string]SkillRow // by id, as last delivered
	agents   []AgentRow          // the last complete agents response
	agentsAt time.Time
}

func (l *servedLog) addSnapshot(now time.Time, skills []SkillRow, agents []AgentRow, isAgents bool) {
	if l.snapshots.skills == nil {
		l.snapshots.skills = map[string]SkillRow{}
	}
	for _, r := range skills {
		l.snapshots.skills[r.ID] = r
	}
	if isAgents {
		l.snapshots.agents, l.snapshots.agentsAt = slices.Clone(agents), now
	}
}

// ServedSkills returns each skill delivered in a complete skills response,
// as last delivered, in id order.
func (s *Server) ServedSkills() []SkillRow {
	rows := snapshot(s, s.served.snapshots.skills)
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows
}

// ServedAgents returns the rows of the last complete agents response and
// the server time it was made at (zero if none was delivered).
func (s *Server) ServedAgents() ([]AgentRow, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.served.snapshots.agents), s.served.snapshots.agentsAt
}

// snapshotBody is a whole response holding rows, with the error member
// after data when errText is set, as a script that fails late writes it.
func snapshotBody(code any, shape DataShape, ids []string, rows [][]byte, errText string) []byte {
	body := appendRows(nil, code, shape, ids, rows, errText == "")
	if shape == DataBare {
		return body
	}
	if errText != "" {
		body = append(body, `,"error":`...)
		body = appendString(body, errText)
	}
	return append(body, '}')
}

// SkillsResponse returns a complete real_time.php?api=skills response
// holding rows, written as f says, byte for byte as the server sends it.
func SkillsResponse(rows []SkillRow, f Format) []byte {
	var code any = "200"
	if f.CodeNumber {
		code = 200
	}
	ids, out := make([]string, len(rows)), make([][]byte, len(rows))
	for i := range rows {
		ids[i], out[i] = rows[i].ID, f.appendSkill(nil, &rows[i], true)
	}
	return snapshotBody(code, f.Data, ids, out, "")
}

// AgentsResponse returns a complete real_time.php?api=agents response
// holding rows, written as f says.
func AgentsResponse(rows []AgentRow, f Format) []byte {
	var code any = "200"
	if f.CodeNumber {
		code = 200
	}
	ids, out := make([]string, len(rows)), make([][]byte, len(rows))
	for i := range rows {
		ids[i], out[i] = rows[i].ID, f.appendAgent(nil, &rows[i])
	}
	return snapshotBody(code, f.Data, ids, out, "")
}
