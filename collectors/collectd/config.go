package collectd

import (
	"fmt"
	"time"
)

// Defaults of Config, as DefaultConfig returns them.
const (
	// DefaultAddr is collectd's registered network port (IANA 25826).
	DefaultAddr = ":25826"
	// DefaultSecurityLevel accepts unsigned, signed and encrypted packets.
	DefaultSecurityLevel = "none"
	// DefaultReadBuffer is the SO_RCVBUF asked of the kernel, so bursts from
	// many hosts wait in the socket rather than being dropped by it.
	DefaultReadBuffer = 8 << 20
	// DefaultBatchSize is how many points a batch collects before it is
	// written.
	DefaultBatchSize = 5000
	// DefaultFlushInterval is how long a partial batch waits before it is
	// written.
	DefaultFlushInterval = time.Second
	// DefaultQueueSize is how many received packets may wait for a parser
	// before new ones are dropped (reason "queue_full").
	DefaultQueueSize = 4096
	// DefaultWorkers is how many goroutines parse packets and write batches.
	DefaultWorkers = 2
	// DefaultMaxInflightBytes is how much the packets waiting for a parser
	// may take at once: 4,096 packets of collectd's usual 1,452 bytes (each
	// in a 2 KiB buffer), or 128 of the largest, 64 KiB.
	DefaultMaxInflightBytes = 8 << 20
)

// Bounds of Config checked by Validate, so that the memory the workers hold
// whatever the senders do (Workers × BatchSize points) stays bounded.
const (
	maxBatchSize = 1_000_000
	maxWorkers   = 256
)

// Config is the collectd listener's part of outpost's configuration (key
// "collectd").
type Config struct {
	// Addr is the UDP address to listen on; "" disables the listener.
	Addr string `koanf:"addr"`
	// TypesDB lists types.db files or directories (every regular file of a
	// directory, in name order, dot files excepted) loaded over the built-in
	// types and Debian's collectd types.db; a type defined there replaces the
	// one of the same name before it.
	TypesDB []string `koanf:"typesdb"`
	// SecurityLevel is "none", "sign" or "encrypt" (any case), as the
	// SecurityLevel of a <Listen> block of collectd's network plugin.
	SecurityLevel string `koanf:"security_level"`
	// AuthFile is collectd's AuthFile: "user: password" lines. It is required
	// for "sign" and "encrypt"; with "none" it is used, when set, to decrypt
	// encrypted packets and to check the signature of signed ones.
	AuthFile string `koanf:"auth_file"`
	// ReadBuffer is the socket receive buffer (SO_RCVBUF) in bytes; 0 keeps
	// the system default. The kernel caps it at net.core.rmem_max.
	ReadBuffer int `koanf:"read_buffer"`
	// BatchSize is how many points are collected before one write.
	BatchSize int `koanf:"batch_size"`
	// FlushInterval is how long a partial batch waits before it is written.
	FlushInterval time.Duration `koanf:"flush_interval"`
	// QueueSize is how many packets may wait for a parser; past it, packets
	// are dropped and counted rather than stalling the socket.
	QueueSize int `koanf:"queue_size"`
	// Workers is how many goroutines parse packets and write batches.
	Workers int `koanf:"workers"`
	// MaxInflightBytes bounds the memory of the packets read but not yet
	// parsed (default DefaultMaxInflightBytes, 8 MiB). A packet takes its
	// buffer's size (2 KiB, or its own size when larger) from it before it
	// is copied off the socket's buffer, and gives it back once parsed; a
	// packet that does not fit is dropped and counted (packets,
	// "over_budget"), as a full queue drops it. It must hold one packet of
	// the largest size (64 KiB).
	MaxInflightBytes int64 `koanf:"max_inflight_bytes"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Addr:          DefaultAddr,
		SecurityLevel: DefaultSecurityLevel,
		ReadBuffer:    DefaultReadBuffer,
		BatchSize:     DefaultBatchSize,
		FlushInterval: DefaultFlushInterval,
		QueueSize:     DefaultQueueSize,
		Workers:       DefaultWorkers,

		MaxInflightBytes: DefaultMaxInflightBytes,
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	level, err := ParseSecurityLevel(c.SecurityLevel)
	if err != nil {
		return fmt.Errorf("collectd.security_level: %q is not none, sign or encrypt", c.SecurityLevel)
	}
	switch {
	case level != None && c.AuthFile == "":
		return fmt.Errorf("collectd.auth_file: required when collectd.security_level is %q", c.SecurityLevel)
	case c.ReadBuffer < 0:
		return fmt.Errorf("collectd.read_buffer: %d is negative", c.ReadBuffer)
	case c.BatchSize < 1 || c.BatchSize > maxBatchSize:
		return fmt.Errorf("collectd.batch_size: %d is outside 1 to %d", c.BatchSize, maxBatchSize)
	case c.FlushInterval <= 0:
		return fmt.Errorf("collectd.flush_interval: %s is not positive", c.FlushInterval)
	case c.QueueSize < 1:
		return fmt.Errorf("collectd.queue_size: %d is below 1", c.QueueSize)
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("collectd.workers: %d is outside 1 to %d", c.Workers, maxWorkers)
	case c.MaxInflightBytes < maxDatagram || c.MaxInflightBytes > 1<<40:
		return fmt.Errorf("collectd.max_inflight_bytes: %d is outside %d (the largest packet) to 1 TiB",
			c.MaxInflightBytes, maxDatagram)
	}
	for i, p := range c.TypesDB {
		if p == "" {
			return fmt.Errorf("collectd.typesdb[%d]: empty path", i)
		}
	}
	return nil
}
