package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// What has been counted of one record, so that a record seen again (on a
// window boundary, or a case seen first open and later closed) adds only
// what it has not added before.
const (
	seenCounted uint8 = 1 << iota
	seenClosed
	seenSurvey
	seenTypified
)

type seenEntry struct {
	at    int64 // Unix seconds of the window end when last seen
	flags uint8
}

// dedupe remembers recently counted records by a salted hash of their
// identity. The identity itself (a case id is personal data) is never
// kept; the salt makes the hash useless for guessing ids without it.
// Memory is bounded by age and by count.
type dedupe struct {
	salt      [16]byte
	seen      map[uint64]seenEntry
	retention time.Duration
	max       int
	buf       []byte // reused by hash; the poller's goroutine only
}

func newDedupe(retention time.Duration, max int) *dedupe {
	d := &dedupe{seen: map[uint64]seenEntry{}, retention: retention, max: max}
	_, _ = rand.Read(d.salt[:])
	return d
}

// hash is SHA-256 over the salt and each part followed by a zero byte,
// truncated to 64 bits. It runs for every record, so it hashes one reused
// buffer. The byte stream must not change: saved state files hold its keys.
func (d *dedupe) hash(parts ...string) uint64 {
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
func (d *dedupe) transferKey(t *wolkvox.Transfer) uint64 {
	date := strconv.FormatInt(t.Date.Unix(), 10)
	if t.ConnID != "" {
		return d.hash("t", t.ConnID, date)
	}
	return d.hash("t?", date, t.SkillID, t.OriginAgentID, t.DestinationAgentID, t.TypeCall, t.Duration.String())
}

// caseKey identifies an interaction by case_id, or, without one, by
// everything it has.
func (d *dedupe) caseKey(c *wolkvox.Interaction) uint64 {
	if c.CaseID != "" {
		return d.hash("c", c.CaseID)
	}
	return d.hash("c?", c.Channel, c.AgentName, c.SkillID, strconv.FormatInt(c.Created.Unix(), 10), c.CodAct, c.Status)
}

// mark records that key gained flags at window end at, and returns the
// flags it already had.
func (d *dedupe) mark(key uint64, at time.Time, flags uint8) (had uint8) {
	e := d.seen[key]
	had = e.flags
	e.flags |= flags
	e.at = max(e.at, at.Unix())
	d.seen[key] = e
	return had
}

// prune forgets keys not seen within the retention before now, and more
// recent ones if there are still too many.
func (d *dedupe) prune(now time.Time) {
	for cutoff := now.Add(-d.retention).Unix(); ; cutoff += (now.Unix() - cutoff) / 2 {
		for k, e := range d.seen {
			if e.at < cutoff {
				delete(d.seen, k)
			}
		}
		if len(d.seen) <= d.max || cutoff >= now.Unix() {
			return
		}
	}
}
