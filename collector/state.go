package collector

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-kit/log/level"

	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// The state file lets a restart resume where the last poll ended, without
// a gap and without counting a record twice. It holds, per report, the
// window high-water mark and the salted de-duplication keys, never a
// record's content. Counters are not kept: they restart from 0, as any
// Prometheus counter does after a restart.
const stateKind = "wolkvox_exporter state"

const stateVersion = 1

type stateFile struct {
	Kind    string                 `json:"kind"`
	Version int                    `json:"version"`
	SavedAt time.Time              `json:"saved_at"`
	Reports map[string]savedReport `json:"reports"`
}

type savedReport struct {
	Mark time.Time `json:"mark"`
	Salt string    `json:"salt"` // base64
	// Keys packs each key as 8 bytes of hash, 8 of Unix time, 1 of flags.
	Keys string `json:"keys"` // base64
}

const packedKeySize = 17

// checkStatePath fails when the state file's directory is not writable, so
// a bad path stops the exporter at start rather than at the first save.
func checkStatePath(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wolkvox-state-check-*")
	if err != nil {
		return fmt.Errorf("state file %s is not writable: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (p *Poller) loadState() error {
	path := p.cfg.StateFile
	if err := checkStatePath(path); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		level.Info(p.logger).Log("msg", "no state file yet; starting fresh", "file", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state file: %w", err)
	}
	st, err := decodeState(data)
	if err != nil {
		aside := path + ".corrupt"
		if rerr := os.Rename(path, aside); rerr != nil {
			return fmt.Errorf("state file %s is unusable (%v) and could not be moved aside: %w", path, err, rerr)
		}
		level.Error(p.logger).Log("msg", "state file is unusable; moved aside, starting fresh", "file", path, "moved_to", aside, "err", err)
		return nil
	}
	for _, report := range wolkvox.Reports {
		rs, ok := st.Reports[string(report)]
		if !ok {
			continue
		}
		d := p.dedupe[report]
		salt, _ := base64.StdEncoding.DecodeString(rs.Salt) // validated by decodeState
		copy(d.salt[:], salt)
		keys, _ := base64.StdEncoding.DecodeString(rs.Keys)
		for i := 0; i+packedKeySize <= len(keys); i += packedKeySize {
			k := binary.LittleEndian.Uint64(keys[i:])
			d.seen[k] = seenEntry{at: int64(binary.LittleEndian.Uint64(keys[i+8:])), flags: keys[i+16]}
		}
		p.agg.reports[report].mark = rs.Mark
	}
	level.Info(p.logger).Log("msg", "resuming from state file", "file", path, "saved_at", st.SavedAt)
	return nil
}

func decodeState(data []byte) (*stateFile, error) {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("not a state file: %w", err)
	}
	if st.Kind != stateKind || st.Version != stateVersion {
		return nil, fmt.Errorf("foreign state file (kind %q, version %d)", st.Kind, st.Version)
	}
	for name, rs := range st.Reports {
		salt, err := base64.StdEncoding.DecodeString(rs.Salt)
		if err != nil || len(salt) != 16 {
			return nil, fmt.Errorf("report %q: bad salt", name)
		}
		keys, err := base64.StdEncoding.DecodeString(rs.Keys)
		if err != nil || len(keys)%packedKeySize != 0 {
			return nil, fmt.Errorf("report %q: bad keys", name)
		}
		if rs.Mark.IsZero() {
			return nil, fmt.Errorf("report %q: no window mark", name)
		}
	}
	return &st, nil
}

// saveState writes the state atomically: a temporary file in the same
// directory, synced, then renamed over the old one. A crash at any point
// leaves either the old file or the new one, never a mix.
func (p *Poller) saveState() error {
	st := stateFile{Kind: stateKind, Version: stateVersion, SavedAt: p.cfg.Clock.Now().UTC(), Reports: map[string]savedReport{}}
	for _, report := range wolkvox.Reports {
		rs, d := p.agg.reports[report], p.dedupe[report]
		if rs.mark.IsZero() {
			continue
		}
		keys := make([]byte, 0, len(d.seen)*packedKeySize)
		for k, e := range d.seen {
			keys = binary.LittleEndian.AppendUint64(keys, k)
			keys = binary.LittleEndian.AppendUint64(keys, uint64(e.at))
			keys = append(keys, e.flags)
		}
		st.Reports[string(report)] = savedReport{
			Mark: rs.mark,
			Salt: base64.StdEncoding.EncodeToString(d.salt[:]),
			Keys: base64.StdEncoding.EncodeToString(keys),
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeFileAtomic(p.cfg.StateFile, data)
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this fails harmlessly
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a power loss.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
