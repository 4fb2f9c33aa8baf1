package influx

import "fmt"

// DefaultMaxLineBytes is the default of influx.max_line_bytes: 256 KiB, as
// VictoriaMetrics' -influx.maxLineSize. Telegraf's lines are well under 4 KiB.
const DefaultMaxLineBytes = 256 << 10

// DefaultMaxBodyBytes is the body limit used when Options.MaxBodyBytes is 0.
// main normally passes http.max_body_bytes instead.
const DefaultMaxBodyBytes = 32 << 20

// DefaultBatchPoints is how many points the handler hands to the Writer in
// one call when Options.BatchPoints is 0.
const DefaultBatchPoints = 10_000

// Config is this package's part of outpost's configuration (key "influx").
type Config struct {
	// MaxLineBytes caps one line of a write body; a longer line is rejected
	// (counted as "too_long") and the other lines are written.
	MaxLineBytes int `koanf:"max_line_bytes"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{MaxLineBytes: DefaultMaxLineBytes}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	if c.MaxLineBytes < 1024 || c.MaxLineBytes > 64<<20 {
		return fmt.Errorf("influx.max_line_bytes: %d is outside 1024 to 67108864", c.MaxLineBytes)
	}
	return nil
}
