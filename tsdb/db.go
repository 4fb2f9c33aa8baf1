package tsdb

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Point is one sample of one series, as collectors hand it to Write.
type Point struct {
	Labels Labels
	T      int64 // milliseconds since the Unix epoch
	V      float64
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
}

// DB is the time-series store. It is safe for concurrent use.
type DB struct {
	cfg  Config
	opts Options
}

var errTODO = errors.New("tsdb: under construction")

// Open opens (creating if needed) the store in cfg.Path and recovers it.
func Open(cfg Config, opts Options) (*DB, error) { return nil, errTODO }

// Close flushes and closes the store.
func (db *DB) Close() error { return errTODO }

// Write stores pts durably; see collectors.Writer for the contract.
func (db *DB) Write(ctx context.Context, pts []Point) error { return errTODO }
