package promrw

import (
	"bufio"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// Options carries what a Handler needs besides its Writer and Config.
type Options struct {
	// MaxBodyBytes caps a request body on the wire (http.max_body_bytes);
	// 0 means DefaultMaxBodyBytes. A remote write body is also capped at
	// what max_decoded_bytes compresses to at worst.
	MaxBodyBytes int64
	// BatchPoints is how many points go to the Writer per call; 0 means
	// DefaultBatchPoints.
	BatchPoints int
	// WriteStats receives the counts of POST /api/v1/write (protocol
	// "promrw"); nil creates private ones.
	WriteStats *collectors.Stats
	// ImportStats receives the counts of POST /api/v1/import (protocol
	// "vmimport"); nil creates private ones.
	ImportStats *collectors.Stats
	// Logger receives the few logs (store failures, rate-limited); nil
	// discards them.
	Logger *slog.Logger
}

// Handler serves POST /api/v1/write (Prometheus remote write 1.0) and POST
// /api/v1/import (VictoriaMetrics' JSON lines). It is safe for concurrent
// use.
type Handler struct {
	w    collectors.Writer
	cfg  Config
	opts Options
	log  *slog.Logger

	rwStats, imStats *collectors.Stats

	// inflight is the memory budget of the requests being served: each
	// reserves what it will hold before it allocates it, and gives it back
	// when done.
	inflight *collectors.Budget

	bufs    sync.Pool // *[]byte: bodies, compressed and not
	batches sync.Pool // *batch
	readers sync.Pool // *bufio.Reader of ImportMaxLineBytes, for import bodies
	lines   sync.Pool // *ImportLine

	lastLog    atomic.Int64  // unix ns of the last store-failure log
	suppressed atomic.Uint64 // store failures not logged since
}

// New returns a Handler writing through w. Zero fields of cfg take their
// defaults.
func New(w collectors.Writer, cfg Config, opts Options) *Handler {
	def := DefaultConfig()
	if cfg.MaxDecodedBytes <= 0 {
		cfg.MaxDecodedBytes = def.MaxDecodedBytes
	}
	if cfg.ImportMaxLineBytes <= 0 {
		cfg.ImportMaxLineBytes = def.ImportMaxLineBytes
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = def.MaxInflightBytes
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.BatchPoints <= 0 {
		opts.BatchPoints = DefaultBatchPoints
	}
	if opts.WriteStats == nil {
		opts.WriteStats = collectors.NewStats("promrw")
	}
	if opts.ImportStats == nil {
		opts.ImportStats = collectors.NewStats("vmimport")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		w:        w,
		cfg:      cfg,
		opts:     opts,
		log:      log.With("component", "promrw"),
		rwStats:  opts.WriteStats,
		imStats:  opts.ImportStats,
		inflight: collectors.NewBudget(cfg.MaxInflightBytes),
	}
}

// Stats returns the counts of remote write ("promrw") and of import
// ("vmimport"), for GET /metrics and outpost's own series.
func (h *Handler) Stats() []*collectors.Stats {
	return []*collectors.Stats{h.rwStats, h.imStats}
}

// Usage returns a snapshot of the in-flight budget.
func (h *Handler) Usage() collectors.BudgetUsage { return h.inflight.Usage() }

// maxPooledBuf is the largest body buffer kept for reuse: a rare large
// request does not leave its buffers behind.
const maxPooledBuf = 4 << 20

// getBuf returns a buffer of length n, pooled when one is large enough.
func (h *Handler) getBuf(n int) []byte {
	if p, ok := h.bufs.Get().(*[]byte); ok {
		if cap(*p) >= n {
			return (*p)[:n]
		}
		h.bufs.Put(p)
	}
	return make([]byte, n)
}

// putBuf gives b back for reuse; nothing may use it afterwards.
func (h *Handler) putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf {
		return
	}
	b = b[:0]
	h.bufs.Put(&b)
}

// getBatch returns an empty pooled batch.
func (h *Handler) getBatch() *batch {
	if b, ok := h.batches.Get().(*batch); ok {
		return b
	}
	return &batch{pts: make([]tsdb.Point, 0, h.opts.BatchPoints), max: h.opts.BatchPoints}
}

// putBatch empties b and gives it back for reuse.
func (h *Handler) putBatch(b *batch) {
	b.reset()
	h.batches.Put(b)
}

// getReader returns a pooled line reader of an import body.
func (h *Handler) getReader() *bufio.Reader {
	if br, ok := h.readers.Get().(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(nil, h.cfg.ImportMaxLineBytes)
}

// putReader gives br back for reuse, dropping its source.
func (h *Handler) putReader(br *bufio.Reader) {
	br.Reset(nil)
	h.readers.Put(br)
}

// logStore logs a store failure at most once per 10 s, with the number of
// failures not logged in between.
func (h *Handler) logStore(err error) {
	now := time.Now().UnixNano()
	last := h.lastLog.Load()
	if now-last < int64(10*time.Second) || !h.lastLog.CompareAndSwap(last, now) {
		h.suppressed.Add(1)
		return
	}
	h.log.Error("write to store failed", "err", err, "suppressed", h.suppressed.Swap(0))
}
