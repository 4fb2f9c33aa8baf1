package graphite

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of Config, as DefaultConfig sets them.
const (
	// DefaultAddr is the Graphite plaintext port, served on TCP and UDP.
	DefaultAddr = ":2003"
	// DefaultSeparator joins repeated measurement, tag and field* parts of a
	// template, as InfluxDB 1.x's graphite.separator (default ".") does.
	DefaultSeparator = "."
	// DefaultMaxLineBytes caps one line; a longer line is skipped up to its
	// newline and counted as rejected with reason "too_long".
	DefaultMaxLineBytes = 64 << 10
	// DefaultIdleTimeout closes a TCP connection that sent nothing for this
	// long. Senders such as collectd and Telegraf reconnect on their own.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxConnections caps concurrent TCP connections. When all are
	// taken, a new connection evicts the one furthest behind MinRate.
	DefaultMaxConnections = 1000
	// DefaultMaxConnectionsPerSource is 0: no cap per sender address, since
	// many hosts behind one NAT address are common and eviction already
	// keeps slow senders from holding every slot.
	DefaultMaxConnectionsPerSource = 0
	// DefaultMinRate is the least a connection in the middle of a line must
	// deliver, in bytes per second. Real senders write whole lines, so their
	// lines arrive within milliseconds; 10 B/s only catches trickles.
	DefaultMinRate = 10
	// DefaultMinRateWindow is the period MinRate is measured over.
	DefaultMinRateWindow = 10 * time.Second
	// DefaultBatchSize is how many points a connection gathers before it
	// writes them to the store.
	DefaultBatchSize = 10_000
	// DefaultBatchTimeout is how long a point may wait in a connection's
	// batch before the batch is written anyway.
	DefaultBatchTimeout = time.Second
)

// Config is the Graphite listener's part of outpost's configuration (key
// "graphite"). Its template keys follow InfluxDB 1.x's [[graphite]] section.
type Config struct {
	// Addr is the TCP and UDP listen address; "" disables the listener.
	Addr string `koanf:"addr"`
	// Templates are InfluxDB 1.x templates, each "[filter] template [k=v,...]".
	// With none, a line's metric name is its path as sent.
	Templates []string `koanf:"templates"`
	// Separator joins repeated template parts; "" means DefaultSeparator.
	Separator string `koanf:"separator"`
	// Tags are "k=v" labels added to every series that has no such label yet.
	Tags []string `koanf:"tags"`
	// MaxLineBytes caps the length of one line, newline excluded.
	MaxLineBytes int `koanf:"max_line_bytes"`
	// IdleTimeout closes TCP connections that stay silent this long.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// MaxConnections caps concurrent TCP connections. When every slot is
	// taken, a new connection is served and the open connection furthest
	// behind MinRate (the longest idle, see the package comment) is closed,
	// counted with reason "evicted". Only when every open connection keeps
	// up (none is a second behind) is the new one closed at once, counted
	// with reason "too_many_connections".
	MaxConnections int `koanf:"max_connections"`
	// MaxConnectionsPerSource caps the TCP connections from one IP address
	// (0: no cap); a connection over it is closed at once and counted with
	// reason "too_many_from_source".
	MaxConnectionsPerSource int `koanf:"max_connections_per_source"`
	// MinRate is the least, in bytes per second, that a connection in the
	// middle of a line must deliver, measured over MinRateWindow; a slower
	// one is closed and counted with reason "too_slow" (0: no such check).
	// It also sets how much idle time a delivered byte makes up for when a
	// connection is chosen for eviction.
	MinRate int `koanf:"min_rate"`
	// MinRateWindow is the period MinRate is measured over.
	MinRateWindow time.Duration `koanf:"min_rate_window"`
	// BatchSize is the number of points written to the store at once.
	BatchSize int `koanf:"batch_size"`
	// BatchTimeout bounds how long a received point waits to be written.
	BatchTimeout time.Duration `koanf:"batch_timeout"`
	// MaxInflightBytes is the memory the TCP connections and the UDP socket
	// may hold at once for what they received: read buffers, batches of
	// points and their labels (default DefaultMaxInflightBytes, 32 MiB). A
	// connection reserves it before it allocates; a silent connection holds
	// none. When it is all taken, a TCP connection stops reading (the
	// sender slows down) and waits up to 10 s for it, after writing its own
	// batch, then is closed with what it had read counted as rejected with
	// reason "over_budget"; a UDP datagram is dropped and counted
	// (datagrams, "over_budget"). It must hold at least what one line of
	// MaxLineBytes needs, twice (1.6 MiB with the default MaxLineBytes).
	MaxInflightBytes int64 `koanf:"max_inflight_bytes"`
}

// DefaultConfig returns the embedded defaults: Graphite on :2003, no
// templates, separator ".".
func DefaultConfig() Config {
	return Config{
		Addr:                    DefaultAddr,
		Separator:               DefaultSeparator,
		MaxLineBytes:            DefaultMaxLineBytes,
		IdleTimeout:             DefaultIdleTimeout,
		MaxConnections:          DefaultMaxConnections,
		MaxConnectionsPerSource: DefaultMaxConnectionsPerSource,
		MinRate:                 DefaultMinRate,
		MinRateWindow:           DefaultMinRateWindow,
		BatchSize:               DefaultBatchSize,
		BatchTimeout:            DefaultBatchTimeout,
		MaxInflightBytes:        DefaultMaxInflightBytes,
	}
}

// Validate names the first key with a bad value, for example
// "graphite.templates[2]: ...". Templates and tags are compiled to find
// their errors, so a Config that validates builds a Listener.
func (c Config) Validate() error {
	switch {
	case c.MaxLineBytes < 256 || c.MaxLineBytes > 64<<20:
		return fmt.Errorf("graphite.max_line_bytes: %d is outside 256 to 64 MiB", c.MaxLineBytes)
	case c.IdleTimeout < time.Second:
		return fmt.Errorf("graphite.idle_timeout: %s is shorter than 1s", c.IdleTimeout)
	case c.MaxConnections < 1:
		return fmt.Errorf("graphite.max_connections: %d is below 1", c.MaxConnections)
	case c.MaxConnectionsPerSource < 0 || c.MaxConnectionsPerSource > c.MaxConnections:
		return fmt.Errorf("graphite.max_connections_per_source: %d is outside 0 to graphite.max_connections (%d)",
			c.MaxConnectionsPerSource, c.MaxConnections)
	case c.MinRate < 0:
		return fmt.Errorf("graphite.min_rate: %d is negative", c.MinRate)
	case c.MinRateWindow < time.Second || c.MinRateWindow > time.Hour:
		return fmt.Errorf("graphite.min_rate_window: %s is outside 1s to 1h", c.MinRateWindow)
	case c.BatchSize < 1 || c.BatchSize > 1_000_000:
		return fmt.Errorf("graphite.batch_size: %d is outside 1 to 1000000", c.BatchSize)
	case c.BatchTimeout < time.Millisecond || c.BatchTimeout > time.Minute:
		return fmt.Errorf("graphite.batch_timeout: %s is outside 1ms to 1m", c.BatchTimeout)
	case c.MaxInflightBytes < minInflightBytes(c.MaxLineBytes) || c.MaxInflightBytes > 1<<40:
		return fmt.Errorf("graphite.max_inflight_bytes: %d is outside %d (what lines of graphite.max_line_bytes need) to 1 TiB",
			c.MaxInflightBytes, minInflightBytes(c.MaxLineBytes))
	case strings.ContainsAny(c.Separator, " \t\r\n"):
		return fmt.Errorf("graphite.separator: %q holds whitespace", c.Separator)
	}
	_, err := compileTemplates(c.Templates, c.Tags, c.separator())
	return err
}

// separator returns the configured separator or the default one.
func (c Config) separator() string {
	if c.Separator == "" {
		return DefaultSeparator
	}
	return c.Separator
}
