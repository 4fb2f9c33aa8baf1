// Package tsdb is outpost's embedded time-series store: the series index,
// the write-ahead log, the in-memory head, day partitions on bbolt, and
// retention. It imports nothing else of outpost's.
//
// # Basics
//
// A sample is (series, timestamp in milliseconds, float64). A series is a
// metric name plus labels (Labels, sorted by name, __name__ included).
// Write stores points; once it returns nil they are in a fdatasync'd WAL
// record and visible to Select. Select, LabelNames, LabelValues and Series
// read by label Matchers over a time range.
//
// # Write path
//
//	Write ─► index.getOrCreate (series ID) ─► WAL record (group commit, fdatasync) ─► head append
//
// A point may carry a Key (the raw series key of its protocol): a cache of
// Key -> series ID then finds a known series with one hash instead of
// hashing and comparing every label.
//
// The WAL (package wal) carries series definitions and sample batches. A
// series' definition is logged before or with its first samples. The head
// keeps, per series, one Gorilla chunk (package chunkenc) per open epoch
// (one UTC hour) plus a small buffer of late samples, which win over the
// chunk on equal timestamps: the last write wins.
//
// # Files
//
//	<path>/LOCK                 flock: one process per directory
//	<path>/index.db             bbolt, append-only: symbols, series ID -> labels
//	<path>/wal/NNNNNNNN.seg     WAL segments (64 MiB)
//	<path>/parts/YYYYMMDD.db    bbolt, one per UTC day: sealed chunks
//
// A day file holds one top-level bucket per flush of an epoch:
//
//	bucket  epochStart(8, sign-flipped big-endian) | seq(2)
//	  key   metricID(4) | seriesID(4)       -> chunk (chunkenc.Encode: the smallest encoding)
//	  key   ff ff ff ff ff ff ff ff 00      -> flush meta: covered WAL segment, mint, maxt, series bitmap
//
// Buckets are written once, keys in ascending order, FillPercent 1.0, in
// transactions of at most 64 MiB, the meta key last: every bbolt write is
// an append. A bucket without meta is a flush that crashed; it is dropped
// on open and its samples come back from the WAL. Late samples for an
// epoch already flushed become a new bucket with the next seq; readers
// merge an epoch's buckets, higher seq winning. The metricID (the symbol
// ID of the metric name) leads the key so one metric's chunks are adjacent.
//
// # Sealing and flushing
//
// An epoch is sealed when its hour plus storage.epoch_grace has passed and
// it has had no write for a minute (so a sender trickling a backlog in does not cut it into many small flushes), or earlier when the head exceeds
// storage.head_max_bytes. Sealing cuts the WAL (under an exclusive lock
// that waits for writes in flight, so every record before the cut is in
// the head), detaches the epoch's chunks (still readable as a flush job),
// encodes each with the smallest encoding and writes them to the day file.
// The flush meta records the last WAL segment it covers; replay skips
// samples of that epoch from segments up to it, so re-flushing after a
// crash is idempotent. After a flush the index persists new series and the
// WAL deletes segments no unflushed epoch needs. Close flushes everything,
// so a clean restart replays nothing.
//
// # Index
//
// index.db (bbolt, append-only, FillPercent 1.0) has three buckets: meta
// (format version), symbols (uint32 big-endian ID from 1, no gaps -> the
// string) and series (uint32 big-endian series ID -> uvarint count, then
// name/value symbol-ID pairs). IDs are assigned in ascending order and
// never reused. The inverted index (label name -> value -> roaring bitmap
// of series IDs) lives in memory only and is rebuilt at start. New series
// are persisted before every flush (partition keys carry symbol IDs) and
// before WAL segments are deleted. An empty label value means the label is
// absent, as in Prometheus.
//
// # Retention
//
// Whole day files older than storage.retention are deleted: O(1), space
// freed at once. Writes older than the retention or further than
// storage.max_future ahead are rejected with ErrOutOfBounds.
//
// # Concurrency
//
// DB is safe for concurrent use. Writes run concurrently (at most 64 in
// flight; past that they wait up to 5 s, then fail with ErrOverloaded);
// one flush runs at a time in the background goroutine Open starts and
// Close stops. Select copies the compressed chunks it needs before it
// returns (from 256 series on, with up to four goroutines reading day files
// in parallel, all joined before it returns), so a SeriesSet is a stable
// snapshot and its Iterators may run on other goroutines.
//
// # Reading
//
// An Iterator walks one series in time order: Next and SeekTo sample by
// sample, or NextBatch a whole epoch at a time (decoded in tight loops) and
// SkipTo to move past a window; Series.ReuseIterator recycles one
// iterator's buffers across series. An epoch with several sources (late
// flushes, the head) is merged once, the newest write winning.
package tsdb
