package events

import (
	"fmt"
	"strings"
)

// Config is the events section of outpost's configuration (key "events").
type Config struct {
	// Enabled mounts POST and GET /api/v1/events and opens the event
	// store (<storage.path>/events).
	Enabled bool `koanf:"enabled"`
	// MaxBodyBytes caps a request body (after gzip); over it: 413.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// MaxEventBytes caps one event's JSON; over it: 413 naming the event.
	MaxEventBytes int64 `koanf:"max_event_bytes"`
	// MaxDepth caps the nesting of objects and arrays in an event (the
	// event object itself is depth 1); deeper: 400 naming the field.
	MaxDepth int `koanf:"max_depth"`
	// TimeFields are the dotted paths tried, in order, for the time of an
	// event that is not an EventBridge envelope.
	TimeFields []string `koanf:"time_fields"`
	// IndexFields are dotted paths indexed besides source, detail-type and
	// host: fields searched often (and, later, those event rules use).
	IndexFields []string `koanf:"index_fields"`
	// SyslogAddr is the host:port the syslog listener (package
	// collectors/syslog) binds on UDP and TCP; "" (the default) turns it
	// off.
	SyslogAddr string `koanf:"syslog_addr"`
	// SyslogMaxLineBytes caps one syslog message; longer ones are
	// skipped and counted.
	SyslogMaxLineBytes int `koanf:"syslog_max_line_bytes"`
	// SyslogMaxConnections caps the syslog listener's open TCP
	// connections; one more is closed and counted.
	SyslogMaxConnections int `koanf:"syslog_max_connections"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Enabled:       true,
		MaxBodyBytes:  16 << 20,
		MaxEventBytes: 256 << 10,
		MaxDepth:      32,
		TimeFields:    []string{"time", "timestamp", "@timestamp"},

		SyslogMaxLineBytes:   64 << 10,
		SyslogMaxConnections: 256,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	switch {
	case c.MaxBodyBytes < 1:
		return fmt.Errorf("events.max_body_bytes: %d is below 1", c.MaxBodyBytes)
	case c.MaxEventBytes < 2:
		return fmt.Errorf("events.max_event_bytes: %d is below 2", c.MaxEventBytes)
	case c.MaxDepth < 1 || c.MaxDepth > 1000:
		return fmt.Errorf("events.max_depth: %d is outside 1 to 1000", c.MaxDepth)
	case c.SyslogMaxLineBytes < 480 || c.SyslogMaxLineBytes > 16<<20:
		// RFC 5424 §6.1: a receiver must take messages of 480 bytes.
		return fmt.Errorf("events.syslog_max_line_bytes: %d is outside 480 to 16777216", c.SyslogMaxLineBytes)
	case c.SyslogMaxConnections < 1:
		return fmt.Errorf("events.syslog_max_connections: %d is below 1", c.SyslogMaxConnections)
	}
	for _, f := range c.TimeFields {
		if err := checkPath(f); err != nil {
			return fmt.Errorf("events.time_fields: %w", err)
		}
	}
	for _, f := range c.IndexFields {
		if err := checkPath(f); err != nil {
			return fmt.Errorf("events.index_fields: %w", err)
		}
	}
	return nil
}

func checkPath(f string) error {
	if f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") || strings.ContainsAny(f, "\x00 :") {
		return fmt.Errorf("%q is not a dotted field path", f)
	}
	return nil
}
