// Package blocks writes a backfill's samples as Prometheus TSDB blocks.
//
// It builds each block from the tsdb's own file writers (the chunk
// encoder, the chunk and index writers, the tombstones file), as the
// compactor does when it writes a block, rather than through tsdb's
// BlockWriter: that one holds the samples in a full head, and its package
// brings Prometheus's configuration and with it the service-discovery,
// cloud and Kubernetes clients into the exporter. The samples are
// compressed as they arrive, so memory holds one block's chunks (about
// 1.5 bytes a sample), never the text of an exposition.
package blocks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/fileutil"
	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/prometheus/prometheus/tsdb/tombstones"
)

// samplesPerChunk is where a chunk is cut, as Prometheus's head cuts them.
const samplesPerChunk = 120

// Writer is a backfill's block sink (collector.BlockSink): it writes each flushed block into a
// directory.
type Writer struct {
	dir    string
	now    func() time.Time // for the blocks' ids
	series []*series        // by reference - 1, for the block being built
	lb     labels.ScratchBuilder
	blocks []string
}

// series is one series of the block being built.
type series struct {
	labels labels.Labels
	chunks []chunks.Meta
	app    chunkenc.Appender
	n      int // samples in the last chunk
}

// Label is one label of a series.
type Label struct{ Name, Value string }

// SegmentSize is the most a block's chunk file preallocates.
const SegmentSize = 16 << 20

// NewWriter returns a writer of blocks into dir, which must exist.
func NewWriter(dir string) *Writer {
	return &Writer{dir: dir, now: time.Now, lb: labels.NewScratchBuilder(16)}
}

// Append adds a sample to the block being built. A series' samples must
// come in time order.
func (w *Writer) Append(ref uint64, lbls []Label, t int64, v float64) (uint64, error) {
	if ref == 0 || ref > uint64(len(w.series)) {
		w.lb.Reset()
		for _, l := range lbls {
			w.lb.Add(l.Name, l.Value)
		}
		w.lb.Sort()
		w.series = append(w.series, &series{labels: w.lb.Labels()})
		ref = uint64(len(w.series))
	}
	s := w.series[ref-1]
	if last := len(s.chunks) - 1; last >= 0 && t <= s.chunks[last].MaxTime {
		return 0, fmt.Errorf("sample of %s at %d is not after the last one, at %d", s.labels, t, s.chunks[last].MaxTime)
	}
	if s.app == nil || s.n == samplesPerChunk {
		c := chunkenc.NewXORChunk()
		app, err := c.Appender()
		if err != nil {
			return 0, err
		}
		s.chunks = append(s.chunks, chunks.Meta{Chunk: c, MinTime: t})
		s.app, s.n = app, 0
	}
	s.app.Append(0, t, v)
	s.n++
	s.chunks[len(s.chunks)-1].MaxTime = t
	return ref, nil
}

// Flush writes the samples appended since the last Flush as one block,
// whole or not at all.
func (w *Writer) Flush(ctx context.Context) error {
	all := w.series
	w.series = nil
	if len(all) == 0 {
		return nil
	}
	id, err := w.write(ctx, all)
	if err != nil {
		return fmt.Errorf("write a block: %w", err)
	}
	w.blocks = append(w.blocks, id.String())
	return nil
}

// Blocks returns the names of the block directories written so far.
func (w *Writer) Blocks() []string { return w.blocks }

func (w *Writer) write(ctx context.Context, all []*series) (ulid.ULID, error) {
	slices.SortFunc(all, func(a, b *series) int { return labels.Compare(a.labels, b.labels) })
	meta := blockMeta{MinTime: all[0].chunks[0].MinTime, Version: 1}
	meta.MaxTime = meta.MinTime
	var symbols []string
	for i, s := range all {
		if i > 0 && labels.Equal(s.labels, all[i-1].labels) {
			return ulid.ULID{}, fmt.Errorf("series %s written twice", s.labels)
		}
		s.labels.Range(func(l labels.Label) { symbols = append(symbols, l.Name, l.Value) })
		meta.MinTime = min(meta.MinTime, s.chunks[0].MinTime)
		meta.MaxTime = max(meta.MaxTime, s.chunks[len(s.chunks)-1].MaxTime)
		meta.Stats.NumSeries++
		meta.Stats.NumChunks += uint64(len(s.chunks))
		for _, c := range s.chunks {
			meta.Stats.NumSamples += uint64(c.Chunk.NumSamples())
		}
	}
	meta.MaxTime++ // a block is [MinTime, MaxTime)
	slices.Sort(symbols)
	symbols = slices.Compact(symbols)

	id, err := ulid.New(ulid.Timestamp(w.now()), rand.Reader)
	if err != nil {
		return id, err
	}
	meta.ULID = id
	meta.Compaction.Level = 1
	meta.Compaction.Sources = []ulid.ULID{id}

	dir := filepath.Join(w.dir, id.String())
	tmp := dir + ".tmp-for-creation" // as Prometheus names a block in the making; it deletes such directories at start
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		return id, err
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()

	// Prometheus's default 512 MB segment is preallocated on disk: a
	// backfill into a file system with less free failed, though a block of
	// a large operation's two hours holds a few MB. A segment past this
	// size is cut into another file, as Prometheus does.
	cw, err := chunks.NewWriter(filepath.Join(tmp, "chunks"), chunks.WithSegmentSize(SegmentSize))
	if err != nil {
		return id, err
	}
	for _, s := range all {
		if err := cw.WriteChunks(s.chunks...); err != nil {
			return id, errors.Join(err, cw.Close())
		}
	}
	if err := cw.Close(); err != nil {
		return id, err
	}
	iw, err := index.NewWriter(ctx, filepath.Join(tmp, "index"))
	if err != nil {
		return id, err
	}
	err = func() error {
		for _, sym := range symbols {
			if err := iw.AddSymbol(sym); err != nil {
				return err
			}
		}
		for i, s := range all {
			if err := iw.AddSeries(storage.SeriesRef(i), s.labels, s.chunks...); err != nil {
				return err
			}
		}
		return nil
	}()
	if err = errors.Join(err, iw.Close()); err != nil {
		return id, err
	}
	if _, err := tombstones.WriteFile(slog.New(slog.DiscardHandler), tmp, tombstones.NewMemTombstones()); err != nil {
		return id, err
	}
	if err := writeMeta(tmp, &meta); err != nil {
		return id, err
	}
	if err := syncDir(tmp); err != nil {
		return id, err
	}
	if err := fileutil.Replace(tmp, dir); err != nil {
		return id, err
	}
	done = true
	return id, nil
}

// blockMeta is a block's meta.json, version 1, as Prometheus reads it.
type blockMeta struct {
	ULID    ulid.ULID `json:"ulid"`
	MinTime int64     `json:"minTime"`
	MaxTime int64     `json:"maxTime"`
	Stats   struct {
		NumSamples uint64 `json:"numSamples,omitempty"`
		NumSeries  uint64 `json:"numSeries,omitempty"`
		NumChunks  uint64 `json:"numChunks,omitempty"`
	} `json:"stats"`
	Compaction struct {
		Level   int         `json:"level"`
		Sources []ulid.ULID `json:"sources,omitempty"`
	} `json:"compaction"`
	Version int `json:"version"`
}

func writeMeta(dir string, meta *blockMeta) error {
	b, err := json.MarshalIndent(meta, "", "\t")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "meta.json"))
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}

func syncDir(dir string) error {
	df, err := fileutil.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(df.Sync(), df.Close())
}
