package tsdb

import (
	"fmt"
	"time"
)

// Config is the store's part of outpost's configuration (key "storage").
type Config struct {
	// Path is the data directory: wal/, parts/ and index.db live below it.
	Path string `koanf:"path"`
	// Retention is how long samples are kept; whole days past it are deleted.
	Retention time.Duration `koanf:"retention"`
	// MaxSeries caps the number of series (0: no cap). A point that would
	// create one more series is rejected with ErrTooManySeries.
	MaxSeries int `koanf:"max_series"`
	// MaxFuture is how far past the current time a timestamp may lie.
	MaxFuture time.Duration `koanf:"max_future"`
	// EpochGrace is how long an epoch stays open in memory after its hour has
	// passed, for samples that arrive a little late, before it is flushed.
	EpochGrace time.Duration `koanf:"epoch_grace"`
	// HeadMaxBytes bounds the memory of sealed-but-unflushed chunks; past it,
	// flushing starts early.
	HeadMaxBytes int64 `koanf:"head_max_bytes"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Path:         "./outpost-data",
		Retention:    30 * 24 * time.Hour,
		MaxSeries:    1_000_000,
		MaxFuture:    time.Hour,
		EpochGrace:   10 * time.Minute,
		HeadMaxBytes: 32 << 20,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	switch {
	case c.Path == "":
		return fmt.Errorf("storage.path: must not be empty")
	case c.Retention < 24*time.Hour:
		return fmt.Errorf("storage.retention: %s is shorter than one day", c.Retention)
	case c.MaxSeries < 0:
		return fmt.Errorf("storage.max_series: %d is negative", c.MaxSeries)
	case c.MaxFuture < 0:
		return fmt.Errorf("storage.max_future: %s is negative", c.MaxFuture)
	case c.EpochGrace < 0 || c.EpochGrace > 24*time.Hour:
		return fmt.Errorf("storage.epoch_grace: %s is outside 0 to 24h", c.EpochGrace)
	case c.HeadMaxBytes < 1<<20:
		return fmt.Errorf("storage.head_max_bytes: %d is below 1 MiB", c.HeadMaxBytes)
	}
	return nil
}
