// Package collectd receives collectd's binary network protocol on UDP (the
// "network" plugin, default port 25826) and writes its value lists as
// samples through a collectors.Writer.
//
// # Types
//
//   - Config, DefaultConfig, Validate: the "collectd" configuration section.
//   - Listener (New, Run, Addr, Stats, Inflight, Close): the UDP server.
//   - Parser (Parse): the packet decoder, one per goroutine; ValueList,
//     Value and DSType are what it hands out, SecurityLevel what it demands.
//   - TypesDB (ParseTypesDB, ReadTypesDB, LoadTypesDB, BuiltinTypesDB): the
//     data-source names and kinds of each type, from types.db.
//   - AuthFile (OpenAuthFile, ParseAuthFile): collectd's "user: password"
//     file, a PasswordLookup.
//
// # Name mapping
//
// As InfluxDB 1.x's collectd service with parse-multivalue-plugin "split"
// (../shared/DESIGN.md §3): each value of a value list is one sample of
// metric <plugin>_<dsname>, dsname taken from types.db ("value" for the
// single-value types), with labels host, instance (the plugin instance),
// type and type_instance; empty ones are omitted:
//
//	cpu_value{host="web1",instance="0",type="cpu",type_instance="idle"}
//	interface_rx{host="web1",instance="eth0",type="if_octets"}
//
// GAUGE values are stored as they are; DERIVE, COUNTER and ABSOLUTE raw, as
// sent (query them with rate()); no rate is computed and no wire value is
// coerced to its types.db kind. Timestamps are collectd's 2^-30 s times
// rounded to the nearest millisecond (collectd's CDTIME_T_TO_MS); a value
// list without a time gets its receive time, as collectd does. NaN gauges
// (collectd's "unknown") are skipped and counted, as InfluxDB refuses NaN.
// The captures of ../shared/conformance/ingest/collectd map to exactly the
// lines InfluxDB 1.x wrote for them (tested).
//
// A value list whose count differs from its type's data sources is dropped
// (ds_count_mismatch), as collectd and InfluxDB drop it. A type missing from
// types.db is dropped (unknown_type) when its list has several values, since
// its data sources cannot be named; with exactly one value it is stored as
// <plugin>_value. InfluxDB 1.x drops both with a log line; we keep the
// single value because every single-value type of collectd's types.db but
// four (duration, vf_broadcast, vf_multicast, vf_link_info, all built in)
// names its source "value", so the name is the one types.db would give, and
// a sender's private or newer types then still arrive rather than vanish.
//
// # types.db
//
// The types are, later replacing earlier ones of the same name: the
// built-in table (typesdb_builtin.go: the multi-value types of collectd's
// standard plugins and the four odd single-value ones, written from the
// facts of collectd's types.db so that a machine without collectd installed
// still names interface_rx, load_shortterm or disk_read), then Debian's
// /usr/share/collectd/types.db when installed, then each file or directory
// of collectd.typesdb. ParseTypesDB reads collectd's format and reports the
// first bad line as a *ParseError with file, line and column.
//
// # Security levels
//
// As the <Listen> side of collectd's network plugin (src/network.c,
// parse_packet), part by part:
//
//   - none: every part is read. A signature is verified when an auth file
//     is configured (a wrong one or an unknown user drops the rest of the
//     packet); without one the signature part is skipped and the rest read
//     unverified, as collectd does since CVE-2017-7401. Encrypted parts need
//     the auth file; without it they are refused (no_auth_file).
//   - sign: only parts under a valid signature or inside an encrypted part
//     are read; the others are skipped and the packet counted "unsigned".
//   - encrypt: only parts inside an encrypted part are read; the others are
//     skipped and the packet counted "unencrypted".
//
// A signature part is HMAC-SHA-256 keyed with the user's password over the
// user name and the rest of the packet; an encryption part holds the user,
// a 16-byte IV, and AES-256-OFB (key SHA-256(password)) of SHA-1(plaintext)
// followed by the plaintext, whose parts may again be signed or encrypted
// (4 levels at most). The auth file is read as collectd reads it (see
// AuthFile) and again when it changes.
//
// # Corrupt packets
//
// Parsing stops at the first bad part, as in collectd: the value lists
// before it are kept and the packet is counted under the part's reason
// (truncated, malformed); an error inside an encrypted part does not stop
// the parts after it. Strings longer than collectd's 128 bytes, number parts
// that are not 8 bytes and values parts whose length does not match their
// count are malformed. No input panics (fuzzed).
//
// # What is counted
//
// In the collectors.Stats given in Options (protocol "collectd"):
// Connections counts datagrams read, Bytes their bytes, Samples the samples
// the store accepted. Rejections, by what and reason:
//
//	packets:       truncated, malformed, unsigned, unencrypted, bad_signature,
//	               unknown_user, decrypt_failed, no_auth_file, queue_full,
//	               over_budget, read_error
//	samples:       unknown_type, ds_count_mismatch, incomplete_identifier
//	               (no plugin or type), nan, overloaded, too_many_series,
//	               out_of_bounds, invalid_series, invalid_value, shutdown,
//	               store_error (collectors.DropReason)
//	notifications: not_stored (message parts: counted, never stored)
//
// Nothing is logged per packet: a summary of the rejections of the last
// minute, if any, is logged at most once a minute.
//
// # Memory
//
// Admission comes before allocation (issue 8). The reader copies each
// datagram off its 64 KiB read buffer into a buffer of its own (2 KiB,
// pooled, or the datagram's size when larger) only after taking that
// buffer's size from collectd.max_inflight_bytes (8 MiB); a worker gives
// it back once it has parsed the datagram. A datagram that does not fit is
// dropped and counted (packets, "over_budget"), as one that finds the
// queue full is: UDP senders cannot be slowed down, and the reader never
// waits. Listener.Inflight reports the budget and its high-water mark.
//
// The worst case with the defaults, from the arithmetic:
//
//   - before: the queue held up to queue_size (4,096) datagrams, each in a
//     buffer of its size: 4,096 × 64 KiB = 256 MiB of large datagrams (8
//     MiB of collectd's usual 1,452-byte ones in 2 KiB buffers). Each of
//     the 2 workers kept up to 2^16 identities' label sets, about 300 bytes
//     each with short names (20 MiB) but 1.5 KiB with every name at
//     collectd's longest, 127 bytes (2^16 × 1.5 KiB = 97 MiB): about 460
//     MiB in all;
//   - now: the queue is bounded by collectd.max_inflight_bytes (8 MiB).
//     Besides it, each worker holds its batch's array (batch_size 5,000 ×
//     64 B = 312 KiB, at most 1,000,000 points by Validate), the label
//     sets its points keep after the cache let them go (at most 5,000 ×
//     0.8 KiB = 4 MiB), its identity cache, now also bounded by bytes
//     (maxCacheBytes, 32 MiB) and its interned names (8,192 × 127 B, 1
//     MiB); with the read buffer that is 8 + 2 × (0.3 + 4 + 32 + 1) ≈ 83
//     MiB at most, and about 8 MiB plus the caches (20 MiB a worker at 2^16
//     series) in practice. The kernel's socket buffer (read_buffer, 8 MiB)
//     is the kernel's, not the heap's.
//
// # Library choice
//
// collectd.org/network (v0.6.0) is not used; the parts are parsed by hand,
// and collectd.org only served as a reference. Measured against it: at
// security level None it returns the value lists of a signed packet twice
// (the signed rest is parsed once verified and again as plain parts), and
// without a PasswordLookup it refuses signed packets that collectd accepts;
// it cannot read ABSOLUTE values (the packet fails from there); it logs
// through the standard library's global logger for every notification part
// and every list of an unknown type, where we must count, not log; its
// errors are strings, so rejections cannot be told apart with errors.Is;
// it allocates about 260 times for a real 27-list packet (this parser: 0);
// its AuthFile drops a last line without newline and trims user names
// unlike collectd; and importing it needs go.uber.org/multierr, which is not
// in go.mod. Its api.TypesDB also skips ABSOLUTE types and bad lines
// silently. The good value lists before a corrupt tail it does keep.
//
// # Concurrency
//
// Listener.Run owns its goroutines: one reads the socket and hands each
// datagram to a bounded queue without waiting (a full queue, or a full
// collectd.max_inflight_bytes, drops and counts), Config.Workers parse, name and batch, and one logs the summary;
// Run returns after all of them, once the socket is closed and the last
// batches are written. A Parser is owned by one goroutine; a TypesDB is
// read-only once built; an AuthFile is safe for concurrent use.
//
// # Imports
//
// outpost/collectors (Writer, Stats), outpost/tsdb (Point, Labels, write
// errors) and the standard library only.
package collectd
