// Package events is outpost's event store: JSON events (AWS EventBridge
// envelopes, log records) kept whole in one bbolt file per UTC day, an
// index on a few fields, and the search language that finds them again.
// It imports nothing else of outpost's.
//
// # Basics
//
// An Event is an ID, a time and a body (one JSON object, canonical: keys
// sorted, no HTML escaping). Append stores a batch; once it returns nil
// every new event is in a committed, fsync'd bbolt transaction. An event
// whose ID is already stored in its day's file is a duplicate: counted,
// not stored again. Search answers a Query (ParseQuery) over a time range,
// newest first, a page at a time.
//
// # Files
//
//	<dir>/YYYY-MM-DD.db         bbolt, one per UTC day of the events' times
//
// A day file has four buckets:
//
//	bucket "events"
//	  key   time(8, ns, sign-flipped big-endian) | seq(8)  -> crc32c(4) | uvarint len(id) | id | body
//	bucket "ids"
//	  key   sha256(id)[:16]                                -> event key
//	bucket "idx"
//	  key   field | 0x00 | token | 0x00 | event key       -> empty
//	bucket "meta"
//	  key   "format"                                       -> 1
//	  key   "partial:" field                              -> empty: some event had more
//	                                                          tokens in field than indexed
//
// seq is the events bucket's bbolt sequence, so keys are unique and, for
// events that arrive in time order (the usual case), every write is an
// append. The CRC32C (Castagnoli) covers the key and the rest of the
// value; a record that fails it is skipped by searches and counted.
//
// The index holds, for each indexed field (source, detail-type, host and
// Options.IndexFields, dotted paths), the lower-cased tokens (runs of
// letters and digits, at most 64 bytes, at most 64 per field and event)
// of the field's values. A query term on an indexed field walks that
// field's postings instead of the whole day, unless the day is marked
// partial for the field.
//
// # Atomicity
//
// The events of one Append that fall on one day are written in one bbolt
// transaction (bbolt's Batch, which groups concurrent appends into one
// commit and one fsync). An Append that spans days commits them one after
// the other; when a later day fails, the days already committed are
// rolled back by a second transaction. A crash between two days' commits
// can leave the earlier day's events stored while the caller never got
// an answer: the caller retries, and the retry's events are duplicates of
// what was kept, so the retry completes the batch without doubling it.
//
// # Retention
//
// Run deletes whole day files older than Options.Retention (the metrics'
// storage.retention); Append rejects events older than the retention or
// further than Options.MaxFuture ahead (ErrOutOfBounds).
//
// # Concurrency
//
// Store is safe for concurrent use. mu guards the map of open day files;
// appends and searches hold it shared while they use a file, retention
// and Close hold it exclusively to close one. Searches read in short
// read transactions (at most 16,384 records each), so a long search never
// holds a day file's mmap against a writer that must grow it.
package events
