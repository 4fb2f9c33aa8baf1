package influx

import (
	"bytes"
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
}

// Handler serves the InfluxDB 1.x and 2.x write API, /ping, /health and the
// few /query statements Telegraf sends. It is safe for concurrent use.
type Handler struct {
	w     collectors.Writer
	opts  Options
	log   *slog.Logger
	stats *collectors.Stats

	bufs    sync.Pool // *bytes.Buffer request bodies
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stats == nil {
		opts.Stats = collectors.NewStats("influx")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		w:     w,
		opts:  opts,
		log:   log.With("component", "influx"),
		stats: opts.Stats,
		dbs:   databases{set: make(map[string]struct{})},
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
// (ignored), bucket and precision.
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
	internal error // any other Writer error
	canceled bool  // the request's context ended during a Write
}

// serveWrite is the write path shared by both API versions: parameters,
// body, ingest, answer.
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
	buf := h.getBuf()
	defer h.putBuf(buf)
	if err := h.readBody(w, r, buf); err != nil {
		h.failBody(w, v, err)
		return
	}
	body := buf.Bytes()
	h.stats.Bytes.Add(uint64(len(body)))
	if len(bytes.TrimSpace(body)) == 0 {
		if v == apiV2 { // as InfluxDB 2.x; 1.x answers 204
			h.fail(w, v, http.StatusBadRequest, "writing requires points")
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	o := h.ingest(r.Context(), body, ParseOptions{DB: db, Precision: prec, Now: h.opts.Now()})
	if o.written > 0 && db != "" {
		h.dbs.add(db)
	}
	h.respondWrite(w, v, o)
}

// ingest parses body batch by batch and writes each batch before parsing
// the next, so memory stays bounded by BatchPoints whatever the body size.
func (h *Handler) ingest(ctx context.Context, body []byte, po ParseOptions) outcome {
	po.MaxLineBytes = h.opts.MaxLineBytes
	p, _ := h.parsers.Get().(*Parser)
	if p == nil {
		p = new(Parser)
	}
	p.Reset(body, po)
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

// getBuf returns an empty pooled body buffer.
func (h *Handler) getBuf() *bytes.Buffer {
	if b, ok := h.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBuf returns b to the pool unless it grew past 4 MiB, so that one huge
// request does not pin its memory.
func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return
	}
	b.Reset()
	h.bufs.Put(b)
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
