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
//	  probe.tmp      only while recovering from a failed append (removed by Open)
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
// undecodable compressed payload) is damage, and Replay resynchronises:
// lengths are not self-synchronising, so it tries every following offset of
// the segment as the start of a record and goes on from the first whose CRC
// (and compressed payload) checks out. A false match needs a CRC-32C
// collision; records longer than 256 KiB must also be followed by plausible
// headers before their CRC is computed, which keeps the scan linear. A
// flipped byte thus loses the one record that holds it, not the rest of the
// segment. Replay logs each damaged segment at ERROR with the bytes skipped,
// the damaged regions, the records found after the damage and the first bad
// offset, and leaves the file as it is, for inspection.
//
// Only a bad record with nothing valid after it, in the last non-empty
// segment, is a torn tail, the normal result of a crash during a write:
// Replay logs a warning and truncates the file at the start of the bad
// record. In an earlier segment the same is damage (a segment is complete
// and synced before the next one is created): it is logged at ERROR and
// skipped. A segment missing between two others is logged at ERROR by name
// (Truncate deletes the oldest first, so a gap is never normal). What the
// format cannot see is lost silently: a segment cut exactly at a record
// boundary, or to zero bytes, looks like one that ended there.
//
// # Durability
//
// One writer goroutine drains the queue, writes everything pending with one
// write(2), calls fdatasync(2) once (File.Sync off Linux) and then wakes every
// waiting Log. The directory is fsynced after a segment is created or deleted.
//
// # Running out of space
//
// A failed write, fdatasync, segment creation or directory fsync (ENOSPC,
// EIO) stops the WAL appending. The Log calls of that commit fail, and so
// does every later Log and Cut, at once, with an *AppendError wrapping
// ErrWriteFailed and the cause; Err reports it (tsdb answers writes 503 and
// /health 503 with it). None of these calls was acknowledged.
//
// The failed segment is never written again. After a failed fsync the kernel
// may have dropped the dirty pages and cleared the error, so a retry on the
// same file could "succeed" without the data ever reaching the disk (the 2018
// PostgreSQL "fsyncgate"). Everything up to the last successful fdatasync is
// durable and stays; what came after belongs to calls that failed. So the
// writer goroutine recovers by itself, retrying with backoff (100 ms
// doubling to 5 s, a log line a minute while it lasts):
//
//  1. it truncates the failed segment to its last fdatasync'd size and
//     closes it (if that fails, Replay later skips the rest as damage, or
//     returns whole records whose Log failed: harmless either way);
//  2. it writes 1 MiB to probe.tmp, fdatasyncs and removes it, so that the
//     WAL does not resume on a disk that is still full;
//  3. it creates the next segment and fsyncs the directory, and takes writes
//     again (logged at INFO with how long it was down).
//
// Close on a WAL that cannot append drops the unsynced tail the same way and
// returns no error: nothing it acknowledged is lost.
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
