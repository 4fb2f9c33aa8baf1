package influx

import (
	"fmt"
	"net"
	"time"
	"unicode/utf8"
)

// DefaultMaxLineBytes is the default of influx.max_line_bytes: 256 KiB, as
// VictoriaMetrics' -influx.maxLineSize. Telegraf's lines are well under 4 KiB.
const DefaultMaxLineBytes = 256 << 10

// DefaultMaxBodyBytes is the body limit used when Options.MaxBodyBytes is 0.
// main normally passes http.max_body_bytes instead.
const DefaultMaxBodyBytes = 32 << 20

// DefaultBatchPoints is how many points the handler hands to the Writer in
// one call when Options.BatchPoints is 0.
const DefaultBatchPoints = 5_000

// DefaultMaxInflightBytes is the default of influx.max_inflight_bytes:
// 32 MiB, room for 8 write requests at once with the default
// max_line_bytes (each reserves RequestBytes, 4 MiB). Eight keep the two
// cores of a small machine busy while its refusals still leave within
// milliseconds; at 16, requests parsing bodies starved the ones being
// refused, and under a 5× overload answers took seconds. Machines with more
// cores can take more.
const DefaultMaxInflightBytes = 32 << 20

// Defaults of the line-protocol-over-UDP keys, as InfluxDB 1.x's [[udp]]
// section has them where it has them.
const (
	// DefaultUDPDB is the db label of UDP points: InfluxDB 1.x's [[udp]]
	// database default, "udp".
	DefaultUDPDB = "udp"
	// DefaultUDPPrecision is the unit of UDP timestamps: nanoseconds, as
	// InfluxDB 1.x's [[udp]] precision default ("n").
	DefaultUDPPrecision = "ns"
	// DefaultUDPReadBuffer is the SO_RCVBUF asked for the UDP socket, so that
	// bursts wait in the kernel rather than being dropped by it (InfluxDB
	// 1.x keeps the system default; outpost's collectd listener asks 8 MiB).
	DefaultUDPReadBuffer = 8 << 20
)

// Config is this package's part of outpost's configuration (key "influx").
type Config struct {
	// MaxLineBytes caps one line of a write body; a longer line is rejected
	// (counted as "too_long") and the other lines are written.
	MaxLineBytes int `koanf:"max_line_bytes"`
	// MaxInflightBytes is the memory the write requests being served may
	// hold at once. Each request reserves RequestBytes(MaxLineBytes) of it
	// before it reads its body (its read window and two batches of parsed
	// points); a request that finds too little left is answered 503 with
	// Retry-After at once.
	MaxInflightBytes int64 `koanf:"max_inflight_bytes"`
	// UDPAddr is where line protocol over UDP is received, as InfluxDB
	// 1.x's [[udp]] service (bind-address, usually ":8089"); "" (the
	// default) turns it off.
	UDPAddr string `koanf:"udp_addr"`
	// UDPDB is the db label of the points received over UDP, unless a line
	// has a db tag (InfluxDB 1.x's [[udp]] database); "" adds none.
	UDPDB string `koanf:"udp_db"`
	// UDPPrecision is the unit of the timestamps received over UDP: n, ns,
	// u, us, µs, ms, s, m or h, as /write's precision parameter.
	UDPPrecision string `koanf:"udp_precision"`
	// UDPReadBuffer is the UDP socket's receive buffer (SO_RCVBUF) in bytes;
	// 0 keeps the system default. The kernel caps it at net.core.rmem_max.
	UDPReadBuffer int `koanf:"udp_read_buffer"`

	// StringFields says what becomes of string fields that are neither a
	// number nor a boolean: "limit" (the default) makes them _info series
	// while their metric has few distinct values (StringFieldValues within
	// StringFieldWindow) and drops the rest; "keep" makes every distinct
	// string a series; "drop" makes none. See StringPolicy.
	StringFields string `koanf:"string_fields"`
	// StringFieldValues is how many distinct strings one _info metric and
	// tag set may have at once in mode limit.
	StringFieldValues int `koanf:"string_field_values"`
	// StringFieldWindow is how long a string unseen stays counted, and how
	// long a metric found volatile stays so after its last dropped string.
	StringFieldWindow time.Duration `koanf:"string_field_window"`
	// StringFieldSeries is how many _info metrics and tag sets mode limit
	// tracks at most (70 bytes each with one string, about 300 with ten).
	StringFieldSeries int `koanf:"string_field_series"`
	// DropStringFields lists metric names (measurement_field, without
	// _info) whose string values are always dropped, in every mode:
	// strings known to change with every report.
	DropStringFields []string `koanf:"drop_string_fields"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		MaxLineBytes:     DefaultMaxLineBytes,
		MaxInflightBytes: DefaultMaxInflightBytes,
		UDPDB:            DefaultUDPDB,
		UDPPrecision:     DefaultUDPPrecision,
		UDPReadBuffer:    DefaultUDPReadBuffer,

		StringFields:      DefaultStringFields,
		StringFieldValues: DefaultStringFieldValues,
		StringFieldWindow: DefaultStringFieldWindow,
		StringFieldSeries: DefaultStringFieldSeries,
		DropStringFields:  DefaultDropStringFields(),
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	if c.MaxLineBytes < 1024 || c.MaxLineBytes > 64<<20 {
		return fmt.Errorf("influx.max_line_bytes: %d is outside 1024 to 67108864", c.MaxLineBytes)
	}
	if need := RequestBytes(c.MaxLineBytes); c.MaxInflightBytes < need || c.MaxInflightBytes > 1<<40 {
		return fmt.Errorf("influx.max_inflight_bytes: %d is outside %d (what one request reserves with this max_line_bytes) to 1 TiB",
			c.MaxInflightBytes, need)
	}
	if c.UDPAddr != "" {
		if _, _, err := net.SplitHostPort(c.UDPAddr); err != nil {
			return fmt.Errorf("influx.udp_addr: %q is not host:port", c.UDPAddr)
		}
	}
	if _, err := parsePrecisionV1(c.UDPPrecision); err != nil {
		return fmt.Errorf("influx.udp_precision: %q is not n, ns, u, us, µs, ms, s, m or h", c.UDPPrecision)
	}
	if c.UDPReadBuffer < 0 || c.UDPReadBuffer > 1<<30 {
		return fmt.Errorf("influx.udp_read_buffer: %d is outside 0 to 1 GiB", c.UDPReadBuffer)
	}
	return c.validateStrings()
}

// maxDropStringFields bounds influx.drop_string_fields.
const maxDropStringFields = 10_000

// validateStrings checks the string-field keys.
func (c Config) validateStrings() error {
	switch c.StringFields {
	case StringsLimit, StringsKeep, StringsDrop:
	default:
		return fmt.Errorf("influx.string_fields: %q is not limit, keep or drop", c.StringFields)
	}
	if c.StringFieldValues < 1 || c.StringFieldValues > 1000 {
		return fmt.Errorf("influx.string_field_values: %d is outside 1 to 1000", c.StringFieldValues)
	}
	if c.StringFieldWindow < time.Minute || c.StringFieldWindow > 366*24*time.Hour {
		return fmt.Errorf("influx.string_field_window: %s is outside 1m to 8784h (366 days)", c.StringFieldWindow)
	}
	if c.StringFieldSeries < 1 || c.StringFieldSeries > 100_000_000 {
		return fmt.Errorf("influx.string_field_series: %d is outside 1 to 100000000", c.StringFieldSeries)
	}
	if len(c.DropStringFields) > maxDropStringFields {
		return fmt.Errorf("influx.drop_string_fields: %d names, at most %d", len(c.DropStringFields), maxDropStringFields)
	}
	for i, n := range c.DropStringFields {
		if n == "" || !utf8.ValidString(n) {
			return fmt.Errorf("influx.drop_string_fields[%d]: %q is not a metric name (measurement_field)", i, n)
		}
	}
	return nil
}
