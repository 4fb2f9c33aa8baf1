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
//	<path>/parts/YYYYMMDD.db.compact  a day file being rewritten (compact.go)
//	<path>/**.damaged-<time>    a damaged file set aside (see "Damage")
//
// A day file (format 2) holds one top-level bucket per flush of an epoch,
// and the labels of the series it holds:
//
//	bucket  epochStart(8, sign-flipped big-endian) | seq(2)
//	  key   metricID(4) | seriesID(4)       -> chunk (chunkenc.Encode: the smallest encoding) | crc32c(4)
//	  key   ff ff ff ff ff ff ff ff 00      -> flush meta: 2 | flags | epochStart | seq | covered WAL
//	                                           segment | mint | maxt | series bitmap | crc32c(4)
//	bucket  "symbols"
//	  key   first symbol ID(4)              -> block: 1 | n | n x (ID delta, string) | crc32c(4)
//	bucket  "series"
//	  key   first series ID(4)              -> block: 2 | n | n x (ID delta, index.db encoding) | crc32c(4)
//	bucket  "deletes"                          (tombstone_days.go)
//	  key   't' | sequence(8)               -> index.db's tombstone | crc32c(4)
//
// Every CRC32C (Castagnoli, little-endian) covers the record's key and,
// for a chunk, its bucket's name too, so a flipped bit anywhere fails one
// record's check and never yields a wrong value or a chunk in the wrong
// epoch. The symbols and series buckets give, in blocks of up to 128, the
// labels of every series with a chunk in the file as index.db's symbol IDs
// and the strings of those symbols: the first flush of a series into a day
// writes them, in its first transaction. Day files of format 1 (flush meta
// version 1) are still read: their chunks carry no CRC and they have no
// labels until a start with a healthy index.db writes them in.
//
// Buckets are written once, keys in ascending order, FillPercent 1.0, in
// transactions of about 8 MiB, the meta key last: every bbolt write is
// an append. A bucket without meta is a flush that crashed; it is dropped
// on open and its samples come back from the WAL. Late samples for an
// epoch already flushed become a new bucket with the next seq; readers
// merge an epoch's buckets, higher seq winning. The metricID (the symbol
// ID of the metric name) leads the key so one metric's chunks are adjacent.
//
// # Damage
//
// Every bbolt file is checked before bbolt maps it (its meta, length, and
// each reachable page; boltcheck.go, damage.go), and bbolt runs under recover with
// faults turned into panics, so a damaged file is an error that names it
// and says what is wrong, never a crash. A damaged day file is renamed
// YYYYMMDD.db.damaged-<time> and what its checksums vouch for (every leaf
// page is read, reachable or not) is salvaged into a new YYYYMMDD.db; the
// other days keep serving, and the WAL replays whatever it still holds of
// that day. A damaged, empty, missing or stale index.db is set aside and
// rebuilt from the day files' labels, or, when some day file holds series
// no file names, the store refuses to start with one line naming it. A
// chunk that fails its CRC on read is left out, counted once
// (CorruptChunks) and logged with its file; DB.Damaged lists the files.
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
// # A full disk
//
// While the WAL cannot append (package wal, "Running out of space"), Write
// fails at once with an error matching ErrUnavailable and Health says why
// and since when; the WAL retries in the background and resumes by itself
// in a new segment. Nothing new is sealed meanwhile. A flush that fails
// stays a flush job (still read by queries) and is retried with backoff
// (1 s doubling to 10 s); Health reports it too. Failures of the background
// loop are logged when they start, once a minute while they last, and when
// they end. Close on a full disk logs what it could not flush and returns
// no error for it: the WAL holds every acknowledged sample (segments are
// deleted only after a flush), so the next start replays it.
//
// # Index
//
// index.db (bbolt, append-only, FillPercent 1.0) has three buckets: meta
// (format version), symbols (uint32 big-endian ID from 1, no gaps -> the
// string) and series (uint32 big-endian series ID -> uvarint count, then
// name/value symbol-ID pairs); in format 2 each value ends with a CRC32C
// (index_persist.go). IDs are assigned in ascending order and
// never reused. The inverted index (label name -> value -> roaring bitmap
// of series IDs) lives in memory only and is rebuilt at start. New series
// are persisted before every flush (partition keys carry symbol IDs) and
// before WAL segments are deleted. An empty label value means the label is
// absent, as in Prometheus.
//
// # Deletes
//
// DeleteSeries writes a tombstone (series IDs, time range) to the day
// files its range overlaps ("deletes" bucket) and to a fourth bucket of
// index.db, "tombstones", created at the first delete, keyed by a uint64
// sequence (tombstone.go, tombstone_days.go); both are synced before the
// delete answers. Tombstones are loaded at open (those of the day files
// too, so an index.db rebuilt from them keeps them) and applied at read
// time to head chunks, flush jobs and day files alike: iterators skip
// deleted samples, a Select leaves out series with none left, and the
// listings (Series, LabelNames, LabelValues) read the tombstoned series
// they would list to leave out those with no sample left in range. Flushes
// leave deleted samples out; WAL replay therefore never resurrects them. A
// delete's range is cut at the time it runs: later samples with newer
// timestamps are visible, as in Prometheus; later samples inside the
// deleted range stay hidden while the tombstone lives. The next compaction
// of each day file holding deleted data drops it; once no file and no
// head epoch holds any, the tombstone is dropped (and, as in Prometheus
// after a compaction, samples written into its range afterwards show).
//
// # Compaction
//
// A day file with a sealed epoch in several flush buckets, or with deleted
// data, is rewritten into parts/YYYYMMDD.db.compact (compact.go): one
// bucket per epoch merging its flushes, the newest winning, without the
// deleted samples, with only the labels of the series left; fsync'd, then
// renamed over the old file under the partition's lock, so reads see the
// old file or the new one, and a crash leaves one of them whole (an
// unfinished .compact file is removed at open). bbolt files never shrink;
// the new file is what gives the space back. It runs in the background
// loop under the flush lock, one day file at a time, or at once through
// DB.Compact; memory is one batch of an epoch's series.
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
// flight; past that they wait up to 1 s, or what is left of their
// request's WithWriteWait budget, then fail with ErrOverloaded);
// one flush runs at a time in the background goroutine Open starts and
// Close stops. Select finds the matching series (and sorts them by labels)
// before it returns; the SeriesSet then reads their compressed chunks a
// batch at a time as it is iterated: each batch (at most half of
// DefaultBatchBytes) is sized from the head and the day files without
// copying anything, charged to the caller's ReadBudget (SelectWith), then
// copied with one cursor per bucket into an arena the set reuses from
// batch to batch; while the caller works through one batch, the next is
// charged and read ahead on its own goroutine, so both together stay
// within the batch bound. Each batch is a consistent view of its series.
// A Series is valid until the set moves past its batch: its labels stay,
// but its Iterator then returns ErrBatchReleased at its next chunk, so
// callers finish a batch's series (on any goroutines) before calling Next
// again.
//
// # Reading
//
// An Iterator walks one series in time order: Next and SeekTo sample by
// sample, or NextBatch a whole epoch at a time (decoded in tight loops) and
// SkipTo to move past a window; Series.ReuseIterator recycles one
// iterator's buffers across series. An epoch with several sources (late
// flushes, the head) is merged once, the newest write winning.
//
// # Memory
//
// What bounds outpost's memory with the default configuration (issue 8),
// the store's part and the rest of the process:
//
//   - Write requests: influx.max_inflight_bytes (32 MiB). Each HTTP write
//     reserves 4 MiB before it reads its body (a window of two
//     max_line_bytes, two batches of at most 1 MiB, caches); past the
//     budget it gets 503 with Retry-After at once. A body is inflated and
//     parsed as a stream and may unpack to at most http.max_body_bytes
//     (64 MiB, then 413).
//   - Store writes: at most 64 Writes in flight, each waiting at most 1 s
//     for a slot (one request's batches 1 s in all), about 40 bytes of
//     scratch per sample of a batch.
//   - WAL queue: 8 MiB pending plus 8 MiB being written.
//   - Head: ended epochs waiting for their flush are bounded by
//     storage.head_max_bytes (32 MiB); open chunks, the index and the
//     postings cost about 0.5 to 1 KiB per active series, bounded only by
//     storage.max_series.
//   - Listeners: Graphite's connections share graphite.max_inflight_bytes
//     (32 MiB: read buffers past 1 KiB, batches and new labels are charged
//     before they are allocated; a full budget stops reading the socket, so
//     senders slow down), plus about 8 KiB per open connection (1,000:
//     8 MiB) and a series cache capped at 64 MiB; collectd's queued packets
//     share collectd.max_inflight_bytes (8 MiB; past it a packet is dropped
//     and counted), plus per worker a batch and a label cache capped at
//     32 MiB (2 workers: about 75 MiB); line protocol over UDP about 6 MiB.
//   - HTTP connections: at most http.max_connections (1,024), about 20 KiB
//     each when idle (20 MiB).
//   - Queries: query.max_memory across all queries and query.max_memory_per_query
//     for one (see package query), charged from chunk sizes before any
//     chunk is copied (SelectWith and its ReadBudget).
//   - The runtime and the binary: about 20 MiB.
//
// With every budget and cache full at once that is about 570 MiB plus 0.5
// to 1 KiB per active series; in practice the caches stay far below their
// caps (a cache holds what its senders' series need). GOGC=50 (main's
// default) lets the heap grow to about 1.5 times the live bytes between
// collections; under a cgroup memory limit main sets Go's soft limit to
// 90 % of it (unless GOMEMLIMIT is set), so the collector works harder
// before the kernel would kill the process.
package tsdb
