package tsdb

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// counters are the store's running totals since Open, for WriteMetrics.
// Each is atomic; they are added to where the work is done.
type counters struct {
	flushes, flushFailures atomic.Int64 // flush jobs written, and those that failed
	flushNanos             atomic.Int64 // time writing flush jobs
	flushBytes             atomic.Int64 // encoded chunk bytes written by flushes
	flushSeries            atomic.Int64 // chunks (one per series) written by flushes
	seriesCreated          atomic.Int64 // series created (not replayed)
	selects                atomic.Int64 // SelectWith calls

	// Compactions of day files (compact.go).
	compactions, compactFailures atomic.Int64 // day files rewritten, and rewrites that failed
	compactNanos                 atomic.Int64 // time compacting
	compactBucketsIn             atomic.Int64 // flush buckets merged
	compactWritten               atomic.Int64 // bytes of the rewritten files
	compactReclaimed             atomic.Int64 // bytes the rewrites gave back (old size - new size)
	compactSamplesDropped        atomic.Int64 // deleted samples left out
	tombstonesDropped            atomic.Int64 // tombstones dropped once their data was gone
}

// metricsChunkBudget bounds the chunks one WriteMetrics call counts for
// the bytes-per-sample figures (Stats counts incrementally, remembering
// what it counted), so a scrape of a large store stays cheap.
const metricsChunkBudget = 1 << 14

// WriteMetrics writes the store's figures in the Prometheus text format
// for GET /metrics: the WAL (fsyncs, bytes, group-commit size), flushes
// (count, time, bytes), series (in the index, active in the head,
// created), the bytes of each day file, bytes per sample, the head, and
// damage. It reads the directory and the day files' flush metas (see
// Stats) and returns the first write error, or the error of a figure it
// could not gather, after writing all the others.
func (db *DB) WriteMetrics(ctx context.Context, w io.Writer) error {
	st := Stats{Series: db.NumSeries()}
	sizes, serr := db.fileSizes(&st)
	db.headStats(&st)
	derr := db.dayStats(ctx, &st, sizes, metricsChunkBudget)
	tw := NewTextWriter(w)
	db.writeWALMetrics(tw, &st)
	db.writeFlushMetrics(tw)
	db.writeCompactMetrics(tw)
	writeSeriesMetrics(tw, db, &st)
	writeDiskMetrics(tw, db, &st)
	if err := tw.Flush(); err != nil {
		return err
	}
	return errors.Join(serr, derr)
}

// writeWALMetrics writes the WAL's figures.
func (db *DB) writeWALMetrics(tw *TextWriter, st *Stats) {
	c := db.wal.Counters()
	tw.One("outpost_wal_fsyncs_total", "counter", "WAL fdatasyncs (one per group commit).", float64(c.Syncs))
	tw.One("outpost_wal_written_bytes_total", "counter", "Bytes appended to WAL segments.", float64(c.Bytes))
	tw.Family("outpost_wal_group_size_writes", "summary",
		"Writes made durable per WAL fdatasync (group commit): _sum writes over _count fsyncs.")
	tw.Sample("outpost_wal_group_size_writes_sum", float64(c.Calls))
	tw.Sample("outpost_wal_group_size_writes_count", float64(c.Syncs))
	tw.One("outpost_wal_segments", "gauge", "WAL segment files on disk.", float64(st.WALSegments))
	tw.One("outpost_wal_size_bytes", "gauge", "Bytes of the WAL directory.", float64(st.WALBytes))
	up := 1.0
	if db.wal.Err() != nil {
		up = 0
	}
	tw.One("outpost_wal_appendable", "gauge", "1 while the WAL accepts writes, 0 while it cannot (a full or failing disk).", up)
}

// writeFlushMetrics writes the flushes' running totals.
func (db *DB) writeFlushMetrics(tw *TextWriter) {
	c := &db.ctr
	tw.One("outpost_tsdb_flushes_total", "counter", "Epochs written from the head to day files (flush jobs).", float64(c.flushes.Load()))
	tw.One("outpost_tsdb_flush_failures_total", "counter", "Flush jobs that failed (retried by the next flush).", float64(c.flushFailures.Load()))
	tw.One("outpost_tsdb_flush_duration_seconds_total", "counter", "Time spent writing flush jobs to day files.",
		time.Duration(c.flushNanos.Load()).Seconds())
	tw.One("outpost_tsdb_flushed_bytes_total", "counter", "Encoded chunk bytes written to day files by flushes.", float64(c.flushBytes.Load()))
	tw.One("outpost_tsdb_flushed_chunks_total", "counter", "Chunks (one per series and epoch) written to day files by flushes.", float64(c.flushSeries.Load()))
	tw.One("outpost_tsdb_selects_total", "counter", "Series selections run against the store (queries, exports, rules).", float64(c.selects.Load()))
}

// writeCompactMetrics writes the compactions' running totals and the
// tombstones still held.
func (db *DB) writeCompactMetrics(tw *TextWriter) {
	c := &db.ctr
	tw.One("outpost_tsdb_compactions_total", "counter", "Day files rewritten by compaction (flush buckets merged, deleted data dropped).", float64(c.compactions.Load()))
	tw.One("outpost_tsdb_compaction_failures_total", "counter", "Compactions that failed (the old day file kept; retried later).", float64(c.compactFailures.Load()))
	tw.One("outpost_tsdb_compaction_duration_seconds_total", "counter", "Time spent compacting day files.",
		time.Duration(c.compactNanos.Load()).Seconds())
	tw.One("outpost_tsdb_compaction_merged_buckets_total", "counter", "Flush buckets merged by compactions (one per epoch is left).", float64(c.compactBucketsIn.Load()))
	tw.One("outpost_tsdb_compaction_written_bytes_total", "counter", "Bytes of the day files compactions wrote.", float64(c.compactWritten.Load()))
	tw.One("outpost_tsdb_compaction_reclaimed_bytes_total", "counter", "Disk bytes compactions gave back (old day file size minus new).", float64(c.compactReclaimed.Load()))
	tw.One("outpost_tsdb_compaction_deleted_samples_total", "counter", "Deleted samples compactions removed from day files.", float64(c.compactSamplesDropped.Load()))
	tw.One("outpost_tsdb_tombstones", "gauge", "Deletes (tombstones) still applied at read time.", float64(db.Tombstones()))
	tw.One("outpost_tsdb_tombstones_dropped_total", "counter", "Tombstones dropped once their data was gone from every file.", float64(c.tombstonesDropped.Load()))
}

// writeSeriesMetrics writes the series and head figures.
func writeSeriesMetrics(tw *TextWriter, db *DB, st *Stats) {
	tw.One("outpost_tsdb_series", "gauge", "Series in the index (never forgotten: those past retention count).", float64(st.Series))
	tw.One("outpost_tsdb_series_active", "gauge", "Series with samples in the in-memory head (an open epoch).", float64(st.HeadSeries))
	tw.One("outpost_tsdb_series_created_total", "counter", "Series created since start (replayed ones not counted).", float64(db.ctr.seriesCreated.Load()))
	tw.One("outpost_tsdb_series_limit", "gauge", "storage.max_series (0: no limit).", float64(db.cfg.MaxSeries))
	tw.One("outpost_tsdb_head_samples", "gauge", "Samples in memory, flushes pending included.", float64(st.HeadSamples))
	tw.One("outpost_tsdb_head_chunks_bytes", "gauge", "Memory held by the head's chunks.", float64(st.HeadBytes))
	tw.One("outpost_tsdb_index_memory_bytes", "gauge", "Estimated memory of the series index and postings.", float64(db.ix.sizeBytes()))
}

// writeDiskMetrics writes the files' figures.
func writeDiskMetrics(tw *TextWriter, db *DB, st *Stats) {
	tw.Family("outpost_tsdb_day_file_bytes", "gauge", "Size of each day file (parts/YYYYMMDD.db), by UTC day.")
	for _, d := range st.Days {
		tw.Sample("outpost_tsdb_day_file_bytes", float64(d.Bytes), "day", d.Day.Format(time.DateOnly))
	}
	tw.One("outpost_tsdb_day_files", "gauge", "Day files in the store.", float64(len(st.Days)))
	tw.One("outpost_tsdb_disk_bytes", "gauge", "Bytes of every file under the data directory.", float64(st.TotalBytes))
	tw.One("outpost_tsdb_index_bytes", "gauge", "Size of index.db.", float64(st.IndexBytes))
	tw.One("outpost_tsdb_samples_flushed", "gauge", "Samples in the day files (estimated until every flush is counted).", float64(st.EstimatedSamples()))
	tw.One("outpost_tsdb_chunk_bytes_per_sample", "gauge", "Encoded chunk bytes per sample in the counted flushes (0 with none).", st.BytesPerSample())
	tw.One("outpost_tsdb_disk_bytes_per_sample", "gauge", "Day-file bytes per sample, bbolt pages and labels included (0 with none).", st.DiskBytesPerSample())
	tw.One("outpost_tsdb_damaged_files", "gauge", "Files of the store found damaged and set aside or rebuilt (see GET /health).", float64(len(db.Damaged())))
	tw.One("outpost_tsdb_corrupt_chunks_total", "counter", "Day-file chunks whose checksum failed on read (left out of answers).", float64(db.CorruptChunks()))
}
