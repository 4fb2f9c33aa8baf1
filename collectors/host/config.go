package host

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"outpost/collectors"
)

// Defaults of Config, as DefaultConfig returns them.
const (
	// DefaultInterval is Telegraf's default collection interval.
	DefaultInterval = 10 * time.Second
	// DefaultDB is the value of label db: the database Telegraf's influxdb
	// output writes to by default, so that this collector's series are the
	// very series a default Telegraf sending to outpost creates.
	DefaultDB = "telegraf"
)

// defaultIgnoreFS is Telegraf's default ignore_fs of its disk input: file
// systems that hold no data worth watching (memory, images, layers).
var defaultIgnoreFS = []string{"tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs"}

// Bounds of the intervals Validate accepts.
const (
	minInterval = 100 * time.Millisecond
	maxInterval = time.Hour
)

// Config is the built-in host collector's part of outpost's configuration
// (key "host"): this machine's cpu, memory, swap, disks, disk I/O,
// network, load, processes and kernel counters, written every Interval
// under Telegraf's names, and outpost's own statistics every SelfInterval.
type Config struct {
	// Enabled turns the collection of this machine's and outpost's own
	// metrics on.
	Enabled bool `koanf:"enabled"`
	// SelfInterval is how often outpost's own statistics (the
	// outpost_* series) are written.
	SelfInterval time.Duration `koanf:"self_interval"`
	// Interval is how often this machine's metrics are read and written
	// (Telegraf's agent interval). Cpu percentages are over one interval.
	Interval time.Duration `koanf:"interval"`
	// Hostname is the value of label host; "" means the machine's
	// hostname, as Telegraf's agent hostname.
	Hostname string `koanf:"hostname"`
	// DB is the value of label db, as outpost's InfluxDB write API gives
	// it to the lines of a database; "" adds no db label.
	DB string `koanf:"db"`
	// ProcPath is where procfs is mounted (gopsutil's HOST_PROC): set it
	// to the host's /proc mounted elsewhere when outpost runs in a
	// container.
	ProcPath string `koanf:"proc_path"`
	// SysPath is where sysfs is mounted (HOST_SYS): interface flags and
	// speeds, cpu topology, block device names.
	SysPath string `koanf:"sys_path"`
	// RunPath is the host's /run (HOST_RUN): utmp for the count of users
	// logged in, udev's database for file system labels.
	RunPath string `koanf:"run_path"`
	// MountPrefix is where the host's root file system is mounted when
	// outpost runs in a container (Telegraf's HOST_MOUNT_PREFIX): disk
	// usage is read at MountPrefix + mount point, and the path label is the
	// mount point without it.
	MountPrefix string `koanf:"mount_prefix"`
	// IgnoreFS lists file system types whose mounts get no disk_* series
	// (Telegraf's ignore_fs; autofs is always ignored).
	IgnoreFS []string `koanf:"ignore_fs"`
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Enabled:      true,
		SelfInterval: collectors.DefaultSelfMetricsInterval,
		Interval:     DefaultInterval,
		DB:           DefaultDB,
		ProcPath:     "/proc",
		SysPath:      "/sys",
		RunPath:      "/run",
		IgnoreFS:     slices.Clone(defaultIgnoreFS),
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	if c.SelfInterval < minInterval || c.SelfInterval > maxInterval {
		return fmt.Errorf("host.self_interval: %s is outside %s to %s", c.SelfInterval, minInterval, maxInterval)
	}
	if c.Interval < minInterval || c.Interval > maxInterval {
		return fmt.Errorf("host.interval: %s is outside %s to %s", c.Interval, minInterval, maxInterval)
	}
	for _, p := range []struct{ key, v string }{
		{"host.proc_path", c.ProcPath}, {"host.sys_path", c.SysPath}, {"host.run_path", c.RunPath},
	} {
		if !filepath.IsAbs(p.v) {
			return fmt.Errorf("%s: %q is not an absolute path", p.key, p.v)
		}
	}
	if c.MountPrefix != "" && !filepath.IsAbs(c.MountPrefix) {
		return fmt.Errorf("host.mount_prefix: %q is not an absolute path", c.MountPrefix)
	}
	for i, fs := range c.IgnoreFS {
		if fs == "" {
			return fmt.Errorf("host.ignore_fs[%d]: empty file system type", i)
		}
	}
	return nil
}
