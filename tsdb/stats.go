package tsdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// Stats are the store's figures for the status page: its files, series,
// samples and the time they span. DB.Stats gathers them.
//
// The store keeps no running count of the samples it holds, so Stats
// counts them from the chunk headers (chunkenc.Count reads a few bytes of
// each chunk). A flush bucket is written once, so its figures are
// remembered once counted, by file, bucket and flush meta checksum; each
// call counts at most statsChunkBudget chunks of buckets it has not seen
// before (the newest days first), and Flushes and FlushesCounted say how
// far it got; EstimatedSamples extrapolates to the rest from the chunks
// each uncounted bucket holds (one per series) and the time it spans. A large store is counted
// over a few calls; later calls count only new flushes.
type Stats struct {
	Dir string // the data directory

	// Days are the day files, newest first.
	Days []DayStats
	// DayBytes, IndexBytes and WALBytes are the bytes of the day files,
	// index.db and the WAL directory; TotalBytes is every file under Dir
	// (damaged files set aside included).
	DayBytes, IndexBytes, WALBytes, TotalBytes int64
	// WALSegments is the number of WAL segment files.
	WALSegments int

	// Series is the number of series the index knows (never reused or
	// forgotten: series whose samples left with retention still count).
	Series int
	// HeadSeries is the number of series with samples in memory (an open
	// epoch).
	HeadSeries int
	// HeadSamples is the number of samples in memory, flushes pending
	// included; HeadBytes is the memory their chunks hold.
	HeadSamples int64
	HeadBytes   int64
	// IndexMemory estimates the memory of the series index and postings.
	IndexMemory int64

	// Flushes is the number of flush buckets in the day files and
	// FlushesCounted how many of them Samples and ChunkBytes cover.
	Flushes, FlushesCounted int
	// Samples, Chunks and ChunkBytes are the samples, the chunks and their
	// bytes (with their checksums) in the counted flush buckets.
	Samples, ChunkBytes int64
	Chunks              int64
	// UncountedChunks is the number of chunks of the buckets not counted
	// yet (from their flush metas).
	UncountedChunks int64
	// countedMs and uncountedMs are the chunks of the counted and the
	// uncounted buckets times the milliseconds each bucket spans, for
	// EstimatedSamples.
	countedMs, uncountedMs float64

	// MinTime and MaxTime are the oldest and newest sample held; zero
	// when the store is empty.
	MinTime, MaxTime time.Time

	// Damaged lists the files found damaged (DB.Damaged) and
	// CorruptChunks the chunks reads left out (DB.CorruptChunks).
	Damaged       []DamagedFile
	CorruptChunks uint64
	// Health is what fails, from DB.Health; empty when all is well.
	Health string

	// Cardinality is the top metric and label names (DB.Cardinality).
	Cardinality Cardinality
}

// DayStats are the figures of one day file.
type DayStats struct {
	Day   time.Time // the UTC day
	Path  string
	Bytes int64 // file size
	// Sealed is set when the day is old enough for its file to be opened
	// read-only: no more flushes are expected into it.
	Sealed bool
	// Damage is the reason the file was found damaged (then salvaged or
	// waiting to be), empty when it never was.
	Damage string
	// Flushes is the number of flush buckets, FlushesCounted how many
	// Samples and ChunkBytes cover.
	Flushes, FlushesCounted int
	// Series is the number of series with samples in the file.
	Series              int
	Samples, ChunkBytes int64
	MinTime, MaxTime    time.Time

	chunks, uncounted      int64   // chunks counted and not yet, for Stats
	countedMs, uncountedMs float64 // for Stats.EstimatedSamples
}

// BytesPerSample is the bytes of chunks per sample in the counted flush
// buckets (the compression the encodings achieve), or 0 with none.
func (s Stats) BytesPerSample() float64 {
	if s.Samples == 0 {
		return 0
	}
	return float64(s.ChunkBytes) / float64(s.Samples)
}

// EstimatedSamples is the samples in the day files: those counted, plus,
// for the buckets not counted yet, their chunks times their span times
// the samples per chunk and millisecond counted so far (so an hour and a
// part of an hour weigh what they span). Exact once every bucket is
// counted.
func (s Stats) EstimatedSamples() int64 {
	if s.uncountedMs == 0 || s.countedMs == 0 {
		return s.Samples
	}
	return s.Samples + int64(float64(s.Samples)*s.uncountedMs/s.countedMs)
}

// DiskBytesPerSample is the bytes of the day files per sample they hold
// (bbolt's pages, the flush metas and the labels included), from
// EstimatedSamples, or 0 with none.
func (s Stats) DiskBytesPerSample() float64 {
	n := s.EstimatedSamples()
	if n == 0 {
		return 0
	}
	return float64(s.DayBytes) / float64(n)
}

// statsChunkBudget bounds the chunks one Stats call counts, so a first
// look at a large store costs a fraction of a second; later calls go on
// where it stopped.
const statsChunkBudget = 1 << 18

// statsTop is how many metric and label names Stats reports.
const statsTop = 10

// Stats gathers the store's figures. It reads the directory, the head and
// the flush metas of every day file, and counts the samples of flush
// buckets not counted before, within a budget (see Stats) and until ctx is
// done. It returns what it could gather with the errors of the files it
// could not read.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	return db.gatherStats(ctx, statsChunkBudget)
}

// gatherStats is Stats counting at most budget chunks.
func (db *DB) gatherStats(ctx context.Context, budget int) (Stats, error) {
	st := Stats{Dir: db.cfg.Path, Series: db.NumSeries(), Damaged: db.Damaged(), CorruptChunks: db.CorruptChunks(),
		IndexMemory: db.ix.sizeBytes(), Cardinality: db.Cardinality(statsTop)}
	if err := db.Health(); err != nil {
		st.Health = err.Error()
	}
	var errs []error
	sizes, err := db.fileSizes(&st)
	if err != nil {
		errs = append(errs, err)
	}
	db.headStats(&st)
	errs = append(errs, db.dayStats(ctx, &st, sizes, budget))
	return st, errors.Join(errs...)
}

// fileSizes fills the byte counts of st and returns the size of each
// file under the data directory, by path.
func (db *DB) fileSizes(st *Stats) (map[string]int64, error) {
	sizes := make(map[string]int64)
	walDir := filepath.Join(db.cfg.Path, "wal")
	err := filepath.WalkDir(db.cfg.Path, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // a file removed while walking, or a directory
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		n := fi.Size()
		sizes[path] = n
		st.TotalBytes += n
		switch {
		case filepath.Dir(path) == walDir:
			st.WALBytes += n
			if strings.HasSuffix(path, ".seg") {
				st.WALSegments++
			}
		case path == filepath.Join(db.cfg.Path, "index.db"):
			st.IndexBytes = n
		}
		return nil
	})
	if err != nil {
		return sizes, fmt.Errorf("read sizes of the files in %q: %w", db.cfg.Path, err)
	}
	return sizes, nil
}

// headStats fills the head's figures of st and widens its time span.
func (db *DB) headStats(st *Stats) {
	st.HeadBytes = db.head.bytes.Load()
	hs := db.HeadStats()
	st.HeadSeries, st.HeadSamples = hs.Series, hs.Samples
	if hs.Chunks > 0 {
		widen(st, hs.MinTime, hs.MaxTime)
	}
}

// widen extends st's time span to [mint, maxt] when that is not empty.
func widen(st *Stats, mint, maxt int64) {
	if mint > maxt {
		return
	}
	if st.MinTime.IsZero() || mint < st.MinTime.UnixMilli() {
		st.MinTime = time.UnixMilli(mint).UTC()
	}
	if st.MaxTime.IsZero() || maxt > st.MaxTime.UnixMilli() {
		st.MaxTime = time.UnixMilli(maxt).UTC()
	}
}
