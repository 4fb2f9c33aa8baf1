// Package promrw is Prometheus remote write, in and out. In, it takes
// samples from other monitoring systems over
// HTTP: Prometheus remote write 1.0 on POST /api/v1/write (what
// Prometheus' remote_write, vmagent's -remoteWrite.url and Grafana Alloy
// send) and VictoriaMetrics' JSON lines on POST /api/v1/import (what
// /api/v1/export writes, so that `outpost export | outpost import` and
// vmctl work). It hands the samples to the store through
// collectors.Writer. Out, a Forwarder sends a copy of what outpost
// ingests to remote write targets (VictoriaMetrics, Mimir, Thanos
// Receive, Prometheus) through an on-disk queue per target (see
// # Forwarding).
//
// # Types
//
// Handler serves both endpoints; main mounts its methods Write and Import
// in the route table (role write), with Refuse as their ui.Refuser. Config
// holds the "promrw." keys (promrw.max_decoded_bytes,
// promrw.max_inflight_bytes, promrw.import_max_line_bytes); the wire limit
// of a body comes from http.max_body_bytes through Options.MaxBodyBytes.
// Request and TimeSeries read a decoded WriteRequest in place (a
// hand-written protobuf wire reader: no generated code, no protobuf
// runtime); ParseImportLine reads one JSON line; Normalize checks and
// sorts a series' labels.
//
// # What is stored
//
// Remote write: every float sample of every series, its labels as sent
// (sorted when they are not; a label with an empty value is dropped, as
// Prometheus treats it as absent), its value bit for bit: a staleness
// marker (NaN 0x7ff0000000000002) stays one, so queries see series end
// where Prometheus ended them. Metadata (types, help texts) is passed over.
// Exemplars are passed over and counted (exemplars:unsupported). Native
// histograms (remote write 1.0's extension) are not stored: the series'
// float samples are, the histogram samples are counted and the answer is
// 400 naming the series (Prometheus sends them only with the
// native-histograms feature on).
//
// Import: each line {"metric":{...},"values":[...],"timestamps":[...]}
// gives one sample per value, at the timestamp of the same index
// (milliseconds). Values are JSON numbers or strings strconv.ParseFloat
// reads ("NaN", "+Inf", "-Inf", as export writes them). Export writes
// every NaN as "NaN", so a staleness marker comes back as a plain NaN: use
// remote write to move staleness markers. Keys other than metric, values
// and timestamps are skipped.
//
// Labels are checked as Normalize says: a metric name, names that are not
// empty and hold no control character and are not given twice, at most
// MaxLabels labels, valid UTF-8 everywhere. Names are otherwise free
// UTF-8, as Prometheus 3 allows. A series that fails is dropped with its
// samples; the others are written.
//
// # Responses
//
// Errors are plain text (Content-Type: text/plain), as Prometheus answers
// remote write. Remote write senders retry on 5xx and 429 and drop the
// batch on other 4xx, so overload is never a 4xx.
//
//	situation                                   answer
//	every sample written                        204
//	a series with bad labels or histograms,     400 "<first problem, naming the series>;
//	  or samples the store refused (outside       wrote W samples, dropped N samples"
//	  retention, past storage.max_series):        (the others are written)
//	import: bad lines (syntax, too long)        400 "line L "<start>": <why>; wrote W samples,
//	                                              dropped N samples and B lines"
//	malformed protobuf, invalid snappy or gzip  400 (remote write: nothing written)
//	Content-Encoding or Content-Type not read   415 (remote write 2.0 included: its senders
//	                                              fall back to 1.0)
//	body over http.max_body_bytes; remote       413
//	  write over promrw.max_decoded_bytes
//	  (from snappy's header, before decoding)
//	no room in promrw.max_inflight_bytes, or    503 + Retry-After: 1
//	  the store overloaded
//	the store cannot append its WAL             503 + Retry-After: 5
//	any other store error                       500 "internal error"
//
// A series is named by where it is ("series 3": its 0-based index in the
// WriteRequest; "line 12" in an import body) and its labels. An import
// stopped midway (503, 413, a broken gzip stream, the client gone) says
// after which line and how much it wrote, so that it can be resumed; what
// it wrote stays written, and writing it again changes nothing (same
// series, same millisecond: the last write wins).
//
// # Limits and memory
//
// Admission comes before allocation (issue 8), with one budget,
// promrw.max_inflight_bytes, for both endpoints; a request that does not
// fit is answered 503 at once, never made to wait. A remote write request
// reserves its Content-Length and one batch (batchReserve, 2.3 MiB) before
// it reads its body (a body of unknown length grows its buffer by
// doubling, reserving each step first), then the decompressed length that
// snappy's header announces, checked against promrw.max_decoded_bytes
// before anything is decompressed; the compressed body is given back once
// decompressed. Snappy's block format must be held whole, so the
// decompressed request is; label strings point into it rather than being
// copied, and it is not reused until every Write of the request has
// returned. The whole request is checked before anything is written, so a
// malformed one writes nothing. An import request reserves
// ImportRequestBytes (8.4 MiB with 4 MiB lines) and reads its body line by
// line into a window of promrw.import_max_line_bytes: a longer line is
// dropped (too_long) without being held; a line holds at most
// MaxLineSamples samples. Points go to the Writer in batches of
// Options.BatchPoints (5,000) or 1 MiB; the batches of one request share
// one wait of at most a second for a store write slot
// (tsdb.WithWriteWait), then the request is answered 503.
//
// # Counts
//
// Options.WriteStats (protocol "promrw") and Options.ImportStats
// ("vmimport") count samples written, body bytes (decompressed) and
// rejections: samples:invalid_series (series with bad labels),
// samples:histogram, samples:<reason> for samples the store dropped
// (collectors.DropReason), exemplars:unsupported, lines:parse,
// lines:too_long, requests:overloaded, requests:unavailable,
// requests:too_large and requests:bad_body. Bad input is never logged;
// store failures are logged at most once per 10 s.
//
// # Concurrency
//
// Handler is safe for concurrent use; its budget and its pools (buffers,
// batches, line readers) are its only shared state. The package keeps no
// package-level mutable state.
//
// # Forwarding
//
// The "forward" section lists targets (ForwardConfig, TargetConfig:
// name, url, match, external_labels, bearer_token, basic_auth, timeout,
// max_samples_per_send, max_queue_bytes, flush_interval). main puts
// Forwarder.Tap between every collector and the store: after the store
// accepted a write (or part of it: the store does not say which points it
// refused, so a partial write is forwarded whole), its points are encoded
// as remote write timeseries (forward_encode.go), filtered by each
// target's match selectors, given the target's external labels (a
// series' own label of the same name wins, as in Prometheus), and
// appended to the target's Queue before the ingest request is answered.
// write_relabel_configs are not supported.
//
// A Queue (queue.go, queue_segment.go: the on-disk layout) lives in
// <storage.path>/forward/<name>/: segment files of CRC-checked records and
// a cursor. Records are written with write(2) at once and fsync'd every
// second and at Close: kill -9 loses nothing (the page cache keeps the
// bytes), a power loss or kernel crash at most the last second. Past
// max_queue_bytes the oldest segment is dropped, counted and logged, so an
// outage cannot fill the disk. A torn or damaged record ends its segment.
//
// One sender per target reads up to max_samples_per_send samples (a
// batch smaller than that waits up to flush_interval for more), sends them
// snappy-compressed with remote write 1.0's headers, and moves the cursor
// only after a 2xx: 5xx, 429 and network errors are retried with
// exponential backoff (250 ms to 30 s, jittered, or the target's
// Retry-After when longer); other 4xx drop the batch with a count. The
// cursor is written after every acknowledged send, so a restart sends
// again at most the batch in flight (VictoriaMetrics and Prometheus keep
// one sample per series and timestamp). Requests carry
// X-Outpost-Forwarded: an outpost receiving one stores it but does not
// forward it again, so outposts forwarding to each other never loop.
// WriteMetrics writes outpost_forward_* per target for GET /metrics.
//
// # Imports
//
// outpost/tsdb, outpost/collectors, github.com/golang/snappy and
// github.com/klauspost/compress/gzip only.
package promrw
