package influx

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"outpost/collectors"
	"outpost/tsdb"
)

// Options carries what a Handler needs besides its Writer.
type Options struct {
	// MaxBodyBytes caps a request body, before and after gzip decompression
	// (http.max_body_bytes); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLineBytes caps one line (influx.max_line_bytes); 0 means
	// DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxInflightBytes is the memory the write requests being served may
	// hold at once (influx.max_inflight_bytes); each reserves
	// RequestBytes(MaxLineBytes) of it before reading its body, and one
	// that finds too little left is answered 503 with Retry-After at once.
	// 0 means DefaultMaxInflightBytes; less than one request's reservation
	// means one request at a time.
	MaxInflightBytes int64
	// BatchPoints is how many points go to the Writer per call; 0 means
	// DefaultBatchPoints.
	BatchPoints int
	// Stats receives the counts (protocol "influx"); nil creates private ones.
	Stats *collectors.Stats
	// Logger receives the few logs (internal errors, rate-limited); nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock, the receive time of lines without a timestamp; nil
	// means time.Now.
	Now func() time.Time
	// Version is outpost's version, shown by /health and X-Outpost-Version.
	Version string
	// Health tells GET /health whether outpost can take writes: an error
	// (the store cannot append to its WAL, say) is answered 503 with the
	// error as the message. nil always passes.
	Health func() error
	// Warnings are what GET /health adds to its message while still
	// passing: things an operator should know that do not stop writes
	// (a damaged day file set aside, say). nil adds nothing.
	Warnings func() []string
	// Strings decides which string fields become _info series
	// (influx.string_fields; NewStringPolicy); nil means the policy of
	// DefaultConfig. One policy may serve several handlers and listeners.
	Strings *StringPolicy
}

// Handler serves the InfluxDB 1.x and 2.x write API, /ping, /health and the
// few /query statements Telegraf sends. It is safe for concurrent use.
type Handler struct {
	w     collectors.Writer
	opts  Options
	log   *slog.Logger
	stats *collectors.Stats

	// inflight is the memory budget of the write requests being served;
	// each reserves reserve bytes of it for its whole life.
	inflight budget
	reserve  int64
	window   int // bytes of a lineReader's window

	readers sync.Pool // *lineReader, each with its window
	gzips   sync.Pool // *gzip.Reader
	parsers sync.Pool // *Parser

	dbs databases // names for SHOW DATABASES

	lastLog    atomic.Int64  // unix ns of the last internal-error log
	suppressed atomic.Uint64 // internal errors not logged since
}

// New returns a Handler writing through w.
func New(w collectors.Writer, opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.BatchPoints <= 0 {
		opts.BatchPoints = DefaultBatchPoints
	}
	if opts.MaxInflightBytes <= 0 {
		opts.MaxInflightBytes = DefaultMaxInflightBytes
	}
	reserve := RequestBytes(opts.MaxLineBytes)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stats == nil {
		opts.Stats = collectors.NewStats("influx")
	}
	if opts.Strings == nil {
		opts.Strings = NewStringPolicy(DefaultConfig())
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		w:        w,
		opts:     opts,
		log:      log.With("component", "influx"),
		stats:    opts.Stats,
		inflight: budget{max: max(opts.MaxInflightBytes, reserve)},
		reserve:  reserve,
		window:   windowBytes(opts.MaxLineBytes),
		dbs:      databases{set: make(map[string]struct{})},
	}
}

// api tells the two write endpoints apart where they answer differently.
type api int

const (
	apiV1 api = iota
	apiV2
)

// Write serves POST /write (InfluxDB 1.x): query parameters db, rp
// (ignored), precision and u/p (authentication is a middleware's concern).
func (h *Handler) Write(w http.ResponseWriter, r *http.Request) {
	h.serveWrite(w, r, apiV1)
}

// WriteV2 serves POST /api/v2/write (InfluxDB 2.x): query parameters org
// (ignored), bucket (required, as InfluxDB 2 requires it: 404 "bucket not
// found" without it) and precision.
func (h *Handler) WriteV2(w http.ResponseWriter, r *http.Request) {
	h.serveWrite(w, r, apiV2)
}

// outcome sums what happened to one write request.
type outcome struct {
	written  int   // samples the Writer accepted
	bad      int   // lines the parser rejected
	rejected int   // samples the Writer rejected
	firstErr error // first parse error, else writeErr
	writeErr error // why the Writer rejected its first sample
	overload bool  // the Writer said ErrOverloaded
	unavail  bool  // the Writer said ErrUnavailable (the WAL cannot append)
	internal error // any other Writer error
	canceled bool  // the request's context ended during a Write
}

// serveWrite is the write path shared by both API versions: parameters,
// admission, body, ingest, answer.
func (h *Handler) serveWrite(w http.ResponseWriter, r *http.Request, v api) {
	h.setHeaders(w)
	q := r.URL.Query()
	var prec Precision
	var err error
	db := q.Get("db")
	if v == apiV2 {
		prec, err = parsePrecisionV2(q.Get("precision"))
		db = q.Get("bucket")
	} else {
		prec, err = parsePrecisionV1(q.Get("precision"))
	}
	if err != nil {
		h.fail(w, v, http.StatusBadRequest, err.Error())
		return
	}
	if v == apiV2 && db == "" {
		// InfluxDB 2 checks the bucket right after the precision, before
		// the body, and answers 404 with code "not found".
		h.stats.Reject("requests", "no_bucket", 1)
		h.fail(w, v, http.StatusNotFound, "bucket not found")
		return
	}
	// Admission before allocation: the request's memory is reserved before
	// a byte of its body is read, and refused at once when it does not fit.
	if !h.inflight.tryAcquire(h.reserve) {
		h.stats.Reject("requests", "overloaded", 1)
		answerEarly(w, r, func() { h.respondWrite(w, v, outcome{overload: true}) })
		return
	}
	answer, read := h.write(w, r, v, ParseOptions{DB: db, Precision: prec, Now: h.opts.Now(), Strings: h.opts.Strings})
	if !read {
		answerEarly(w, r, answer)
		return
	}
	answer()
}

// write reads the body and writes its points under the request's
// reservation of the in-flight budget, which it gives back. It returns the
// answer, and whether the body was read to its end.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, v api, po ParseOptions) (answer func(), read bool) {
	defer h.inflight.release(h.reserve)
	src, gz, done, err := h.openBody(w, r)
	if err != nil {
		return func() { h.failBody(w, v, err) }, false
	}
	defer done()
	lr := h.getReader()
	defer h.putReader(lr)
	lr.reset(src, gz, h.opts.MaxBodyBytes, h.opts.MaxLineBytes)
	// The batches of one request share one short wait for the store.
	ctx := tsdb.WithWriteWait(r.Context(), overloadWait)
	o := h.ingest(ctx, lr, po)
	h.stats.Bytes.Add(uint64(lr.read))
	if o.written > 0 && po.DB != "" {
		h.dbs.add(po.DB)
	}
	read, err = lr.eof && lr.err == nil, lr.err
	switch {
	case err != nil:
		return func() { h.failBody(w, v, err) }, false
	case lr.blank && v == apiV2: // as InfluxDB 2.x; 1.x answers 204
		return func() { h.fail(w, v, http.StatusBadRequest, "writing requires points") }, read
	}
	return func() { h.respondWrite(w, v, o) }, read
}

// ingest parses the body lr reads batch by batch and writes each batch
// before parsing the next but one, so memory stays bounded by two batches
// (and lr's window) whatever the body size.
func (h *Handler) ingest(ctx context.Context, lr *lineReader, po ParseOptions) outcome {
	p, _ := h.parsers.Get().(*Parser)
	if p == nil {
		p = new(Parser)
	}
	p.resetStream(lr, po)
	defer func() {
		p.release()
		h.parsers.Put(p)
	}()
	// Batch n is written while batch n+1 is parsed: a Write waits for its
	// WAL fdatasync, and the parser's arenas alternate (see Parser.Next).
	var o outcome
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	inflight := false
	for {
		pts := p.Next(h.opts.BatchPoints)
		if inflight {
			r := <-done
			inflight = false
			if h.fold(ctx, r.n, r.err, &o) {
				break
			}
		}
		if len(pts) == 0 {
			break
		}
		inflight = true
		go func() { done <- result{len(pts), h.w.Write(ctx, pts)} }()
	}
	if inflight {
		r := <-done
		h.fold(ctx, r.n, r.err, &o)
	}
	parseBad, longBad := p.Rejected()
	if parseBad > 0 {
		h.stats.Reject("lines", "parse", uint64(parseBad))
	}
	if longBad > 0 {
		h.stats.Reject("lines", "too_long", uint64(longBad))
	}
	p.StringsDropped(func(reason string, n int) { h.stats.Reject("samples", reason, uint64(n)) })
	o.bad = parseBad + longBad
	if o.firstErr = p.Err(); o.firstErr == nil {
		o.firstErr = o.writeErr
	}
	return o
}

// fold folds the Writer's answer for a batch of n points into o. It
// reports whether the request must stop (overload or internal error).
func (h *Handler) fold(ctx context.Context, n int, err error, o *outcome) bool {
	var pe *tsdb.PartialWriteError
	switch {
	case err == nil:
		o.written += n
		h.stats.Samples.Add(uint64(n))
	case errors.Is(err, tsdb.ErrOverloaded):
		h.stats.Reject("requests", "overloaded", 1)
		o.overload = true
		return true
	case errors.Is(err, tsdb.ErrUnavailable):
		h.stats.Reject("requests", "unavailable", 1)
		o.unavail = true
		return true
	case errors.As(err, &pe):
		dropped := min(max(pe.Dropped, 0), n)
		o.written += n - dropped
		o.rejected += dropped
		h.stats.Samples.Add(uint64(n - dropped))
		if dropped > 0 {
			h.stats.Reject("samples", collectors.DropReason(pe.First), uint64(dropped))
		}
		if o.writeErr == nil {
			o.writeErr = pe.First
			if pe.First == nil {
				o.writeErr = pe
			}
		}
	case ctx.Err() != nil:
		o.canceled = true // the client went away: nothing to log
		return true
	default:
		o.internal = err
		return true
	}
	return false
}

// getReader returns a pooled lineReader with its window.
func (h *Handler) getReader() *lineReader {
	if lr, ok := h.readers.Get().(*lineReader); ok {
		return lr
	}
	return &lineReader{buf: make([]byte, h.window)}
}

// putReader returns lr to the pool, dropping its reference to the body.
func (h *Handler) putReader(lr *lineReader) {
	lr.reset(nil, false, 0, 0)
	h.readers.Put(lr)
}

// logInternal logs a Writer failure at most once per 10 s, with the number
// of failures not logged in between.
func (h *Handler) logInternal(err error) {
	now := h.opts.Now().UnixNano()
	last := h.lastLog.Load()
	if now-last < int64(10*time.Second) || !h.lastLog.CompareAndSwap(last, now) {
		h.suppressed.Add(1)
		return
	}
	h.log.Error("write to store failed", "err", err, "suppressed", h.suppressed.Swap(0))
}

// gzipReader returns a pooled gzip reader reading src.
func (h *Handler) gzipReader(src io.Reader) (*gzip.Reader, error) {
	if zr, ok := h.gzips.Get().(*gzip.Reader); ok {
		if err := zr.Reset(src); err != nil {
			h.gzips.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(src)
}
