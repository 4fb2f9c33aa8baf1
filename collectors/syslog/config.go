package syslog

import "fmt"

// Config is the syslog listener's part of the events section (main maps
// events.syslog_* onto it).
type Config struct {
	// Addr is the host:port bound on UDP and TCP (events.syslog_addr); ""
	// turns the listener off.
	Addr string
	// MaxLineBytes caps one message (events.syslog_max_line_bytes): a
	// longer TCP frame is skipped, a longer datagram dropped, each counted.
	MaxLineBytes int
	// MaxConnections caps open TCP connections
	// (events.syslog_max_connections); one more is closed and counted.
	MaxConnections int
}

// Defaults of Config.
const (
	DefaultMaxLineBytes   = 64 << 10
	DefaultMaxConnections = 256
)

// DefaultConfig returns the defaults: off, 64 KiB lines, 256 connections.
func DefaultConfig() Config {
	return Config{MaxLineBytes: DefaultMaxLineBytes, MaxConnections: DefaultMaxConnections}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	switch {
	case c.MaxLineBytes < 480 || c.MaxLineBytes > 16<<20:
		// RFC 5424 §6.1: a receiver must take 480 bytes.
		return fmt.Errorf("events.syslog_max_line_bytes: %d is outside 480 to 16777216", c.MaxLineBytes)
	case c.MaxConnections < 1:
		return fmt.Errorf("events.syslog_max_connections: %d is below 1", c.MaxConnections)
	}
	return nil
}
