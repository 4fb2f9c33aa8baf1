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
// A segment (format version 1) is a 28-byte header followed by a plain
// concatenation of records. All integers are little-endian:
//
//	header, 28 bytes:
//	┌────────┬─────────┬─────────┬─────────┬──────────┬───────────┬────────┐
//	│ "OWAL" │ version │ hdr len │ segment │ prev seg │ prev size │ crc    │
//	│ 4 B    │ u16 = 1 │ u16 =28 │ u32     │ u32      │ u64       │ u32    │
//	└────────┴─────────┴─────────┴─────────┴──────────┴───────────┴────────┘
//	records:
//	┌──────────────┬──────────────┬──────────┬──────────────────┐
//	│ len uint32le │ crc uint32le │ type u8  │ payload, len B   │ ...
//	└──────────────┴──────────────┴──────────┴──────────────────┘
//
// In the header, segment is the segment's own number. prev seg and prev size
// are the number and the size in bytes of the segment before it when it was
// created (the highest-numbered one then present; 0 and 0 for the first
// segment of a directory): the size the writer had written and synced when
// it rolled over, or after a failed append the size it had synced (see
// "Running out of space"), or, for the segment Open creates, the size of that
// segment after Open cut any torn tail. crc is CRC-32C (Castagnoli)
// over the 24 bytes before it. Every later version will keep the magic,
// version and hdr len where they are and end its header with a CRC-32C of
// the bytes before it, so that a reader can tell a version it does not know
// from a damaged header. The header is written and fdatasync'd before the
// segment's name is made durable, so a segment that exists after a crash
// holds its whole header (or, if the file system persisted the name first,
// nothing or part of it: see "Recovery").
//
// In a record, len is the length of the payload as stored. crc is CRC-32C
// over the type byte followed by the stored payload. The low seven bits of
// type are the caller's Record.Type; the top bit (0x80) says the payload is
// snappy-compressed (block format), which Log does only when Options.Compress
// is set and compression makes the payload smaller.
//
// Segments written before the header existed (format version 0) are records
// from offset 0, with no header. Replay reads both, in any mix: a segment is
// of version 1 if it starts with "OWAL". Read as a record length that magic
// is 0x4C41574F, more than MaxRecordSize, so no version 0 segment whose first
// record is valid starts with it. A build that predates the header reads a
// version 1 segment as a version 0 one whose first 28 bytes are damage: it
// logs them at ERROR, skips them and replays every record.
//
// A segment is finished when the next commit would make it larger than
// Options.SegmentSize (the header included); a single Log call larger than
// that goes alone into a segment. The records of one Log call always land in
// one segment, in order.
//
// Open never appends to an existing segment: it creates a new one after the
// last, so what a previous process wrote (and Replay reads) and what this
// process writes never overlap.
//
// # Recovery
//
// Open first repairs the last segment that holds any bytes, the only one a
// crash can have left half-written: if it ends in a bad record with nothing
// valid after it (a torn tail: a record cut short, a CRC mismatch, zeros, a
// header cut short by a crash during the segment's creation), Open logs a
// warning and truncates the file at the start of that record (at offset 0
// for a torn header). It then creates the new segment, whose header records
// the repaired size. Everything else is Replay's to report; Replay changes
// no file.
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
// offset, and leaves the file as it is, for inspection. A bad record at the
// end of a segment other than the last is such damage too (a segment is
// complete and synced before the next one is created).
//
// A header that is cut short or fails its CRC (a flipped byte anywhere in
// it, the magic included) is logged at ERROR by file name; its fields are
// not trusted, and Replay resynchronises from offset 0 as after a bad
// record (so the damage line follows, with the header's bytes skipped), and
// the records after it are still replayed. A valid header of a
// version this build does not know is logged at ERROR and its segment is not
// read (the file is left as it is). A header whose segment number is not
// the file's (a renamed or copied file) is logged at ERROR; its records are
// replayed.
//
// Each segment is then checked against the header of the one after it (the
// next segment in the directory, or for the last one the segment Open
// created), when that header is valid and names it as its predecessor:
//
//   - shorter than the recorded size: the segment was cut, and the records
//     past the cut are lost. Replay logs an ERROR with the file, the
//     expected and actual sizes, the bytes missing and the records it could
//     replay, and goes on with the next segment. This is what shows a cut at
//     a record boundary, or to zero bytes, which the records alone cannot.
//   - longer: bytes were added after the next segment was created. Nothing
//     is lost, so Replay replays them and logs a warning with the extra
//     bytes. The causes are outside the normal flow: a failed append whose
//     unsynced tail could not be cut off (its records were never
//     acknowledged; see "Running out of space"), a second process writing
//     the same directory, or a file replaced by hand.
//
// A segment missing between two others is logged at ERROR by name (Truncate
// deletes the oldest first, so a gap is never normal).
//
// What the format still cannot see, and so loses silently:
//
//   - a cut at a record boundary (or to zero bytes) of the newest segment
//     before the next Open has recorded its size: after a crash it looks
//     exactly like a crash that came before the lost records were written
//     (and acknowledged). So does the newest segment deleted (its number is
//     then reused). Once an Open has recorded its size in the next
//     segment's header, it is checked like any other.
//   - a cut at a record boundary of a version 0 segment followed by another
//     version 0 segment; the last version 0 segment before the first
//     version 1 one is checked.
//   - a cut of a segment whose successor's header is damaged or names
//     another predecessor (a segment missing between them, itself logged),
//     and a deleted oldest segment (Truncate deletes those).
//
// # Durability
//
// One writer goroutine drains the queue, writes everything pending with one
// write(2), calls fdatasync(2) once (File.Sync off Linux) and then wakes every
// waiting Log. A new segment's header is fdatasync'd when the file is created,
// and the directory is fsynced after a segment is created or deleted.
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
//     returns whole records whose Log failed, harmless either way, and
//     warns that the segment is longer than recorded);
//  2. it writes 1 MiB to probe.tmp, fdatasyncs and removes it, so that the
//     WAL does not resume on a disk that is still full;
//  3. it creates the next segment, whose header records the failed
//     segment's fdatasync'd size, fsyncs the directory, and takes writes
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
