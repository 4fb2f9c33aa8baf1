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
	// MaxMemoryPerQuery bounds the memory one query may hold: the chunks
	// it reads, the points and series of its results and intermediate
	// results, its aggregation states (query.max_memory_per_query,
	// VictoriaMetrics' -search.maxMemoryPerQuery). Past it the query
	// fails with errorType "execution" (422) before allocating more.
	MaxMemoryPerQuery int64 `koanf:"max_memory_per_query"`
	// MaxMemory bounds the memory all queries running at once may hold
	// together; a query that would take the sum past it fails as above
	// (query.max_memory).
	MaxMemory int64 `koanf:"max_memory"`
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
	// MaxStalenessInterval is VictoriaMetrics' -search.maxStalenessInterval,
	// the older name of the same cap: used when LookbackDelta is zero, so
	// a range query's implicit window (and a previous sample's reach) can
	// be held to Prometheus' 5m lookback (query.max_staleness_interval).
	MaxStalenessInterval time.Duration `koanf:"max_staleness_interval"`
	// SlowQueryThreshold is how long a query must take to be logged at
	// WARN and listed among the slow queries of the status page (the last
	// 20 are kept); 0 turns that off (query.slow_query_threshold).
	SlowQueryThreshold time.Duration `koanf:"slow_query_threshold"`
}

// DefaultConfig returns the embedded defaults, sized for a small machine
// (1 to 2 GiB of memory shared with other programs): Prometheus' sample
// limit, whose raw samples are streamed a series per worker, so that it
// bounds work (about a second of decoding per core) rather than memory;
// 64 MiB per query (about 8 M points held: 4,000 series of a week at a
// 5 m step) and 256 MiB for all queries at once, which with the Go
// collector's headroom keeps queries under about half a GiB.
func DefaultConfig() Config {
	return Config{
		Timeout:            30 * time.Second,
		MaxSamples:         50_000_000,
		MaxMemoryPerQuery:  64 << 20,
		MaxMemory:          256 << 20,
		MaxPointsPerSeries: 30_000,
		MaxConcurrent:      8,
		SlowQueryThreshold: DefaultSlowQueryThreshold,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("query.timeout: %s must be positive", c.Timeout)
	case c.MaxSamples <= 0:
		return fmt.Errorf("query.max_samples: %d must be positive", c.MaxSamples)
	case c.MaxMemoryPerQuery < 1<<20:
		return fmt.Errorf("query.max_memory_per_query: %d is below 1 MiB", c.MaxMemoryPerQuery)
	case c.MaxMemory < c.MaxMemoryPerQuery:
		return fmt.Errorf("query.max_memory: %d is below query.max_memory_per_query (%d)", c.MaxMemory, c.MaxMemoryPerQuery)
	case c.MaxPointsPerSeries <= 0:
		return fmt.Errorf("query.max_points_per_series: %d must be positive", c.MaxPointsPerSeries)
	case c.MaxConcurrent <= 0:
		return fmt.Errorf("query.max_concurrent: %d must be positive", c.MaxConcurrent)
	case c.LookbackDelta < 0:
		return fmt.Errorf("query.lookback_delta: %s is negative", c.LookbackDelta)
	case c.MaxStalenessInterval < 0:
		return fmt.Errorf("query.max_staleness_interval: %s is negative", c.MaxStalenessInterval)
	case c.SlowQueryThreshold < 0:
		return fmt.Errorf("query.slow_query_threshold: %s is negative", c.SlowQueryThreshold)
	}
	return nil
}

// Options returns engine options built from c, with logger and clock.
func (c Config) Options(logger *slog.Logger, now func() time.Time) Options {
	slow := c.SlowQueryThreshold
	if slow == 0 {
		slow = -1 // off; zero in Options means the default
	}
	lookback := c.LookbackDelta
	if lookback == 0 {
		lookback = c.MaxStalenessInterval
	}
	return Options{
		Timeout:            c.Timeout,
		MaxSamples:         c.MaxSamples,
		MaxMemoryPerQuery:  c.MaxMemoryPerQuery,
		MaxMemory:          c.MaxMemory,
		MaxPointsPerSeries: c.MaxPointsPerSeries,
		MaxConcurrent:      c.MaxConcurrent,
		LookbackDelta:      lookback,
		SlowQueryThreshold: slow,
		Logger:             logger,
		Now:                now,
	}
}
