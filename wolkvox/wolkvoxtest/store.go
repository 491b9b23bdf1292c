package wolkvoxtest

import (
	"sync"
	"time"
)

// Store is a Dataset of records added by hand.
type Store struct {
	Location *time.Location // zone of the records' dates; default UTC

	mu           sync.Mutex
	transfers    []RawTransfer
	interactions []RawInteraction
}

// AddTransfers adds agent_13_1 records, served by their date.
func (s *Store) AddTransfers(recs ...RawTransfer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transfers = append(s.transfers, recs...)
}

// AddInteractions adds chat_4 records, served by their date_creation.
func (s *Store) AddInteractions(recs ...RawInteraction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interactions = append(s.interactions, recs...)
}

func (s *Store) loc() *time.Location { return orUTC(s.Location) }

// orUTC is loc, or UTC when it is nil: the zero value of a dataset's
// Location means UTC.
func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// Transfers returns the records dated within [from, to].
func (s *Store) Transfers(from, to time.Time) []RawTransfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RawTransfer
	for _, r := range s.transfers {
		out = appendIfWithin(out, r, r.Date, from, to, s.loc())
	}
	return out
}

// Interactions returns the records created within [from, to], as they
// were added: a Store's cases never change. None created after now is
// served.
func (s *Store) Interactions(now, from, to time.Time) []RawInteraction {
	to = earliest(to, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RawInteraction
	for _, r := range s.interactions {
		out = appendIfWithin(out, r, r.DateCreation, from, to, s.loc())
	}
	return out
}

// Merge serves the records of several datasets together.
type Merge []Dataset

// Transfers returns every dataset's transfers within [from, to].
func (m Merge) Transfers(from, to time.Time) []RawTransfer {
	var out []RawTransfer
	for _, d := range m {
		out = append(out, d.Transfers(from, to)...)
	}
	return out
}

// Interactions returns every dataset's interactions for [from, to] at now.
func (m Merge) Interactions(now, from, to time.Time) []RawInteraction {
	var out []RawInteraction
	for _, d := range m {
		out = append(out, d.Interactions(now, from, to)...)
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
