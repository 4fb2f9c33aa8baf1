// Package wal is outpost's write-ahead log: an append-only sequence of
// segment files holding typed byte records, written with group commit.
//
// The package knows nothing of series or samples. Its caller (tsdb) decides
// what a record type means; the log only promises that a record it has
// acknowledged is on stable storage and comes back, byte for byte and in
// order, from Replay after a restart or a crash.
//
// # Files
//
// A WAL owns one directory. Segments are named by an 8-digit decimal number
// and numbered from 1:
//
//	wal/
//	  00000001.seg   finished segment
//	  00000002.seg   finished segment
//	  00000003.seg   current segment (the only one ever written)
//
// A segment is a plain concatenation of records, with no file header:
//
//	┌──────────────┬──────────────┬──────────┬──────────────────┐
//	│ len uint32le │ crc uint32le │ type u8  │ payload, len B   │ ...
//	└──────────────┴──────────────┴──────────┴──────────────────┘
//
// len is the length of the payload as stored. crc is CRC-32C (Castagnoli)
// over the type byte followed by the stored payload. The low seven bits of
// type are the caller's Record.Type; the top bit (0x80) says the payload is
// snappy-compressed (block format), which Log does only when Options.Compress
// is set and compression makes the payload smaller.
//
// A segment is finished when the next commit would make it larger than
// Options.SegmentSize; a single Log call larger than that goes alone into a
// segment. The records of one Log call always land in one segment, in order.
//
// Open never appends to an existing segment: it creates a new one after the
// last, so what a previous process wrote (and Replay reads) and what this
// process writes never overlap.
//
// # Recovery
//
// Replay reads the segments that existed when Open ran, in order. A bad
// record (truncated, a length past the end of the file, a CRC mismatch, an
// undecodable compressed payload) is handled by where it is:
//
//   - In the last non-empty segment it is a torn tail, the normal result of
//     a crash during a write: Replay logs a warning and truncates the file at
//     the start of the bad record. Records written after a bad record cannot be
//     found again anyway, because lengths are not self-synchronising.
//   - In any earlier segment it cannot be a torn write (a segment is complete
//     and synced before the next one is created), so it is damage: Replay logs
//     an error, skips the rest of that segment and goes on with the next one.
//     The file is left as it is, for inspection. This keeps as much data as the
//     format allows instead of refusing to start.
//
// # Durability
//
// One writer goroutine drains the queue, writes everything pending with one
// write(2), calls fdatasync(2) once (File.Sync off Linux) and then wakes every
// waiting Log. The directory is fsynced after a segment is created or deleted.
// A failed write or fdatasync makes the WAL refuse all further writes with
// ErrWriteFailed: after a failed fsync the kernel may have dropped the dirty
// pages and cleared the error, so a retry could "succeed" without the data
// ever reaching the disk (the 2018 PostgreSQL "fsyncgate"). Reopening the WAL
// (a restart) is the only way back, and Replay then shows what really is on disk.
//
// # Concurrency
//
// All methods of WAL are safe for concurrent use. Log and Cut may run while
// Replay runs, because they write only segments Replay never reads. Replay
// and Truncate exclude each other. Record data passed to Log is copied before
// Log returns; a Record passed to Replay's callback is valid only during that
// call.
//
// # Imports
//
// Standard library, golang.org/x/sys/unix and github.com/golang/snappy. No
// package of outpost.
package wal
