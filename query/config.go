package query

import (
	"fmt"
	"log/slog"
	"time"
)

// Config is the query engine's part of outpost's configuration (key
// "query").
type Config struct {
	// Timeout bounds one query's evaluation (query.timeout).
	Timeout time.Duration `koanf:"timeout"`
	// MaxSamples bounds the raw samples one query may read plus the points
	// it may hold in intermediate results (query.max_samples).
	MaxSamples int64 `koanf:"max_samples"`
	// MaxPointsPerSeries bounds the steps of a range query
	// (query.max_points_per_series).
	MaxPointsPerSeries int `koanf:"max_points_per_series"`
	// MaxConcurrent bounds the queries evaluated at once; more wait for a
	// free slot until their timeout (query.max_concurrent).
	MaxConcurrent int `koanf:"max_concurrent"`
	// LookbackDelta, when positive, caps how far back an implicit window or
	// a previous sample may reach (VictoriaMetrics' -search.maxLookback).
	// Zero keeps MetricsQL's rule: the window adapts to each series'
	// scrape interval (query.lookback_delta).
	LookbackDelta time.Duration `koanf:"lookback_delta"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Timeout:            30 * time.Second,
		MaxSamples:         1_000_000_000,
		MaxPointsPerSeries: 30_000,
		MaxConcurrent:      8,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("query.timeout: %s must be positive", c.Timeout)
	case c.MaxSamples <= 0:
		return fmt.Errorf("query.max_samples: %d must be positive", c.MaxSamples)
	case c.MaxPointsPerSeries <= 0:
		return fmt.Errorf("query.max_points_per_series: %d must be positive", c.MaxPointsPerSeries)
	case c.MaxConcurrent <= 0:
		return fmt.Errorf("query.max_concurrent: %d must be positive", c.MaxConcurrent)
	case c.LookbackDelta < 0:
		return fmt.Errorf("query.lookback_delta: %s is negative", c.LookbackDelta)
	}
	return nil
}

// Options returns engine options built from c, with logger and clock.
func (c Config) Options(logger *slog.Logger, now func() time.Time) Options {
	return Options{
		Timeout:            c.Timeout,
		MaxSamples:         c.MaxSamples,
		MaxPointsPerSeries: c.MaxPointsPerSeries,
		MaxConcurrent:      c.MaxConcurrent,
		LookbackDelta:      c.LookbackDelta,
		Logger:             logger,
		Now:                now,
	}
}
