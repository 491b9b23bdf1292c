package wolkvoxtest

// servedLog remembers, once each, the records a server delivered in
// complete responses: the ground truth exporter tests compare against.
type servedLog struct {
	transfers    map[string]RawTransfer    // by conn_id_transfer and date
	interactions map[string]RawInteraction // by case_id, as first delivered
	latest       map[string]RawInteraction // by case_id, as last delivered
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
func (s *Server) ServedTransfers() []RawTransfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RawTransfer, 0, len(s.served.transfers))
	for _, r := range s.served.transfers {
		out = append(out, r)
	}
	return out
}

// ServedInteractions returns each distinct chat_4 case delivered in a
// complete response, as first delivered.
func (s *Server) ServedInteractions() []RawInteraction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RawInteraction, 0, len(s.served.interactions))
	for _, r := range s.served.interactions {
		out = append(out, r)
	}
	return out
}

// LatestServedInteractions returns each distinct chat_4 case delivered in a
// complete response, as last delivered: what the exporter was last told.
func (s *Server) LatestServedInteractions() []RawInteraction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RawInteraction, 0, len(s.served.latest))
	for _, r := range s.served.latest {
		out = append(out, r)
	}
	return out
}
