package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"outpost/tsdb/wal"
)

const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)

// Point is one sample of one series, as collectors hand it to Write.
type Point struct {
	Labels Labels
	T      int64 // milliseconds since the Unix epoch
	V      float64
	// Key, when not nil, identifies the series as its Labels do: points
	// with equal Keys have equal Labels. A collector builds it from its raw
	// input (the line-protocol series key, say), starting with a prefix of
	// its own so keys of different protocols never meet. Write then finds
	// the series with one hash of Key instead of hashing and comparing
	// every label. Write does not retain it.
	Key []byte
}

// Sample is one timestamped value.
type Sample struct {
	T int64 // milliseconds since the Unix epoch
	V float64
}

// Options carries what the store needs besides its Config.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests move it by hand.
	Now func() time.Time
	// MaintainEvery is how often the background loop seals idle epochs and
	// applies retention; 0 means every second.
	MaintainEvery time.Duration
}

// maxConcurrentWrites bounds the writes in flight; past it a write waits
// up to maxWriteWait (or what is left of its request's WithWriteWait
// budget) and then fails with ErrOverloaded.
const (
	maxConcurrentWrites = 64
	// epochIdle is how long an epoch past its grace period must go without
	// a write before it is sealed, so a burst of old data is flushed once.
	epochIdle = time.Minute
)

// DB is the time-series store. It is safe for concurrent use.
type DB struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	lock   *os.File // flock'ed LOCK file: one process per data directory

	ix    *index
	keys  keyCache
	wal   *wal.WAL
	head  *head
	parts *partitions
	tombs *tombstones // deletes, applied at read time (tombstone.go)

	// appendMu is held shared by each write from its WAL record to its
	// head append, and exclusively while the WAL is cut and epochs are
	// detached for flushing, so every record before the cut is in the head.
	appendMu sync.RWMutex
	// flushMu serialises flushes, retention, compactions and deletes.
	flushMu sync.Mutex

	// flushes, retention and compacts space and log the retries of the
	// background loop's tasks while they fail.
	flushes, retention, compacts retrier
	// compactLook is when the background loop last looked for day files
	// to compact; only its goroutine uses it. compactFailed holds, by day,
	// until when it leaves a day file whose compaction failed (flushMu).
	compactLook   time.Time
	compactFailed map[int64]time.Time
	// testHook, when set by a test, runs at each step of a compaction
	// (compact.go); an error it returns fails the compaction there.
	testHook func(step string) error

	stats statsCache // figures of flush buckets already counted (stats.go)
	ctr   counters   // running totals for WriteMetrics (metrics.go)

	writeSem chan struct{}
	closed   atomic.Bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Open opens (creating if needed) the store in cfg.Path, recovers it from
// its WAL, and starts the background loop that flushes and applies
// retention. Close stops it.
func Open(cfg Config, opts Options) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db := &DB{cfg: cfg, logger: opts.Logger, now: opts.Now, head: newHead(),
		writeSem: make(chan struct{}, maxConcurrentWrites)}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	if db.now == nil {
		db.now = time.Now
	}
	db.flushes = retrier{what: "flushing to day files", logger: db.logger}
	db.retention = retrier{what: "applying retention", logger: db.logger}
	db.compacts = retrier{what: "compacting day files", logger: db.logger}
	if err := db.open(); err != nil {
		db.closeFiles()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	db.cancel = cancel
	every := opts.MaintainEvery
	if every <= 0 {
		every = time.Second
	}
	db.wg.Go(func() { db.run(ctx, every) })
	return db, nil
}

func (db *DB) open() error {
	dir := db.cfg.Path
	for _, d := range []string{dir, filepath.Join(dir, "parts"), filepath.Join(dir, "wal")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	db.lock = lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("lock data directory %q (is another outpost using it?): %w", dir, err)
	}
	if err := db.openStorage(); err != nil { // index.db and parts/, damage set aside (damage.go)
		return err
	}
	db.tombs = newTombstones()
	if err := db.ix.loadTombstones(db.tombs); err != nil {
		return fmt.Errorf("load tombstones: %w", err)
	}
	if err := db.loadDayTombstones(); err != nil {
		return fmt.Errorf("load tombstones: %w", err)
	}
	if err := db.parts.dropBefore(db.retentionCutoff()); err != nil {
		return err
	}
	if db.wal, err = wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: db.logger, Compress: true}); err != nil {
		return fmt.Errorf("open WAL: %w", err)
	}
	return db.replay()
}

// closeFiles closes whatever open() got to, on a failed Open or in Close.
func (db *DB) closeFiles() error {
	var errs []error
	if db.wal != nil {
		errs = append(errs, db.wal.Close())
	}
	if db.parts != nil {
		errs = append(errs, db.parts.close())
	}
	if db.ix != nil {
		errs = append(errs, db.ix.close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Close stops the background loop, flushes every epoch still in memory to
// its partition (so the next start replays nothing) and closes the files.
// Writes that are in flight finish first.
//
// A flush that fails (a full disk) is logged at ERROR, saying what was not
// flushed, and is not Close's error: every acknowledged sample is in the WAL,
// whose segments are deleted only after a flush, so the next start replays
// it. Close returns an error only when closing a file fails.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	db.cancel()
	db.wg.Wait()
	for range maxConcurrentWrites { // wait for writes in flight
		db.writeSem <- struct{}{}
	}
	db.logUnflushed(db.flush(context.Background(), db.head.allEpochs()))
	if err := db.closeFiles(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// logUnflushed says, at ERROR, what Close could not flush (err is the
// flush's error) and where it is. While the WAL cannot append, the flush
// seals nothing and returns no error for it, so the outage is the reason.
func (db *DB) logUnflushed(err error) {
	db.head.mu.Lock()
	var starts []int64
	for s := range db.head.epochs {
		starts = append(starts, s)
	}
	for _, j := range db.head.flushing {
		starts = append(starts, j.start)
	}
	db.head.mu.Unlock()
	if len(starts) == 0 {
		if err != nil { // the flush was written; the WAL keeps segments it could have dropped
			db.logger.Error("flush on close", "err", err)
		}
		return
	}
	if err == nil {
		err = db.walOutage()
	}
	first, last, serr := db.wal.Segments()
	if serr != nil {
		db.logger.Error("flush on close failed and the WAL cannot be listed", "err", err, "wal_err", serr)
		return
	}
	epoch := func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
	db.logger.Error("closing with samples not flushed to day files; the WAL holds them and the next start replays them",
		"epochs", len(starts), "from", epoch(slices.Min(starts)), "to", epoch(slices.Max(starts)+epochMs),
		"head_bytes", db.head.bytes.Load(), "wal_segments", fmt.Sprintf("%d-%d", first, last), "err", err)
}

// run is the background loop: seal idle epochs, apply retention. Failures
// are logged by db.flushes and db.retention.
func (db *DB) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = db.maintain(ctx)
	}
}

// maintain flushes epochs that are sealed (past their grace period and
// idle) or that the memory budget forces out, applies retention, and
// compacts a day file that needs it (compact.go). A task that failed is
// retried only once its backoff has passed.
func (db *DB) maintain(ctx context.Context) error {
	var errs []error
	if db.flushes.due() {
		now := db.now()
		starts := db.head.sealable(now, db.cfg.EpochGrace, epochIdle, db.cfg.HeadMaxBytes)
		err := db.flush(ctx, starts)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		db.flushes.record(err)
		errs = append(errs, err)
	}
	if db.retention.due() {
		err := db.applyRetention()
		db.retention.record(err)
		errs = append(errs, err)
	}
	errs = append(errs, db.maybeCompact(ctx))
	return errors.Join(errs...)
}

// Health returns nil while the store takes writes and flushes them to day
// files, and otherwise an error saying what fails, why and since when:
// "write-ahead log cannot append: no space left on device (since
// 10:31:02)". While the WAL cannot append, writes fail with the same error,
// which matches ErrUnavailable; the store retries in the background and
// resumes by itself. After Close, Health returns ErrClosed.
func (db *DB) Health() error {
	if db.closed.Load() {
		return ErrClosed
	}
	werr, ferr := db.walOutage(), db.flushes.outage()
	switch {
	case werr != nil && ferr != nil:
		return fmt.Errorf("%w; %w", werr, ferr)
	case werr != nil:
		return werr
	case ferr != nil:
		return ferr
	}
	return nil
}

// walOutage returns nil while the WAL appends, else why it cannot, as an
// error matching ErrUnavailable.
func (db *DB) walOutage() error { return unavailable(db.wal.Err()) }

// unavailable returns the outage that err (from the WAL) reports, as an
// error matching ErrUnavailable, or nil when err reports none.
func unavailable(err error) error {
	var ae *wal.AppendError
	if !errors.As(err, &ae) {
		return nil
	}
	return &unavailableError{outage("write-ahead log cannot append", ae.Since, ae.Err)}
}

// unavailableError is why the store refuses writes for now. It matches
// ErrUnavailable and wraps the cause.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string        { return e.cause.Error() }
func (e *unavailableError) Unwrap() error        { return e.cause }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Flush writes every epoch held in memory to its partition now, including
// the open ones. Queries see the same data before and after.
func (db *DB) Flush(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return db.flush(ctx, db.head.allEpochs())
}

func (db *DB) retentionCutoff() int64 {
	return db.now().Add(-db.cfg.Retention).UnixMilli()
}

// applyRetention deletes the day files wholly older than the retention
// period, and drops in-memory epochs as old.
func (db *DB) applyRetention() error {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	cutoff := db.retentionCutoff()
	db.head.dropBefore(cutoff)
	return db.parts.dropBefore(cutoff)
}

// NumSeries returns how many series the store knows.
func (db *DB) NumSeries() int { return db.ix.numSeries() }
