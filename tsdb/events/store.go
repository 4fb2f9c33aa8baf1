package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures a Store.
type Options struct {
	// IndexFields are dotted paths indexed besides source, detail-type and
	// host (see the package comment).
	IndexFields []string
	// Retention is how long events are kept (storage.retention); 0 keeps
	// them forever.
	Retention time.Duration
	// MaxFuture is how far ahead of Now an event's time may lie; 0 means
	// one hour.
	MaxFuture time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives retention and damage reports; nil discards them.
	Logger *slog.Logger
}

// DefaultIndexFields are always indexed.
var DefaultIndexFields = []string{"source", "detail-type", "host"}

// Store is the event store over one directory of day files.
type Store struct {
	dir     string
	opts    Options
	log     *slog.Logger
	indexed map[string]bool
	names   []string // indexed paths

	// Corrupt counts records that failed their CRC in searches.
	Corrupt atomic.Uint64

	mu     sync.RWMutex // guards days and closed; held shared while a day's *bolt.DB is used
	days   map[int64]*bolt.DB
	closed bool
}

var (
	bucketEvents = []byte("events")
	bucketIDs    = []byte("ids")
	bucketIdx    = []byte("idx")
	bucketMeta   = []byte("meta")
)

// Open opens (creating it if needed) the store in dir. Day files are
// opened when first used.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create events directory: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxFuture == 0 {
		opts.MaxFuture = time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{dir: dir, opts: opts, log: log.With("component", "events"), indexed: map[string]bool{}, days: map[int64]*bolt.DB{}}
	for _, f := range append(slices.Clone(DefaultIndexFields), opts.IndexFields...) {
		if !s.indexed[f] {
			s.indexed[f] = true
			s.names = append(s.names, f)
		}
	}
	return s, nil
}

// Close closes every open day file. Appends and searches in progress
// finish first; later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for d, db := range s.days {
		if err := db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close events day file %s: %w", dayName(d), err))
		}
	}
	s.days = nil
	return errors.Join(errs...)
}

// CheckTime returns an error matching ErrOutOfBounds when t is older than
// the retention or too far ahead.
func (s *Store) CheckTime(t time.Time) error {
	now := s.opts.Now()
	if s.opts.Retention > 0 && t.Before(now.Add(-s.opts.Retention)) {
		return fmt.Errorf("%w: %s is older than the retention (%s)", ErrOutOfBounds, t.UTC().Format(time.RFC3339), s.opts.Retention)
	}
	if t.After(now.Add(s.opts.MaxFuture)) {
		return fmt.Errorf("%w: %s is more than %s ahead", ErrOutOfBounds, t.UTC().Format(time.RFC3339), s.opts.MaxFuture)
	}
	return nil
}

// open makes sure day d's file is open (creating it when create is
// set); it reports whether the file exists. The caller holds no lock;
// it then looks the file up with s.days under s.mu shared.
func (s *Store) open(d int64, create bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	if s.days[d] != nil {
		return true, nil
	}
	path := filepath.Join(s.dir, dayName(d))
	if !create {
		if _, err := os.Stat(path); err != nil {
			return false, nil
		}
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return false, fmt.Errorf("open events day file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvents, bucketIDs, bucketIdx, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put([]byte("format"), []byte{1})
	})
	if err != nil {
		db.Close()
		return false, fmt.Errorf("initialise events day file %s: %w", path, err)
	}
	// A lone append waits this long for others to share its commit.
	db.MaxBatchDelay = 2 * time.Millisecond
	s.days[d] = db
	return true, nil
}

// use runs fn with day d's open file under s.mu shared; fn gets nil
// when the file is not open (expired meanwhile).
func (s *Store) use(d int64, fn func(db *bolt.DB) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return fn(s.days[d])
}

// dayList returns the days that have a file, ascending.
func (s *Store) dayList() ([]int64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list events directory: %w", err)
	}
	var out []int64
	for _, e := range ents {
		t, err := time.Parse("2006-01-02.db", e.Name())
		if err != nil || e.IsDir() {
			continue
		}
		out = append(out, dayOf(t.UnixNano()))
	}
	slices.Sort(out)
	return out, nil
}

// CopyTo writes a consistent copy of every day file into dir (created),
// each through a read transaction while appends go on: a snapshot holds
// the events committed before its day's copy began.
func (s *Store) CopyTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	days, err := s.dayList()
	if err != nil {
		return err
	}
	for _, d := range days {
		if ok, err := s.open(d, false); err != nil || !ok {
			if err != nil {
				return err
			}
			continue // expired meanwhile
		}
		dst := filepath.Join(dir, dayName(d))
		err := s.use(d, func(db *bolt.DB) error {
			if db == nil {
				return nil
			}
			if err := db.View(func(tx *bolt.Tx) error { return tx.CopyFile(dst, 0o644) }); err != nil {
				return err
			}
			return syncPath(dst)
		})
		if err != nil {
			return fmt.Errorf("copy events day file %s: %w", dayName(d), err)
		}
	}
	return nil
}

// syncPath fsyncs the file at path.
func syncPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Run deletes expired day files once an hour (and once at start) until
// ctx ends. It returns nil when ctx ends.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.ApplyRetention(); err != nil {
			s.log.Error("events retention failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ApplyRetention deletes the day files whose whole day is older than the
// retention.
func (s *Store) ApplyRetention() error {
	if s.opts.Retention <= 0 {
		return nil
	}
	days, err := s.dayList()
	if err != nil {
		return err
	}
	limit := dayOf(s.opts.Now().Add(-s.opts.Retention).UnixNano()) // the oldest day still (partly) kept
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	var errs []error
	for _, d := range days {
		if d >= limit {
			break
		}
		if db := s.days[d]; db != nil {
			db.Close()
			delete(s.days, d)
		}
		if err := os.Remove(filepath.Join(s.dir, dayName(d))); err != nil {
			errs = append(errs, fmt.Errorf("delete expired events day file: %w", err))
			continue
		}
		s.log.Info("expired events day file deleted", "file", dayName(d))
	}
	return errors.Join(errs...)
}
