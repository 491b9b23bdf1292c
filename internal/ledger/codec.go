package ledger

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// The state file lets a restart continue exactly where the last saved
// poll ended: the window marks, the de-duplication keys and case flags,
// and every data counter and histogram, all in one atomic write that is
// made before any of it is published. It holds salted hashes, label
// values and counts, never a record's content.
//
// Format, version 3, streamed so that no copy of the keys is built in
// memory:
//
//	magic "wolkvox_exporter state 3\n"
//	uvarint length, JSON header (marks, salts, counters, histograms, following's schedule...)
//	uvarint count, then per transfer key: u64 hash, i64 last seen, u8 flags
//	uvarint count, then the case label pairs: channel and skill_id, each uvarint length, bytes
//	uvarint count, then per case: u64 hash, u32 last seen, u32 created, u32 done, u8 flags, uvarint label pair
//	u32 CRC-32 (IEEE) of everything before it
//
// Version 2 (a table of label strings, and per case: u64 hash, i64 last
// seen, i64 created, u8 flags, uvarint channel, uvarint skill) and
// version 1 files (JSON with marks and keys, no counters) still load.
const (
	stateMagic   = "wolkvox_exporter state 3\n"
	stateMagicV2 = "wolkvox_exporter state 2\n"
)

// maxStateHeader bounds the JSON header a load will read.
const maxStateHeader = 256 << 20

type stateHeader struct {
	SavedAt          time.Time                   `json:"saved_at"`
	Marks            map[string]time.Time        `json:"marks"`
	RevisitCursor    time.Time                   `json:"revisit_cursor"`
	Origins          map[string]time.Time        `json:"origins"`
	Poisoned         map[string]int64            `json:"poisoned"`
	Filter           FilterDiagnosis             `json:"filter"`
	TransferSalt     []byte                      `json:"transfer_salt"`
	CaseSalt         []byte                      `json:"case_salt"`
	Counters         map[string][]savedSeries    `json:"counters"`
	Histograms       map[string][]savedHistogram `json:"histograms"`
	Overflow         map[string]float64          `json:"overflow"`
	Agents           map[string]savedAgent       `json:"agents"`
	AgentChatSeen    map[string]time.Time        `json:"agent_chat_seen"`
	TypificationInfo map[string]string           `json:"typification_info"`
	WindowTransfers  map[string]float64          `json:"window_transfers"`
	LabelValues      map[string][]string         `json:"label_values"`
	Backfilled       bool                        `json:"backfilled,omitempty"`
	Follow           FollowState                 `json:"follow"`
}

type savedSeries struct {
	Labels []string `json:"l"`
	Value  float64  `json:"v"`
}

type savedHistogram struct {
	Labels []string `json:"l"`
	Count  uint64   `json:"n"`
	Sum    float64  `json:"s"`
	Counts []uint64 `json:"b"`
}

type savedAgent struct {
	Name     string    `json:"name"`
	LastSeen time.Time `json:"last_seen"`
}

func (a *Aggregate) labelLimits() map[string]*labelLimit {
	return map[string]*labelLimit{
		"type_call": a.typeCalls, "skill_id": a.skills, "channel": a.channels, "cod_act": a.codes,
		"agent_id": a.agentIDs, "agent_name": a.agentNames,
	}
}

func (l *Ledger) header(now time.Time) *stateHeader {
	a := l.agg
	h := &stateHeader{
		SavedAt: now.UTC(), Marks: map[string]time.Time{}, RevisitCursor: l.RevisitCursor, Origins: map[string]time.Time{}, Poisoned: l.Poisoned, Filter: l.Filter,
		Backfilled: l.Backfilled, Follow: l.Follow,
		TransferSalt: l.transfers.salt[:], CaseSalt: l.cases.salt[:],
		Counters: map[string][]savedSeries{}, Histograms: map[string][]savedHistogram{}, Overflow: map[string]float64{},
		Agents: map[string]savedAgent{}, AgentChatSeen: a.agentChatSeen, TypificationInfo: a.typificationInfo,
		WindowTransfers: a.windowTransfers, LabelValues: map[string][]string{},
	}
	for r, m := range l.Marks {
		h.Marks[string(r)] = m
	}
	for r, o := range l.Origins {
		h.Origins[string(r)] = o
	}
	for name, f := range a.counterFamilies() {
		for k, v := range f.values {
			h.Counters[name] = append(h.Counters[name], savedSeries{Labels: splitLabels(k), Value: v})
		}
		h.Overflow[name] = f.overflow
	}
	for name, f := range a.histogramFamilies() {
		for k, hist := range f.values {
			h.Histograms[name] = append(h.Histograms[name], savedHistogram{Labels: splitLabels(k), Count: hist.count, Sum: hist.sum, Counts: hist.counts})
		}
		h.Overflow["h:"+name] = f.overflow
	}
	for id, s := range a.agents {
		h.Agents[id] = savedAgent{Name: s.name, LastSeen: s.lastSeen}
	}
	for name, ll := range a.labelLimits() {
		for v := range ll.extra {
			h.LabelValues[name] = append(h.LabelValues[name], v)
		}
	}
	return h
}

// Encode streams the ledger to w, in the state file's format.
func (l *Ledger) Encode(w io.Writer, now time.Time) error {
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 64<<10)
	head, err := json.Marshal(l.header(now))
	if err != nil {
		return fmt.Errorf("encoding the state header: %w", err)
	}
	var scratch [binary.MaxVarintLen64]byte
	uvarint := func(v uint64) { bw.Write(binary.AppendUvarint(scratch[:0], v)) }
	u64 := func(v uint64) { bw.Write(binary.LittleEndian.AppendUint64(scratch[:0], v)) }
	bw.WriteString(stateMagic)
	uvarint(uint64(len(head)))
	bw.Write(head)
	uvarint(uint64(len(l.transfers.seen)))
	for k, e := range l.transfers.seen {
		u64(k)
		u64(uint64(e.at))
		bw.WriteByte(e.flags)
	}
	u32 := func(v uint32) { bw.Write(binary.LittleEndian.AppendUint32(scratch[:0], v)) }
	str := func(s string) {
		uvarint(uint64(len(s)))
		bw.WriteString(s)
	}
	pairs := l.agg.caseLabels.pairs
	uvarint(uint64(len(pairs)))
	for _, p := range pairs {
		str(p.channel)
		str(p.skill)
	}
	uvarint(uint64(len(l.cases.seen)))
	for k, e := range l.cases.seen {
		u64(k)
		u32(e.at)
		u32(e.created)
		u32(e.done)
		bw.WriteByte(e.flags)
		uvarint(uint64(e.labels))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// ErrNotState marks a file that is not a state file this version reads.
var ErrNotState = errors.New("not a wolkvox_exporter state file")

// Decode loads a state file's content into l, which must be new, and
// returns when it was saved. Nothing of a
// file that fails to load is kept: the caller starts from a fresh ledger.
func (l *Ledger) Decode(r io.Reader, now time.Time) (time.Time, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.Peek(1)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: empty", ErrNotState)
	}
	if first[0] == '{' {
		return l.readStateV1(br)
	}
	crc := crc32.NewIEEE()
	tr := &crcReader{r: br, crc: crc}
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || (string(magic) != stateMagic && string(magic) != stateMagicV2) {
		return time.Time{}, fmt.Errorf("%w: unknown kind or version", ErrNotState)
	}
	v2 := string(magic) == stateMagicV2
	short := func(err error) error { return fmt.Errorf("%w: cut short or corrupt: %v", ErrNotState, err) }
	n, err := binary.ReadUvarint(tr)
	if err != nil || n > maxStateHeader {
		return time.Time{}, short(err)
	}
	// Read as much as is there, not as much as the length says: a corrupt
	// length must not allocate its worth.
	head, err := io.ReadAll(io.LimitReader(tr, int64(n)))
	if err != nil || uint64(len(head)) != n {
		return time.Time{}, short(err)
	}
	var h stateHeader
	if err := json.Unmarshal(head, &h); err != nil {
		return time.Time{}, fmt.Errorf("%w: header: %v", ErrNotState, err)
	}
	if len(h.TransferSalt) != 16 || len(h.CaseSalt) != 16 {
		return time.Time{}, fmt.Errorf("%w: bad salt", ErrNotState)
	}
	// The header first: its label values fill the label limits, through
	// which the cases' labels then pass. A file that fails further on is
	// dropped whole, by the caller.
	if err := l.restore(&h); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrNotState, err)
	}
	var buf [8]byte
	u64 := func() (uint64, error) {
		_, err := io.ReadFull(tr, buf[:8])
		return binary.LittleEndian.Uint64(buf[:8]), err
	}
	// Entries dated after now come from a clock that was ahead: they are
	// taken as seen now, so they age out like the rest.
	clamp := func(at uint64) int64 { return min(int64(at), now.Unix()) }
	count, err := binary.ReadUvarint(tr)
	if err != nil || count > maxDedupeKeys*2 {
		return time.Time{}, short(err)
	}
	for range count {
		k, err1 := u64()
		at, err2 := u64()
		flags, err3 := tr.ReadByte()
		if err := errors.Join(err1, err2, err3); err != nil {
			return time.Time{}, short(err)
		}
		l.transfers.seen[k] = seenEntry{at: clamp(at), flags: flags}
	}
	if v2 {
		err = l.readCasesV2(tr, clamp)
	} else {
		err = l.readCases(tr, clamp)
	}
	if err != nil {
		return time.Time{}, short(err)
	}
	sum := crc.Sum32()
	var trailer [4]byte
	if _, err := io.ReadFull(tr, trailer[:]); err != nil {
		return time.Time{}, short(err)
	}
	if binary.LittleEndian.Uint32(trailer[:]) != sum {
		return time.Time{}, fmt.Errorf("%w: checksum mismatch", ErrNotState)
	}
	if _, err := tr.ReadByte(); err != io.EOF {
		return time.Time{}, fmt.Errorf("%w: data after the checksum", ErrNotState)
	}
	return h.SavedAt, nil
}

// readString reads a uvarint length and as many bytes, up to 64 KiB, of
// UTF-8: a label value that is not would make every scrape panic.
func readString(tr *crcReader) (string, error) {
	n, err := binary.ReadUvarint(tr)
	if err != nil || n > 1<<16 {
		return "", fmt.Errorf("string length: %v", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(tr, b); err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("a label value %q is not UTF-8", b)
	}
	return string(b), nil
}

// caseLabelsOf interns a case's labels from a state file, through the
// label limits as a read's would pass: a crafted file cannot make more
// series than a response could.
func (l *Ledger) caseLabelsOf(channel, skill string) uint16 {
	a := l.agg
	if channel == "" {
		channel, skill = noneLabel, noneLabel // relabelled at the next read
	}
	// "none" and "other" are the limits' own, and take no slot of theirs.
	bounded := func(ll *labelLimit, v string) string {
		if v == noneLabel || v == otherLabel {
			return v
		}
		return ll.value(v)
	}
	return a.caseLabels.intern(chatKey{bounded(a.channels, channel), bounded(a.skills, skill)})
}

// readCases reads version 3's case label pairs and cases.
func (l *Ledger) readCases(tr *crcReader, clamp func(uint64) int64) error {
	n, err := binary.ReadUvarint(tr)
	if err != nil || n > 1<<16 {
		return fmt.Errorf("label pairs: %v", err)
	}
	index := make([]uint16, n) // the file's pair i is the book's index[i]
	for i := range index {
		ch, err1 := readString(tr)
		skill, err2 := readString(tr)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		index[i] = l.caseLabelsOf(ch, skill)
	}
	count, err := binary.ReadUvarint(tr)
	if err != nil || count > maxDedupeKeys*2 {
		return fmt.Errorf("case count: %v", err)
	}
	var buf [20]byte
	for range count {
		if _, err := io.ReadFull(tr, buf[:]); err != nil {
			return err
		}
		flags, err1 := tr.ReadByte()
		pair, err2 := binary.ReadUvarint(tr)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if pair >= uint64(len(index)) {
			return fmt.Errorf("label pair %d of %d", pair, len(index))
		}
		at := uint64(binary.LittleEndian.Uint32(buf[8:]))
		l.cases.seen[binary.LittleEndian.Uint64(buf[:8])] = caseEntry{
			at: clampSeconds(clamp(at)), created: binary.LittleEndian.Uint32(buf[12:]), done: clampSeconds(clamp(uint64(binary.LittleEndian.Uint32(buf[16:])))),
			flags: flags, labels: index[pair],
		}
	}
	return nil
}

// readCasesV2 reads version 2's case label strings and cases.
func (l *Ledger) readCasesV2(tr *crcReader, clamp func(uint64) int64) error {
	nLabels, err := binary.ReadUvarint(tr)
	if err != nil || nLabels > 1<<20 {
		return fmt.Errorf("labels: %v", err)
	}
	labels := make([]string, nLabels)
	for i := range labels {
		if labels[i], err = readString(tr); err != nil {
			return err
		}
	}
	label := func() (string, error) {
		i, err := binary.ReadUvarint(tr)
		if err != nil || i >= uint64(len(labels)) {
			return "", fmt.Errorf("label index: %v", err)
		}
		return labels[i], nil
	}
	count, err := binary.ReadUvarint(tr)
	if err != nil || count > maxDedupeKeys*2 {
		return fmt.Errorf("case count: %v", err)
	}
	var buf [24]byte
	for range count {
		_, err1 := io.ReadFull(tr, buf[:])
		flags, err2 := tr.ReadByte()
		channel, err3 := label()
		skill, err4 := label()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return err
		}
		e := caseEntry{
			at: clampSeconds(clamp(binary.LittleEndian.Uint64(buf[8:]))), created: clampSeconds(int64(binary.LittleEndian.Uint64(buf[16:]))),
			flags: flags, labels: l.caseLabelsOf(channel, skill),
		}
		if channel != "" {
			e.flags |= seenLabelled // not one a version 1 file left without labels
		}
		if e.flags&(seenClosed|seenArchived) != 0 {
			e.done = e.at // not kept by version 2: as of its last read
		}
		l.cases.seen[binary.LittleEndian.Uint64(buf[:8])] = e
	}
	return nil
}

// restore applies a header's counters and marks.
func (l *Ledger) restore(h *stateHeader) error {
	a := l.agg
	copy(l.transfers.salt[:], h.TransferSalt)
	copy(l.cases.salt[:], h.CaseSalt)
	for r, m := range h.Marks {
		if !slices.Contains(wolkvox.Reports, wolkvox.Report(r)) {
			return fmt.Errorf("unknown report %q", r)
		}
		l.Marks[wolkvox.Report(r)] = m
	}
	l.RevisitCursor, l.Filter, l.Backfilled, l.Follow = h.RevisitCursor, h.Filter, h.Backfilled, h.Follow
	// A budget out of any range the exporter writes (a hand-edited file)
	// would stop following for good, or pay for it unbudgeted.
	if a := l.Follow.Allowance; math.IsNaN(a) || a > MaxFollowBank || a < -float64(max(l.follow.CallsPerDay, 1)) {
		l.Follow.Allowance = 0
	}
	if d := l.Follow.Density; math.IsNaN(d) || d < 0 || d > wolkvox.DefaultMaxRecords {
		l.Follow.Density = 0 // a second cannot hold more than a response
	}
	for r, o := range h.Origins {
		l.Origins[wolkvox.Report(r)] = o
	}
	for k, v := range h.Poisoned {
		l.Poisoned[k] = v
	}
	for name, ll := range a.labelLimits() {
		for _, v := range h.LabelValues[name] {
			ll.value(v)
		}
	}
	counters, histograms, arity := a.counterFamilies(), a.histogramFamilies(), familyArity()
	for name, series := range h.Counters {
		f := counters[name]
		if f == nil {
			// A family a later version added: this one does not serve it,
			// and a rollback keeps every counter it knows.
			continue
		}
		for _, s := range series {
			if s.Value < 0 {
				return fmt.Errorf("counter %q is negative", name)
			}
			if name == "chats_closed" && len(s.Labels) == 2 {
				// Saved before closes were told apart by closed_by: who
				// closed them is not known, and they stay counted so.
				s.Labels = append(s.Labels, closedByUnknown)
			}
			if want := arity[name]; len(s.Labels) != want {
				return fmt.Errorf("counter %q has %d labels, this version %d", name, len(s.Labels), want)
			}
			f.values[joinLabels(s.Labels)] = s.Value
		}
		f.overflow = h.Overflow[name]
	}
	for name, series := range h.Histograms {
		f := histograms[name]
		if f == nil {
			continue // a histogram a later version added; see above
		}
		for _, s := range series {
			if want := arity["h:"+name]; len(s.Labels) != want {
				return fmt.Errorf("histogram %q has %d labels, this version %d", name, len(s.Labels), want)
			}
			if len(s.Counts) != len(f.bounds) {
				return fmt.Errorf("histogram %q has %d buckets, want %d", name, len(s.Counts), len(f.bounds))
			}
			hist := newHistogram(f.bounds)
			hist.count, hist.sum = s.Count, s.Sum
			copy(hist.counts, s.Counts)
			f.values[joinLabels(s.Labels)] = hist
		}
		f.overflow = h.Overflow["h:"+name]
	}
	for id, s := range h.Agents {
		a.agents[id] = agentSeen{name: s.Name, lastSeen: s.LastSeen}
	}
	for k, v := range h.AgentChatSeen {
		a.agentChatSeen[k] = v
	}
	for k, v := range h.TypificationInfo {
		a.typificationInfo[k] = v
	}
	for k, v := range h.WindowTransfers {
		a.windowTransfers[k] = v
	}
	return nil
}

// readStateV1 loads a version 1 file: marks and keys, no counters, which
// start from 0 as they did when it was written.
func (l *Ledger) readStateV1(r io.Reader) (time.Time, error) {
	var st struct {
		Kind    string    `json:"kind"`
		Version int       `json:"version"`
		SavedAt time.Time `json:"saved_at"`
		Reports map[string]struct {
			Mark time.Time `json:"mark"`
			Salt string    `json:"salt"`
			Keys string    `json:"keys"`
		} `json:"reports"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxStateHeader)).Decode(&st); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrNotState, err)
	}
	if st.Kind != "wolkvox_exporter state" || st.Version != 1 {
		return time.Time{}, fmt.Errorf("%w: kind %q, version %d", ErrNotState, st.Kind, st.Version)
	}
	const packed = 17 // 8 bytes of hash, 8 of Unix time, 1 of flags
	for name, rs := range st.Reports {
		salt, err1 := base64.StdEncoding.DecodeString(rs.Salt)
		keys, err2 := base64.StdEncoding.DecodeString(rs.Keys)
		if err1 != nil || err2 != nil || len(salt) != 16 || len(keys)%packed != 0 || rs.Mark.IsZero() {
			return time.Time{}, fmt.Errorf("%w: report %q is malformed", ErrNotState, name)
		}
		switch wolkvox.Report(name) {
		case wolkvox.ReportTransfers:
			copy(l.transfers.salt[:], salt)
			for i := 0; i < len(keys); i += packed {
				l.transfers.seen[binary.LittleEndian.Uint64(keys[i:])] = seenEntry{at: int64(binary.LittleEndian.Uint64(keys[i+8:])), flags: keys[i+16]}
			}
		case wolkvox.ReportInteractions:
			copy(l.cases.salt[:], salt)
			for i := 0; i < len(keys); i += packed {
				// Version 1's flag bits are version 2's first four.
				l.cases.seen[binary.LittleEndian.Uint64(keys[i:])] = caseEntry{at: clampSeconds(int64(binary.LittleEndian.Uint64(keys[i+8:]))), flags: keys[i+16]}
			}
		default:
			return time.Time{}, fmt.Errorf("%w: unknown report %q", ErrNotState, name)
		}
		l.Marks[wolkvox.Report(name)] = rs.Mark
	}
	// Version 1 kept no origins: nothing before its marks is re-read.
	for r, m := range l.Marks {
		l.Origins[r] = m
	}
	return st.SavedAt, nil
}

// crcReader sums the bytes its caller consumes (a TeeReader under a
// bufio.Reader would sum what the buffer read ahead, the checksum too).
type crcReader struct {
	r   *bufio.Reader
	crc hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.crc.Write([]byte{b})
	}
	return b, err
}
