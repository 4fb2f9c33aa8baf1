package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// Options carries what a Collector needs besides its Config and Writer.
type Options struct {
	// Logger receives collection and write failures, each kind at most
	// once a minute; nil discards them.
	Logger *slog.Logger
	// Now stamps the samples and times the cpu and disk rates; nil means
	// time.Now.
	Now func() time.Time
	// Statfs reads the usage of the file system mounted at a path; nil
	// means statfs(2). Tests that read a fixture's mount table give their
	// own, as its file systems are not mounted here. A call that takes
	// over 5 s is abandoned (see boundedStatfs).
	Statfs func(path string) (FSUsage, error)
}

// The retry of a write the store refused for now (collectors.Store).
const (
	writeTries = 3
	writePause = 200 * time.Millisecond
)

// maxNames bounds the table of interned names (cpus, devices,
// interfaces): interfaces that come and go (containers' veths) would grow
// it forever.
const maxNames = 4096

// Collector reads this machine's metrics from procfs and sysfs and writes
// them through a collectors.Writer under Telegraf's names (see the package
// documentation). Run collects every Config.Interval; Collect is one
// collection. A Collector keeps the previous collection's counters to
// compute rates, so Collect and Run must not be called concurrently.
type Collector struct {
	cfg   Config
	w     collectors.Writer
	opts  Options
	stats *collectors.Stats
	fs    boundedStatfs // statfs(2), or Options.Statfs
	proc  root
	sys   root
	run   root

	// The state of Collect, one collection at a time.
	b          batch
	buf        []byte   // the file being parsed
	scratch    [][]byte // fields of the line being parsed
	st         procStat
	mi         memInfo
	vs         vmStat
	disks      []diskStat
	ifs        []netStat
	lastCPU    map[string]cpuTimes   // by cpu name, from the previous collection
	lastIO     map[string]ioCounters // by device, from the previous collection
	lastIOTime time.Time             // when lastIO was read
	physCPUs   int                   // cpu cores, counted when the cpu count was physFor
	physFor    int
	names      map[string]string // interned cpu, device and interface names
}

// New returns a Collector that writes to w. It checks that cfg is valid
// and that procfs can be read at cfg.ProcPath (so it fails off Linux), and
// takes the machine's hostname unless cfg.Hostname names one.
func New(cfg Config, w collectors.Writer, opts Options) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	host := cfg.Hostname
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("host collector: read hostname (set host.hostname): %w", err)
		}
		host = h
	}
	c := &Collector{
		cfg: cfg, w: w, opts: opts, stats: collectors.NewStats("host"),
		fs:   boundedStatfs{statfs: opts.Statfs, timeout: defaultStatfsTimeout},
		proc: root(cfg.ProcPath), sys: root(cfg.SysPath), run: root(cfg.RunPath),
		lastCPU: make(map[string]cpuTimes), lastIO: make(map[string]ioCounters),
		names: make(map[string]string), physFor: -1,
	}
	if c.fs.statfs == nil {
		c.fs.statfs = statfs
	}
	if _, err := readFile(c.proc.path("stat"), nil); err != nil {
		return nil, fmt.Errorf("host collector: read procfs (host.proc_path): %w", err)
	}
	if cfg.DB != "" {
		c.b.common = append(c.b.common, tsdb.Label{Name: "db", Value: cfg.DB})
	}
	c.b.common = append(c.b.common, tsdb.Label{Name: "host", Value: host})
	return c, nil
}

// Stats returns the collector's counters, protocol "host": samples
// written and dropped, for /metrics and the outpost_ingest_* series.
func (c *Collector) Stats() *collectors.Stats { return c.stats }

// Collect reads every metric once and returns the samples stamped now.
// The points and their labels belong to the Collector and are valid until
// the next Collect. A part that cannot be read (a file missing, a mount
// that cannot be stated) leaves its samples out and is named in the
// returned error; the other parts' samples are returned all the same.
func (c *Collector) Collect(now time.Time) ([]tsdb.Point, error) {
	c.b.reset(now.UnixMilli())
	var errs []error
	part := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	nCPU := 0
	buf, err := readFile(c.proc.path("stat"), c.buf)
	c.buf = buf
	if err == nil {
		err = parseProcStat(buf, &c.st, c.intern)
	}
	if err == nil {
		nCPU = len(c.st.cpus) - 1
		part("cpu", c.cpuUsage(&c.b, c.st.cpus))
		part("kernel", c.kernel(&c.b, &c.st))
	} else {
		part("cpu", fmt.Errorf("read /proc/stat: %w", err))
	}
	buf, err = readFile(c.proc.path("meminfo"), c.buf)
	c.buf = buf
	if err == nil {
		err = parseMemInfo(buf, &c.mi)
	}
	if err == nil {
		c.mem(&c.b, &c.mi)
		buf, err = readFile(c.proc.path("vmstat"), c.buf)
		c.buf = buf
		if err == nil {
			parseVMStat(buf, &c.vs)
			c.swap(&c.b, &c.mi, &c.vs)
		}
		part("swap", err)
	} else {
		part("mem", err)
	}
	part("system", c.system(&c.b, nCPU))
	part("disk", c.disk(&c.b))
	buf, err = readFile(c.proc.path("diskstats"), c.buf)
	c.buf = buf
	if err == nil {
		c.disks, c.scratch, err = parseDiskStats(buf, c.disks, c.scratch, c.intern)
	}
	if err == nil {
		c.diskIO(&c.b, c.disks, now)
	}
	part("diskio", err)
	buf, err = readFile(c.proc.path("net", "dev"), c.buf)
	c.buf = buf
	if err == nil {
		c.ifs, c.scratch, err = parseNetDev(buf, c.ifs, c.scratch, c.intern)
	}
	if err == nil {
		c.net(&c.b, c.ifs)
	}
	part("net", err)
	part("processes", c.processes(&c.b))
	return c.b.pts, errors.Join(errs...)
}

// intern returns b as a string, the same one each time.
func (c *Collector) intern(b []byte) string {
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	if len(c.names) >= maxNames {
		clear(c.names)
	}
	s := string(b)
	c.names[s] = s
	return s
}

// Run collects at once and then every Config.Interval, writing each
// collection through the Writer (retrying while the store is overloaded),
// until ctx is cancelled; it then returns nil. Failures are logged, each
// kind at most once a minute, and the next tick tries again.
func (c *Collector) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	log := c.opts.Logger.With("component", "host")
	var lastCollectLog, lastWriteLog time.Time
	for {
		pts, err := c.Collect(c.opts.Now())
		if err != nil && time.Since(lastCollectLog) >= time.Minute {
			log.Warn("read host metrics", "err", err)
			lastCollectLog = time.Now()
		}
		if len(pts) > 0 {
			err := collectors.Store(ctx, c.w, c.stats, pts, collectors.Retry{Tries: writeTries, Pause: writePause})
			if err != nil && ctx.Err() == nil && time.Since(lastWriteLog) >= time.Minute {
				log.Warn("write host metrics", "err", err, "samples", len(pts))
				lastWriteLog = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
