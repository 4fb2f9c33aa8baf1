package tsdb

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
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
// up to writeQueueWait and then fails with ErrOverloaded.
const (
	maxConcurrentWrites = 64
	writeQueueWait      = 5 * time.Second
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

	// appendMu is held shared by each write from its WAL record to its
	// head append, and exclusively while the WAL is cut and epochs are
	// detached for flushing, so every record before the cut is in the head.
	appendMu sync.RWMutex
	// flushMu serialises flushes and retention.
	flushMu sync.Mutex

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
	if db.ix, err = openIndex(filepath.Join(dir, "index.db"), db.cfg.MaxSeries, db.logger); err != nil {
		return err
	}
	if db.parts, err = openPartitions(filepath.Join(dir, "parts"), db.now, db.logger); err != nil {
		return err
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
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	db.cancel()
	db.wg.Wait()
	for range maxConcurrentWrites { // wait for writes in flight
		db.writeSem <- struct{}{}
	}
	ferr := db.flush(context.Background(), db.head.allEpochs())
	if ferr != nil {
		db.logger.Error("flush on close", "err", ferr)
	}
	if err := db.closeFiles(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return ferr
}

// run is the background loop: seal idle epochs, apply retention.
func (db *DB) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := db.maintain(ctx); err != nil && ctx.Err() == nil {
			db.logger.Error("store maintenance", "err", err)
		}
	}
}

// maintain flushes epochs that are sealed (past their grace period and
// idle) or that the memory budget forces out, then applies retention.
func (db *DB) maintain(ctx context.Context) error {
	now := db.now()
	starts := db.head.sealable(now, db.cfg.EpochGrace, epochIdle, db.cfg.HeadMaxBytes)
	if err := db.flush(ctx, starts); err != nil {
		return err
	}
	return db.applyRetention()
}

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
