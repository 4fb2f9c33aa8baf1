// Package graphite serves Graphite's plaintext protocol on TCP and UDP
// (graphite.addr, default ":2003") and maps each line to a series of
// outpost's store, with InfluxDB 1.x templates when they are configured.
//
// # Lines
//
// A line is "path value [timestamp]", ended by "\n" or "\r\n". Fields are
// separated, and may be surrounded, by runs of spaces and tabs, as carbon
// and VictoriaMetrics accept them. Blank lines are ignored.
//
//   - path: anything without blanks, kept as sent (UTF-8 required). The
//     tagged form "path;k=v;k2=v2" (Graphite 1.1) adds labels: the last
//     value of a repeated name wins; a segment without "=" makes the line
//     invalid (as in carbon); a tag with an empty name or value is skipped
//     (as in VictoriaMetrics), and so is a tag named __name__.
//   - value: a decimal or exponent number. "nan" (any case and sign, as
//     collectd's write_graphite sends it) is not stored: carbon drops NaN
//     too; the line is counted as a rejected sample with reason "nan".
//     "inf", "-inf" and "infinity" are stored as ±Inf, as carbon and
//     VictoriaMetrics store them (InfluxDB 1.x refuses them; a numeric
//     store need not). Hexadecimal numbers and "_" separators are refused.
//   - timestamp: seconds since the epoch, possibly fractional, stored in
//     milliseconds. Missing, -1 (carbon's "now") or 0 (VictoriaMetrics'
//     "now") mean the receive time, from Options.Now.
//
// A line that does not parse is counted (what "lines", reason "parse"); a
// line longer than graphite.max_line_bytes is skipped up to its newline
// and counted as "too_long"; the connection keeps serving the lines after
// either. Errors are never logged one by one: at most one summary line per
// minute tells what was rejected, with the first example.
//
// # Names and labels
//
// Templates see the path before any ";", so the tagged form and templates
// combine. Without templates the metric name is the path as sent, the
// VictoriaMetrics convention: "servers.web1.cpu.user 12.5" is the series
// servers.web1.cpu.user{}. With graphite.templates, each entry is
// "[filter] template [k=v,...]" as in InfluxDB 1.x:
//
//   - The filter selects paths by their leading elements; "*" matches any
//     one element. The most specific matching filter wins: at the first
//     element where two filters differ a literal beats "*", and a longer
//     filter beats its own prefix. One entry may have no filter: the
//     default template, for paths no filter matches. With none configured,
//     the built-in default "measurement*" keeps the path as the name.
//   - The template gives each path element a role, position by position:
//     "measurement" appends the element to the measurement, "measurement*"
//     appends it and every later one, "field" names the field (once),
//     "field*" names it with every later element, an empty part drops the
//     element, and any other word makes the element the value of a label
//     of that name. Repeated measurement, field* and label parts are
//     joined with graphite.separator (default ".", as in InfluxDB 1.x).
//     Parts past the end of the path, and elements past the end of the
//     template, are ignored.
//   - The metric name is the measurement, or measurement_field when the
//     template names a field; no "_value" suffix is invented. A template
//     that yields no measurement for a path leaves the whole path as the
//     measurement.
//   - Labels, by rising precedence: graphite.tags, the entry's k=v tags,
//     labels taken from the path (an empty element leaves the configured
//     value), and the line's own ";k=v" tags. Labels never hold empty values.
//
// Templates, filters and tags are checked when the configuration is
// validated; errors name the entry, e.g. "graphite.templates[2]: ...".
// Using both measurement* and field*, or field twice, is such an error
// (InfluxDB 1.x only fails when a line reaches it).
//
// Filters live in a tree keyed by path element, so matching costs a map
// lookup per element whatever the number of templates. Where InfluxDB's
// greedy walk of the same tree dead-ends (an exact branch without a
// template below it) and falls back to the default template, outpost
// backtracks to the most specific filter that does match; on every other
// path both choose the same template. The 66 transcribed InfluxDB 1.x
// cases of ../shared/conformance/ingest/graphite pass.
//
// # A worked example
//
// With
//
//	[graphite]
//	separator = "_"
//	tags = ["dc=fra"]
//	templates = [
//	  "servers.* .host.resource.measurement* region=eu",
//	  "servers.*.disk .host..device.measurement.field",
//	  "measurement.field",
//	]
//
// the line "servers.web1.cpu.load.1m 0.5 1700000000" matches the filters
// "servers.*" only, so the first template applies: "servers" is dropped,
// host="web1", resource="cpu", and measurement* joins "load" and "1m" with
// "_". The sample is load_1m{dc="fra",host="web1",region="eu",resource="cpu"}
// = 0.5 at 1700000000000 ms. The line "servers.web1.disk.sda.used.bytes 9"
// matches both filters; "servers.*.disk" is more specific (a literal third
// element against none), so it becomes
// used_bytes{dc="fra",device="sda",host="web1"} at the receive time. The
// line "app.requests 3" matches no filter and takes the default template:
// app_requests{dc="fra"}. POST /api/v1/graphite/explain answers these
// steps for any path or line (Listener.Explain).
//
// # Listener
//
// New binds TCP and UDP (the same port, also when the port is 0); Run
// serves until its context is cancelled. Each TCP connection has its own
// goroutine, line buffer and batch; its points are written every
// graphite.batch_size points or graphite.batch_timeout after the first one
// waiting, when the connection ends, and earlier when others wait for
// graphite.max_inflight_bytes (see Memory). A bounded path -> series
// cache, shared by the connections, makes a known path cost one lookup and
// no allocation. UDP datagrams are each parsed whole, their last line with
// or without "\n", into one shared batch. Silent connections are closed after graphite.idle_timeout; a
// partial last line is parsed when the sender closes cleanly and counted as
// "truncated" otherwise.
// When the store is overloaded (tsdb.ErrOverloaded) a write is retried
// with growing pauses, which also slows the sender down through TCP, then
// dropped and counted; a *tsdb.PartialWriteError counts its dropped points
// by the reason of its first error.
//
// # Slow senders
//
// A connection holds a slot (a goroutine, a buffer, a file descriptor), so a
// sender that trickles bytes could hold slots without sending data: 1,100
// connections sending a byte a second once locked real senders out for 35
// of 40 s. Three rules keep slots for senders that deliver:
//
//   - graphite.min_rate (default 10 B/s) over graphite.min_rate_window
//     (default 10s): a connection in the middle of a line must deliver at
//     least min_rate × window bytes in each window, or it is closed
//     ("too_slow"). Only time inside a line is measured: real senders write
//     whole lines, so their lines complete within milliseconds, and silence
//     between lines, however long, is graphite.idle_timeout's business.
//     This is Apache's mod_reqtimeout MinRate applied to a line.
//   - graphite.max_connections (default 1000): when every slot is taken, a
//     new connection is served and the longest-idle open connection is
//     closed ("evicted"), where idle time counts delivered bytes: every
//     byte makes up for 1/min_rate s (never for time still to come), so a
//     connection's idle time is its age less what its bytes made up for.
//     One that never sends is idle since its accept; one trickling a byte a
//     second falls 0.9 s further behind each second; a sender whose batch
//     carries min_rate bytes per second since the previous one (ten 60-byte
//     lines a minute, at the default) is caught up after each batch.
//     Connections less than a second behind are never evicted, which
//     spares those just accepted; when every open connection is that
//     close, the new one is closed at once ("too_many_connections"). An
//     evicted connection's parsed lines are written; a partial line is
//     counted as "truncated".
//   - graphite.max_connections_per_source (default 0, no cap): at most
//     this many connections from one IP address; more are closed at once
//     ("too_many_from_source"). Off by default because many hosts may send
//     from one NAT address; set it where each host has its own.
//
// # Memory
//
// Admission comes before allocation (issue 8): what the connections and
// the UDP socket hold for what they received is bounded by one budget,
// graphite.max_inflight_bytes (32 MiB), which a stream takes from before
// it allocates and gives back once it no longer holds the memory:
//
//   - a read buffer: each connection reads into its own 1 KiB buffer, which
//     costs nothing of the budget, so a silent or trickling connection
//     holds nothing of it. When a read fills that buffer (the sender has
//     more) and the budget has room, it takes a 64 KiB buffer plus a 64 KiB
//     grant for its batch (without room it reads on in the small buffer);
//     when one incomplete line fills the buffer, it must grow: to 64 KiB,
//     then doubling up to graphite.max_line_bytes+1, each step charged
//     first. Once reads bring less than 1 KiB, what it holds moves back
//     into the small buffer and the big one is given back;
//   - its batch: the array, grown in steps (64, 128, ... up to batch_size
//     points of 64 bytes) each charged before it is allocated, and each
//     point's labels (32 bytes a label and their strings; labels shared
//     with the cache are charged to every point that holds them, an upper
//     bound of what the batch keeps alive);
//   - before a path that is not cached is mapped, a bound of what mapping
//     it allocates (the path's copy, one label per ";" and per template
//     tag, the joined template parts).
//
// A batch gives back its labels when it is written, and its array too when
// others wait; a stream holding some of the budget comes back from a read
// at least every 100 ms to do that when others wait. When the budget has
// no room, a stream writes its own batch first. If that is not enough a
// TCP connection waits for the budget, in turn and for at most 10 s,
// without reading its socket: the kernel's window closes and the sender
// slows down, nothing is dropped. Only if the wait fails (the budget stays
// full 10 s, the connection is evicted, or the listener stops) is the
// connection closed, its parsed lines written, and the lines it had read
// but not parsed counted (lines, "over_budget") with the connection
// (connections, "over_budget"). UDP cannot slow its senders: a datagram
// that finds less than a grant free, even after the socket's batch is
// written, is dropped and counted (datagrams, "over_budget"), and a line
// past that (lines, "over_budget"). Listener.Inflight reports the budget,
// its high-water mark and how many reservations waited.
//
// The worst case with the defaults, from the arithmetic:
//
//   - before: each of graphite.max_connections (1,000) connections kept a
//     64 KiB read buffer and, once it had filled a batch, the batch's array
//     (grown by append to 10,368 points × 64 B = 648 KiB), for its life:
//     1,000 × 712 KiB = 695 MiB, plus the labels of the batches' points
//     that were not cached (a batch of 10,000 new 100-byte paths: 10,000 ×
//     (the path's copy + one 32-byte label) = 1.3 MiB, so about 2 GiB in
//     all; with 64 KiB paths, 625 MiB a batch: nothing bounded it),
//     plus the series cache of 2^18 paths (about 50 MB, but 2^18 × 2 × 64
//     KiB = 32 GiB with the longest paths);
//   - now: graphite.max_inflight_bytes (32 MiB) for every read buffer past
//     the small one, every batch and every point's labels, TCP and UDP
//     together; outside it, per connection its 1 KiB buffer, its goroutine
//     and structures (about 7 KiB measured for an idle one, so 1,000 ×
//     8 KiB = 8 MiB), the UDP socket's 64 KiB buffer, and the series cache,
//     bounded by its byte limit (cacheBytes, 64 MiB; about 50 MB with
//     typical paths). Together about 32 + 8 + 64 = 104 MiB at most.
//
// graphite.max_inflight_bytes must hold what one line of
// graphite.max_line_bytes needs, for a connection and for UDP: 2 × (a
// buffer of the line, ten times the line for its labels, two grants), 1.6
// MiB with the default 64 KiB lines; Config.Validate says so.
//
// # Statistics
//
// Everything is counted in a collectors.Stats with protocol "graphite":
// samples written; rejected lines (parse, too_long, truncated,
// over_budget), samples (nan, overloaded, too_many_series, out_of_bounds,
// invalid_series, invalid_value, shutdown, store_error), connections
// (too_many_connections, too_many_from_source, evicted, too_slow,
// idle_timeout, over_budget) and datagrams (over_budget); bytes received;
// connections accepted (each UDP datagram counts as one).
//
// # Concurrency
//
// Parser is immutable and safe for concurrent use. Listener's Run may be
// called once; it returns after closing the sockets and every connection,
// writing the pending batches (bounded to 10 s), and waiting for every
// goroutine it started. Explain and Inflight are safe for concurrent use;
// Explain works on a disabled listener.
//
// # Imports
//
// outpost/tsdb, outpost/collectors and the standard library only.
package graphite
