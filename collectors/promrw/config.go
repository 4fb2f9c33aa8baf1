package promrw

import (
	"fmt"

	"github.com/golang/snappy"
)

// Defaults of the "promrw." keys.
const (
	// DefaultMaxDecodedBytes is the default of promrw.max_decoded_bytes:
	// 16 MiB, twice vmagent's largest block (-remoteWrite.maxBlockSize,
	// 8 MB); Prometheus sends a few hundred KiB at most.
	DefaultMaxDecodedBytes = 16 << 20
	// DefaultMaxInflightBytes is the default of promrw.max_inflight_bytes:
	// 64 MiB, room for one of the largest remote write requests
	// (MaxRequestBytes, 37 MiB with the default max_decoded_bytes) beside
	// a few usual ones, or about 24 usual ones at once (a Prometheus
	// request of 2,000 samples reserves about 2.6 MiB, mostly for its
	// batch), or seven imports (ImportRequestBytes, 8.4 MiB).
	DefaultMaxInflightBytes = 64 << 20
	// DefaultImportMaxLineBytes is the default of
	// promrw.import_max_line_bytes: 4 MiB, above the longest line
	// /api/v1/export writes (65,536 samples, about 2.5 MB at worst).
	DefaultImportMaxLineBytes = 4 << 20
	// DefaultMaxBodyBytes is the wire limit used when Options.MaxBodyBytes
	// is 0; main passes http.max_body_bytes instead.
	DefaultMaxBodyBytes = 64 << 20
	// DefaultBatchPoints is how many points go to the Writer per call when
	// Options.BatchPoints is 0.
	DefaultBatchPoints = 5_000
)

// Config is this package's part of outpost's configuration (key "promrw").
type Config struct {
	// MaxDecodedBytes caps a remote write request after snappy
	// decompression, checked from snappy's header before anything is
	// decompressed: a larger request is answered 413.
	MaxDecodedBytes int64 `koanf:"max_decoded_bytes"`
	// MaxInflightBytes is the memory the remote write and import requests
	// being served may hold at once: their bodies, decompressed and
	// compressed, their read windows and their batches of points. A
	// request that finds too little left is answered 503 with Retry-After
	// at once.
	MaxInflightBytes int64 `koanf:"max_inflight_bytes"`
	// ImportMaxLineBytes caps one JSON line of /api/v1/import; a longer
	// line is rejected (counted as too_long) and the others are written.
	ImportMaxLineBytes int `koanf:"import_max_line_bytes"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		MaxDecodedBytes:    DefaultMaxDecodedBytes,
		MaxInflightBytes:   DefaultMaxInflightBytes,
		ImportMaxLineBytes: DefaultImportMaxLineBytes,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	if c.MaxDecodedBytes < 64<<10 || c.MaxDecodedBytes > 1<<30 {
		return fmt.Errorf("promrw.max_decoded_bytes: %d is outside 65536 to 1 GiB", c.MaxDecodedBytes)
	}
	if c.ImportMaxLineBytes < 4<<10 || c.ImportMaxLineBytes > 256<<20 {
		return fmt.Errorf("promrw.import_max_line_bytes: %d is outside 4096 to 256 MiB", c.ImportMaxLineBytes)
	}
	need := max(MaxRequestBytes(c.MaxDecodedBytes), ImportRequestBytes(c.ImportMaxLineBytes))
	if c.MaxInflightBytes < need || c.MaxInflightBytes > 1<<40 {
		return fmt.Errorf("promrw.max_inflight_bytes: %d is outside %d (what one request may reserve with these max_decoded_bytes and import_max_line_bytes) to 1 TiB",
			c.MaxInflightBytes, need)
	}
	return nil
}

// MaxRequestBytes is the most one remote write request reserves of
// promrw.max_inflight_bytes with requests of at most maxDecoded bytes
// decompressed: its compressed body (at most snappy's bound for maxDecoded
// bytes), its decompressed body and one batch of points.
func MaxRequestBytes(maxDecoded int64) int64 {
	return int64(snappy.MaxEncodedLen(int(maxDecoded))) + maxDecoded + int64(batchReserve)
}
