package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Defaults for the zero fields of Options.
const (
	// DefaultSegmentSize is the segment size when Options.SegmentSize is 0.
	DefaultSegmentSize = 64 << 20
	// DefaultMaxPendingBytes is the queue bound when Options.MaxPendingBytes is 0.
	DefaultMaxPendingBytes = 8 << 20
)

// Options tunes a WAL. The zero value is usable.
type Options struct {
	// SegmentSize is the size past which the writer starts a new segment
	// instead of appending. 0 means DefaultSegmentSize.
	SegmentSize int64
	// Logger receives recovery warnings and errors; nil discards them.
	Logger *slog.Logger
	// Compress snappy-compresses each record of 64 bytes or more whose
	// compressed form is smaller.
	Compress bool
	// MaxPendingBytes bounds the framed bytes queued for the next commit;
	// Log blocks while a call would exceed it (a call alone may). Up to twice
	// this much is in memory while one commit is being written. 0 means
	// DefaultMaxPendingBytes.
	MaxPendingBytes int
}

// withDefaults validates o and fills its zero fields.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.SegmentSize < 0:
		return o, fmt.Errorf("segment size %d: %w", o.SegmentSize, ErrInvalidOptions)
	case o.MaxPendingBytes < 0:
		return o, fmt.Errorf("max pending bytes %d: %w", o.MaxPendingBytes, ErrInvalidOptions)
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// WAL is an open write-ahead log directory. It is safe for concurrent use;
// see the package documentation for the contract of each method.
type WAL struct {
	dir   string
	opts  Options
	start int // first segment this WAL writes; Replay reads the ones below
	// startHeader is the header of segment start: it records the size of
	// the segment before it, as Open left it.
	startHeader segmentHeader

	size  atomic.Int64 // bytes in segment files
	syncs atomic.Int64 // successful fdatasync calls (Counters, benchmarks)
	// written and calls are the bytes written to segments and the Log
	// calls made durable, ever (Counters).
	written, calls atomic.Int64

	wake  chan struct{} // cap 1: something was queued, or Close ran
	wg    sync.WaitGroup
	hooks hooks // for tests; zero in production

	encoders sync.Pool // *encoder
	waiters  sync.Pool // *waiter

	// fileMu serialises Replay and Truncate, so that Truncate never deletes a
	// segment Replay is reading.
	fileMu sync.Mutex

	mu          sync.Mutex    // guards the fields below
	pend        []byte        // framed records queued for the next commit
	reqs        []pendingReq  // the calls (and cuts) in pend, in order
	space       chan struct{} // closed when the writer drains pend (if spaceWanted), or on Close
	spaceWanted bool          // a Log waits on space
	closed      bool          // Close has been called
	err         *AppendError  // why the WAL cannot append, nil while it can; set and cleared by the writer
	cur         int           // current segment number; written by the writer only
	spareBuf    []byte        // the writer's previous pend, for reuse
	spareReqs   []pendingReq  // the writer's previous reqs, for reuse

	// Owned by the writer goroutine, and by Close after it has stopped.
	f       *os.File // current segment; after a failure the failed one, nil once recover has dropped it
	segSize int64    // bytes in f, its header included
	synced  int64    // bytes of f made durable by fdatasync; a failure drops the rest
	retry   retryState
}

// hooks are test hooks, all nil in production.
type hooks struct {
	// beforeCommit is run by the writer before each commit.
	beforeCommit func()
	// fault, when it returns an error, makes file operation op fail with
	// it: "write" (after writing half), "sync", "create" or "probe".
	fault func(op string) error
}

// inject returns the error the fault hook injects into op, or nil.
func (w *WAL) inject(op string) error {
	if w.hooks.fault == nil {
		return nil
	}
	return w.hooks.fault(op)
}

// Open opens the WAL in dir, creating dir if needed. It cuts a torn tail off
// the last segment that holds any bytes (logged at WARN), then starts a new
// segment numbered after the last existing one (or 1), whose header records
// the size of that last one, and never appends to an older one. Call Replay
// to read what earlier processes wrote.
func Open(dir string, opts Options) (*WAL, error) {
	return openWAL(dir, opts, hooks{})
}

// openWAL is Open with test hooks.
func openWAL(dir string, opts Options, hk hooks) (*WAL, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open wal %q: %w", dir, err)
	}
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("open wal: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, probeName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open wal: remove stale probe: %w", err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, fmt.Errorf("open wal: %w", err)
	}
	if tail := lastNonEmpty(segs); tail >= 0 {
		if segs[tail].size, err = repairTail(dir, segs[tail], opts.Logger); err != nil {
			return nil, fmt.Errorf("open wal %q: %w", dir, err)
		}
	}
	h := segmentHeader{seg: 1}
	var total int64
	for _, s := range segs {
		total += s.size
		h = segmentHeader{seg: s.n + 1, prevSeg: s.n, prevSize: s.size}
	}
	f, err := createSegment(dir, h)
	if err != nil {
		return nil, fmt.Errorf("open wal: %w", err)
	}
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open wal: new segment %q: %w", f.Name(), err)
	}
	w := &WAL{
		dir:         dir,
		opts:        opts,
		start:       h.seg,
		startHeader: h,
		wake:        make(chan struct{}, 1),
		hooks:       hk,
		space:       make(chan struct{}),
		cur:         h.seg,
		f:           f,
		segSize:     segmentHeaderSize,
		synced:      segmentHeaderSize,
	}
	w.size.Store(total + segmentHeaderSize)
	w.encoders.New = func() any { return new(encoder) }
	w.waiters.New = func() any { return &waiter{done: make(chan struct{}, 1)} }
	w.wg.Go(w.run)
	return w, nil
}

// lastNonEmpty returns the index of the last of segs that holds any bytes,
// or -1. An empty segment is one whose creation a crash interrupted (or one
// of the headerless format that was never written).
func lastNonEmpty(segs []segmentFile) int {
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].size > 0 {
			return i
		}
	}
	return -1
}

// makeDir creates dir if it is missing and then fsyncs its parent, so that
// the directory itself survives a crash.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// Close commits what is queued, stops the writer goroutine, waits for it and
// closes the current segment. Logs blocked on a full queue return ErrClosed.
// Closing twice is a no-op.
//
// A WAL that cannot append (see Err) closes without an error: every record
// it acknowledged is on disk. Close drops the unsynced tail of the failed
// segment, as recovery would have, so that what is on disk is what was
// acknowledged (plus, when that fails, records whose Log failed: Replay
// returns them, which is harmless).
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.space)
	w.mu.Unlock()
	w.kick()
	w.wg.Wait()

	if w.f == nil {
		return nil
	}
	if w.retry.failing {
		w.dropUnsynced()
		return nil
	}
	// Every commit was fdatasync'd before its Log returned; nothing to sync.
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close wal %q: close segment: %w", w.dir, err)
	}
	return nil
}

// Err returns nil while the WAL appends, and an *AppendError saying why and
// since when while it cannot (Log and Cut then fail at once with it).
func (w *WAL) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return nil
	}
	return w.err
}

// usableLocked returns why the WAL takes no more writes, or nil. w.mu is held.
func (w *WAL) usableLocked() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	return nil
}

// Segments returns the numbers of the first and last segment files in the
// directory. The last is the current segment.
func (w *WAL) Segments() (first, last int, err error) {
	w.mu.Lock()
	closed, cur := w.closed, w.cur
	w.mu.Unlock()
	if closed {
		return 0, 0, ErrClosed
	}
	segs, err := listSegments(w.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("wal segments: %w", err)
	}
	if len(segs) == 0 {
		return cur, cur, nil
	}
	return segs[0].n, max(segs[len(segs)-1].n, cur), nil
}

// Truncate deletes every segment numbered below before, oldest first, and
// never the current segment. Use it once the records of those segments are
// persisted elsewhere. It waits for a running Replay.
func (w *WAL) Truncate(before int) error {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	w.mu.Lock()
	closed, cur := w.closed, w.cur
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	before = min(before, cur)
	segs, err := listSegments(w.dir)
	if err != nil {
		return fmt.Errorf("truncate wal: %w", err)
	}
	removed := 0
	var errs []error
	for _, s := range segs {
		if s.n >= before {
			break
		}
		p := segmentPath(w.dir, s.n)
		if err := os.Remove(p); err != nil {
			// Stop at the first failure so that the files left stay a
			// contiguous run of the newest segments.
			errs = append(errs, fmt.Errorf("remove segment: %w", err))
			break
		}
		w.size.Add(-s.size)
		removed++
	}
	if removed > 0 {
		if err := syncDir(w.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("truncate wal %q before %d: %w", w.dir, before, err)
	}
	return nil
}

// Counters are the WAL's running totals since Open, for /metrics.
type Counters struct {
	// Syncs is the successful fdatasyncs of segments; Calls the Log calls
	// they made durable (Calls/Syncs is the mean group-commit size).
	Syncs, Calls int64
	// Bytes is what was written to segments (frames, not headers).
	Bytes int64
}

// Counters returns the running totals. Safe for concurrent use.
func (w *WAL) Counters() Counters {
	return Counters{Syncs: w.syncs.Load(), Calls: w.calls.Load(), Bytes: w.written.Load()}
}

// Size returns the bytes in the WAL's segment files, for status pages.
func (w *WAL) Size() int64 {
	return w.size.Load()
}
