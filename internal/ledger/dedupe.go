package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// What has been counted of one record, so that a record seen again (on a
// window boundary, by a revisit, or a case seen first open and later
// closed) adds only what it has not added before.
const (
	seenCounted uint8 = 1 << iota
	seenClosed
	seenSurvey
	seenTypified
	seenArchived
	seenOpen     // seen with status open at least once
	seenLabelled // labels set (version 1 state files kept none)
	seenGivenUp  // given up by following: only ever seen again
)

// entry is what dedupe keeps of one record.
type entry interface{ lastSeen() int64 }

// seenEntry is a transfer's entry.
type seenEntry struct {
	at    int64 // Unix seconds of the window end when last seen
	flags uint8
}

func (e seenEntry) lastSeen() int64 { return e.at }

// caseEntry is a chat_4 case's entry: its flags, and what the backlog,
// the age bands and following need: when it was created, when it was
// first seen done (closed or archived), and its labels. It is kept
// compact (16 bytes, times as Unix seconds in uint32, labels as an index
// in the book's table of label pairs): an operation following its open
// e-mails for two weeks holds hundreds of thousands of them.
type caseEntry struct {
	at      uint32 // Unix seconds of the window end when last seen
	created uint32 // date_creation in Unix seconds; 0 when unknown
	done    uint32 // window end when first seen closed or archived; 0 before
	labels  uint16 // index in caseLabels: channel and skill_id, already bounded
	flags   uint8
}

func (e caseEntry) lastSeen() int64 { return int64(e.at) }

// open reports whether the case was seen open and not since seen closed
// or archived.
func (e caseEntry) open() bool {
	return e.flags&seenOpen != 0 && e.flags&(seenClosed|seenArchived) == 0
}

// unixSeconds is t as a case entry holds it: 0 for the zero time, and
// clamped to what 32 bits of seconds hold (1970 to 2106).
func unixSeconds(t time.Time) uint32 {
	if t.IsZero() {
		return 0
	}
	return clampSeconds(t.Unix())
}

func clampSeconds(s int64) uint32 { return uint32(min(max(s, 0), math.MaxUint32)) }

// caseLabels interns the (channel, skill_id) pairs of case entries. Both
// labels are bounded (maxChannels, maxSkills, each with "other"), so the
// pairs fit a uint16; should they not, the rest share pair 0.
type caseLabels struct {
	pairs []chatKey
	index map[chatKey]uint16
}

// newCaseLabels returns a table whose pair 0 is ("other", "other"), where
// pairs beyond its size go.
func newCaseLabels() *caseLabels {
	c := &caseLabels{index: map[chatKey]uint16{}}
	c.intern(chatKey{otherLabel, otherLabel})
	return c
}

func (c *caseLabels) intern(k chatKey) uint16 {
	if i, ok := c.index[k]; ok {
		return i
	}
	if len(c.pairs) > math.MaxUint16 {
		return 0
	}
	i := uint16(len(c.pairs))
	c.pairs = append(c.pairs, k)
	c.index[k] = i
	return i
}

func (c *caseLabels) get(i uint16) chatKey {
	if int(i) < len(c.pairs) {
		return c.pairs[i]
	}
	return chatKey{noneLabel, noneLabel}
}

// dedupe remembers recently counted records by a salted hash of their
// identity. The identity itself (a case id is personal data) is never
// kept; the salt makes the hash useless for guessing ids without it.
// Memory is bounded by age and by count.
type dedupe[E entry] struct {
	salt      [16]byte
	seen      map[uint64]E
	retention time.Duration
	max       int
	buf       []byte // reused by hash; the poller's goroutine only
}

func newDedupe[E entry](retention time.Duration, max int) *dedupe[E] {
	d := &dedupe[E]{seen: map[uint64]E{}, retention: retention, max: max}
	_, _ = rand.Read(d.salt[:])
	return d
}

// hash is SHA-256 over the salt and each part followed by a zero byte,
// truncated to 64 bits. It runs for every record, so it hashes one reused
// buffer. The byte stream must not change: saved state files hold its keys.
func (d *dedupe[E]) hash(parts ...string) uint64 {
	d.buf = append(d.buf[:0], d.salt[:]...)
	for _, p := range parts {
		d.buf = append(d.buf, p...)
		d.buf = append(d.buf, 0)
	}
	sum := sha256.Sum256(d.buf)
	return binary.LittleEndian.Uint64(sum[:8])
}

// transferKey identifies a transfer leg by conn_id_transfer and date, or,
// for a broken record without an id, by everything it has.
func (d *dedupe[E]) transferKey(t *wolkvox.Transfer) uint64 {
	date := strconv.FormatInt(t.Date.Unix(), 10)
	if t.ConnID != "" {
		return d.hash("t", t.ConnID, date)
	}
	return d.hash("t?", date, t.SkillID, t.OriginAgentID, t.DestinationAgentID, t.TypeCall, t.Duration.String())
}

// caseKey identifies an interaction by case_id, or, without one, by what
// does not change over its life.
func (d *dedupe[E]) caseKey(c *wolkvox.Interaction) uint64 {
	if c.CaseID != "" {
		return d.hash("c", c.CaseID)
	}
	return d.hash("c?", c.Channel, c.AgentName, c.SkillID, strconv.FormatInt(c.Created.Unix(), 10))
}

// prune forgets entries not seen within the retention before now, and
// then the least recently seen ones while there are more than max. Entries
// dated after now (a clock that stepped back) count as seen now.
func (d *dedupe[E]) prune(now time.Time) {
	cutoff := now.Add(-d.retention).Unix()
	for k, e := range d.seen {
		if e.lastSeen() < cutoff {
			delete(d.seen, k)
		}
	}
	d.bound()
}

// bound drops the least recently seen entries while there are more than
// max.
func (d *dedupe[E]) bound() {
	excess := len(d.seen) - d.max
	if excess <= 0 {
		return
	}
	// Drop the excess oldest: find the excess-th smallest time, drop what
	// is older, then as many of that time as still need to go. Two passes
	// and a sort; it cannot loop however the times are distributed.
	times := make([]int64, 0, len(d.seen))
	for _, e := range d.seen {
		times = append(times, e.lastSeen())
	}
	slices.Sort(times)
	limit := times[excess-1]
	for k, e := range d.seen {
		if excess == 0 {
			break
		}
		if e.lastSeen() < limit {
			delete(d.seen, k)
			excess--
		}
	}
	for k, e := range d.seen {
		if excess == 0 {
			break
		}
		if e.lastSeen() == limit {
			delete(d.seen, k)
			excess--
		}
	}
}
