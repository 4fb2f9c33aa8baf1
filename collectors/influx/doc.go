// Package influx is outpost's InfluxDB write API: POST /write (1.x),
// POST /api/v2/write (2.x), /ping, /health and the few /query statements
// Telegraf sends. It turns line protocol into samples and hands them to the
// store through collectors.Writer.
//
// # Types
//
// Handler serves the endpoints; main mounts its methods (Write, WriteV2,
// Ping, Health, Query) in the route table. Parser maps one body to
// []tsdb.Point batch by batch; Parse does a whole body at once. Config holds
// the "influx." keys (influx.max_line_bytes, influx.max_inflight_bytes,
// influx.udp_* for the UDP listener, and the string-field keys that
// StringPolicy applies, below); the body limit comes from
// http.max_body_bytes through Options.MaxBodyBytes. UDPListener (NewUDP) reads line protocol over UDP as
// InfluxDB 1.x's [[udp]] service does (influx.udp_addr, off by default): one
// datagram holds whole lines, points get db label influx.udp_db, and the
// good lines of a datagram are kept when others are bad; it counts under
// protocol "influx_udp".
//
// # Name mapping
//
// As VictoriaMetrics maps line protocol, so queries and dashboards move
// between the two unchanged:
//
//	m,tag=v f1=1,f2=2 ts      ->  m_f1{tag="v"} 1 ts, m_f2{tag="v"} 2 ts
//
// In detail:
//
//   - The metric name is measurement + "_" + field key, with escapes
//     resolved and nothing else changed (UTF-8, spaces and commas are kept).
//   - Tags become labels as given, sorted. Duplicate tag keys reject the
//     line, as InfluxDB does. A tag called __name__ is dropped (it would
//     otherwise replace the metric name); the line is kept.
//   - The db query parameter (v1) or bucket (v2) becomes label db unless the
//     line has a db tag, which wins. No db parameter: no db label, and the
//     write succeeds (InfluxDB answers 400 "database is required"; here db is
//     only a label, so there is nothing to require).
//   - Float, integer (i) and unsigned (u) values become float64 (integers
//     above 2^53 round to the nearest float64). Booleans become 1 and 0.
//   - A string field that strconv.ParseFloat accepts ("12.5", "-3", "1e3",
//     "NaN") becomes that number; one spelled as a line-protocol boolean
//     (t T true True TRUE f F false False FALSE) becomes 1 or 0. Any other
//     string becomes the series m_f_info{tags..., value="<string>"} = 1, so
//     state such as healthy="False" or state="degraded" stays queryable and
//     alertable. The value label replaces a tag called value; an empty string
//     gives no value label. Which strings become series is the string
//     policy's choice (next section): by default a metric whose string keeps
//     changing stops making new series.
//   - Timestamps are read in the precision parameter's unit (v1: n, ns, u,
//     us, µs, ms, s, m, h; v2: ns, us, ms, s; default ns) and stored in
//     milliseconds, rounded down (-1 ns is -1 ms, not 0). A timestamp that
//     does not fit int64 nanoseconds rejects its line. A line without one
//     gets the receive time (Options.Now), rounded down to the unit.
//   - Duplicate fields in a line give two samples of one series at one
//     time; the store keeps the last.
//
// # String fields
//
// A string that changes with every report would otherwise be a new series
// each time: Telegraf's system input sends uptime_format ("3 days, 4:05"),
// a new string every minute, some 43,000 series per host a month.
// StringPolicy (NewStringPolicy, Options.Strings, UDPOptions.Strings)
// decides, from these keys:
//
//	influx.string_fields        limit (default): an _info series while the
//	                            metric has few distinct strings; keep: every
//	                            distinct string a series; drop: none
//	influx.string_field_values  10: distinct strings one metric and tag set
//	                            may have at once (mode limit)
//	influx.string_field_window  24h: how long an unseen string stays counted,
//	                            and a volatile metric stays volatile
//	influx.string_field_series  100000: metrics and tag sets tracked at most
//	influx.drop_string_fields   [system_uptime_format]: metric names
//	                            (measurement_field, without _info) whose
//	                            strings are dropped in every mode
//
// In mode limit, per _info metric and tag set (its labels but value), a
// string already seen is always written; a new one is written while fewer
// than string_field_values are tracked, or in place of one unseen for the
// window. Any other new string is dropped, and the metric is then volatile:
// it takes no new string until a whole window passes without a drop. So
// uptime_format (when not on the drop list) makes ten series per host and
// then no more, while a state among a few values, or a version that changes
// now and then, keeps its series. A Telegraf fleet of 100 hosts over 30
// simulated days stays within twice the series of its first day
// (strings_test.go).
//
// What is dropped is counted (samples:string_field_dropped for the drop
// list and mode drop, samples:string_field_volatile for mode limit,
// samples:string_field_untracked when the tracker is full), never reported
// to the client: the write still answers 204, since a retry would not
// change the answer and Telegraf drops a batch on 4xx. The other fields of
// the line are written.
//
// The tracker is bounded: 70 bytes per metric and tag set with one
// string, about 300 with ten (100,000 of them: 7 to 31 MB, measured).
// When string_field_series are tracked, those not seen for a window are
// forgotten (at most once a minute), and strings of metrics not yet
// tracked are dropped until there is room. It is kept in
// memory only: after a restart each metric may make up to
// string_field_values new series once more before it is found volatile
// again. Time is the receive time (Options.Now), not the lines' timestamps.
//
// Syntax is the line-protocol v2 decoder's (lineprotocol.Decoder): a line
// it rejects is a bad line. Field values are parsed here instead (exactly as
// strconv.ParseFloat and ParseInt, but faster; see number.go).
//
// # Responses
//
// Every response carries X-Influxdb-Version: 1.8.10 and X-Influxdb-Build:
// OSS (and X-Outpost-Version when Options.Version is set); JSON bodies have
// Content-Type: application/json. v1 errors are {"error":"..."} with the
// same text in X-Influxdb-Error; v2 errors are {"code":"...","message":"..."}.
//
//	situation                          v1 /write               v2 /api/v2/write
//	every line written                 204                     204
//	empty body (or only blank lines)   204 (as InfluxDB 1.x)   400 invalid "writing requires points"
//	some lines bad, others written     400 "partial write:     422 unprocessable entity
//	  (or the store dropped samples)     <first> dropped=N"      "partial write: <first> dropped=N"
//	every line bad, nothing written    400 "<first error>"     400 invalid "<first error>"
//	bad precision parameter            400                     400 invalid
//	no bucket parameter                (db is optional)        404 not found "bucket not found"
//	invalid gzip body                  400                     400 invalid
//	Content-Encoding not gzip/identity 415                     415
//	body over MaxBodyBytes (before or  413                     413 "request too large"
//	  after gzip decompression)
//	no room in max_inflight_bytes, or  503 + Retry-After: 1    503 unavailable + Retry-After: 1
//	  store overloaded (ErrOverloaded)
//	store cannot append its WAL        503 + Retry-After: 5    503 unavailable + Retry-After: 5
//	  (ErrUnavailable)
//	any other store error              500 "internal error"    500 "internal error"
//
// <first> is the first bad line's *ParseError, "unable to parse '<line>'
// (line L, column C): <why>", L counting lines of the body from 1; or, when
// every line parsed, the store's reason for the first dropped sample. N is
// the number of bad lines plus the samples the store dropped. Telegraf drops
// a batch on 4xx and retries it on 5xx, so overload is never a 4xx. When a
// store error stops a request, or its body fails midway (413 past the limit
// after decompression, a broken gzip stream, the client gone), the batches
// written before stay written; the client's retry writes them again, which
// changes nothing (same series, same millisecond: last write wins). An
// answer due before the body was read to its end (503 at admission, 413,
// a store error) leaves at once, however slowly the body still comes; the
// rest of the body is then read and dropped, up to 1 MiB within 1 s, so
// that the client reads its answer rather than a reset, and the connection
// is closed after it (a client answered early must not reuse it).
//
// GET|HEAD /ping answers 204 (200 {"version":"1.8.10"} with verbose=true);
// GET /health answers 200 with InfluxDB 2.x's JSON, status "pass", or 503
// "fail" with the reason as the message when Options.Health reports one
// (the store cannot append to its WAL). /query (GET or POST,
// parameter q, statements split at ';') answers CREATE DATABASE and CREATE
// RETENTION POLICY with {"results":[{"statement_id":0}]}, SHOW DATABASES with
// the databases seen (written to, or created; at most 10,000), and any other
// statement with a result error pointing to the Prometheus API; as in
// InfluxDB, the status stays 200 and later statements are "not executed".
// A missing q is 400.
//
// # Limits and memory
//
// Admission comes before allocation (issue 8). A write request first
// reserves RequestBytes (4 MiB with the default max_line_bytes) of
// influx.max_inflight_bytes (32 MiB: eight requests at once); when that
// does not fit, it is answered 503 with Retry-After at once, its body
// unread. An admitted body is then parsed as it arrives, never held whole:
// a lineReader reads it (inflated, when gzipped) into a window of twice
// max_line_bytes and hands the parser whole lines, and the parser cuts the
// points into batches of Options.BatchPoints (5,000) or maxBatchBytes
// (1 MiB of points, labels, keys and strings), whichever comes first. One
// batch is written while the next is parsed, so a request holds its window,
// two batches and its caches, whatever its body unpacks to. The limits on
// the way: MaxBodyBytes on the wire and after decompression (413); lines
// longer than MaxLineBytes are dropped (counted as too_long) without being
// held, and the rest is written; a line whose fields × tags would map to
// more than 512 KiB is rejected like a bad line. The batches of one request
// share one wait of at most a second for a store write slot
// (tsdb.WithWriteWait), then the request is answered 503. Per sample,
// parsing allocates nothing: labels are copied into a per-request arena and
// their strings are cut from one strings.Builder per batch; tag sets and
// metric names repeated within a body are reused, up to 512 KiB of them.
// Nothing is cached between requests.
//
// # Counts
//
// Options.Stats (protocol "influx") counts samples written, body bytes
// (after decompression), and rejections: lines:parse, lines:too_long,
// samples:<reason> for samples the store dropped (out_of_bounds,
// too_many_series, invalid_series, invalid_value, store_error:
// collectors.DropReason; string_field_dropped, string_field_volatile and
// string_field_untracked: the string policy), requests:no_bucket (a v2 write without bucket),
// requests:overloaded (no room in max_inflight_bytes, or the store
// overloaded), requests:unavailable (the
// store cannot append), requests:too_large and requests:bad_body. Bad lines are never logged one
// by one; store failures are logged at most once per 10 s.
//
// # Concurrency
//
// Handler is safe for concurrent use; its in-flight budget, its pools (body
// readers with their windows, gzip readers, parsers) and the SHOW DATABASES
// set are its only shared state, with the StringPolicy, which has its own
// lock. A Parser is
// for one goroutine. The package keeps no package-level mutable state.
//
// # Imports
//
// outpost/tsdb, outpost/collectors and github.com/influxdata/line-protocol/v2
// only.
package influx
