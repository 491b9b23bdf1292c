package wolkvoxtest

// servedLog remembers, once each, the records a server delivered in
// complete responses: the ground truth exporter tests compare against.
type servedLog struct {
	transfers    map[string]RawTransfer    // by conn_id_transfer and date
	interactions map[string]RawInteraction // by case_id, as first delivered
	latest       map[string]RawInteraction // by case_id, as last delivered
	snapshots    snapshotLog               // the real-time API's
}

func newServedLog() servedLog {
	return servedLog{transfers: map[string]RawTransfer{}, interactions: map[string]RawInteraction{}, latest: map[string]RawInteraction{}}
}

func (l *servedLog) addTransfer(r *RawTransfer) {
	l.transfers[r.ConnIDTransfer+"|"+r.Date] = *r
}

func (l *servedLog) addInteraction(r *RawInteraction) {
	if _, seen := l.interactions[r.CaseID]; !seen {
		l.interactions[r.CaseID] = *r
	}
	l.latest[r.CaseID] = *r
}

// ServedTransfers returns each distinct agent_13_1 record delivered in a
// complete response, however often it was delivered.
func (s *Server) ServedTransfers() []RawTransfer { return snapshot(s, s.served.transfers) }

// ServedInteractions returns each distinct chat_4 case delivered in a
// complete response, as first delivered.
func (s *Server) ServedInteractions() []RawInteraction { return snapshot(s, s.served.interactions) }

// LatestServedInteractions returns each distinct chat_4 case delivered in a
// complete response, as last delivered: what the exporter was last told.
func (s *Server) LatestServedInteractions() []RawInteraction { return snapshot(s, s.served.latest) }

// snapshot copies the values of one of the served log's maps under the
// server's lock.
func snapshot[V any](s *Server, m map[string]V) []V {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]V, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}
