package host

import (
	"bytes"
	"errors"
	"fmt"
)

// userHZ is the unit of /proc/stat's cpu times (USER_HZ, what
// sysconf(_SC_CLK_TCK) answers): 100 on every Linux architecture. Times are
// turned into seconds as gopsutil does before any arithmetic, so the
// percentages are Telegraf's to the last bit.
const userHZ = 100

// cpuTimes is one cpu line of /proc/stat, in seconds.
type cpuTimes struct {
	user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice float64
}

// total is Telegraf's total cpu time: guest time is already counted in
// user time (and guest_nice in nice), so it is not added again.
func (t *cpuTimes) total() float64 {
	return t.user + t.system + t.nice + t.iowait + t.irq + t.softirq + t.steal + t.idle
}

// cpuStat is the times of one cpu, named as Telegraf's cpu tag: cpu-total
// for the first line of /proc/stat, cpu0, cpu1… for the others.
type cpuStat struct {
	name string
	t    cpuTimes
}

// procStat is what the collector takes from /proc/stat.
type procStat struct {
	cpus    []cpuStat // cpu-total first, then each online cpu
	intr    uint64    // interrupts serviced since boot (first number of "intr")
	ctxt    uint64    // context switches since boot
	forks   uint64    // processes (and threads) created since boot
	btime   uint64    // boot time, s since the epoch
	pageIn  uint64    // "page" line, on old kernels only
	pageOut uint64
	// hasIntr… say which of the above the file had.
	hasIntr, hasCtxt, hasForks, hasBtime, hasPage bool

	scratch [][]byte // fields of the current line
}

// errNoCPU says /proc/stat has no cpu line.
var errNoCPU = errors.New("no cpu line")

// parseProcStat parses /proc/stat into st, reusing st's slices; intern
// turns a cpu name into a string.
func parseProcStat(b []byte, st *procStat, intern func([]byte) string) error {
	st.cpus = st.cpus[:0]
	st.hasIntr, st.hasCtxt, st.hasForks, st.hasBtime, st.hasPage = false, false, false, false, false
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		st.scratch = fields(line, st.scratch)
		f := st.scratch
		if len(f) < 2 {
			continue
		}
		key := f[0]
		switch {
		case bytes.HasPrefix(key, []byte("cpu")):
			// gopsutil needs the seven times of Linux 2.6; the later ones
			// (steal, guest, guest_nice) are zero when absent.
			if len(f) < 8 {
				return fmt.Errorf("cpu line %q has %d fields, want 8 or more", key, len(f))
			}
			var v [10]float64
			for i := 1; i < len(f) && i <= len(v); i++ {
				x, ok := parseFloat(f[i])
				if !ok {
					return fmt.Errorf("cpu line %q: bad number %q", key, f[i])
				}
				v[i-1] = x / userHZ
			}
			name := "cpu-total"
			if len(key) > 3 {
				name = intern(key)
			}
			st.cpus = append(st.cpus, cpuStat{name: name, t: cpuTimes{
				user: v[0], nice: v[1], system: v[2], idle: v[3], iowait: v[4],
				irq: v[5], softirq: v[6], steal: v[7], guest: v[8], guestNice: v[9],
			}})
		case string(key) == "intr":
			st.intr, st.hasIntr = parseUint(f[1])
		case string(key) == "ctxt":
			st.ctxt, st.hasCtxt = parseUint(f[1])
		case string(key) == "processes":
			st.forks, st.hasForks = parseUint(f[1])
		case string(key) == "btime":
			st.btime, st.hasBtime = parseUint(f[1])
		case string(key) == "page" && len(f) >= 3:
			var okIn, okOut bool
			st.pageIn, okIn = parseUint(f[1])
			st.pageOut, okOut = parseUint(f[2])
			st.hasPage = okIn && okOut
		}
	}
	if len(st.cpus) == 0 {
		return errNoCPU
	}
	return nil
}

// cpuUsage adds Telegraf's cpu_usage_* percentages over the time since the
// previous collection, as its cpu input with percpu and totalcpu computes
// them, and keeps cpus as the previous collection. The first collection
// adds none, as Telegraf's first does; a cpu whose total time did not
// move is skipped.
func (c *Collector) cpuUsage(b *batch, cpus []cpuStat) error {
	var err error
	for i := range cpus {
		cur := &cpus[i].t
		last, ok := c.lastCPU[cpus[i].name]
		if !ok {
			continue
		}
		delta := cur.total() - last.total()
		if delta < 0 {
			err = fmt.Errorf("cpu %s: total time went backwards by %g s", cpus[i].name, -delta)
			break
		}
		if delta == 0 {
			continue
		}
		tags := b.tags("cpu", cpus[i].name)
		b.add("cpu_usage_user", 100*(cur.user-last.user-(cur.guest-last.guest))/delta, tags)
		b.add("cpu_usage_system", 100*(cur.system-last.system)/delta, tags)
		b.add("cpu_usage_idle", 100*(cur.idle-last.idle)/delta, tags)
		b.add("cpu_usage_nice", 100*(cur.nice-last.nice-(cur.guestNice-last.guestNice))/delta, tags)
		b.add("cpu_usage_iowait", 100*(cur.iowait-last.iowait)/delta, tags)
		b.add("cpu_usage_irq", 100*(cur.irq-last.irq)/delta, tags)
		b.add("cpu_usage_softirq", 100*(cur.softirq-last.softirq)/delta, tags)
		b.add("cpu_usage_steal", 100*(cur.steal-last.steal)/delta, tags)
		b.add("cpu_usage_guest", 100*(cur.guest-last.guest)/delta, tags)
		b.add("cpu_usage_guest_nice", 100*(cur.guestNice-last.guestNice)/delta, tags)
	}
	clear(c.lastCPU)
	for i := range cpus {
		c.lastCPU[cpus[i].name] = cpus[i].t
	}
	return err
}

// kernel adds Telegraf's kernel input: the counters of /proc/stat, raw,
// and the entropy pool's size.
func (c *Collector) kernel(b *batch, st *procStat) error {
	tags := b.tags()
	if st.hasIntr {
		b.add("kernel_interrupts", float64(st.intr), tags)
	}
	if st.hasCtxt {
		b.add("kernel_context_switches", float64(st.ctxt), tags)
	}
	if st.hasForks {
		b.add("kernel_processes_forked", float64(st.forks), tags)
	}
	if st.hasBtime {
		b.add("kernel_boot_time", float64(st.btime), tags)
	}
	if st.hasPage {
		b.add("kernel_disk_pages_in", float64(st.pageIn), tags)
		b.add("kernel_disk_pages_out", float64(st.pageOut), tags)
	}
	buf, err := readFile(c.proc.path("sys", "kernel", "random", "entropy_avail"), c.buf)
	c.buf = buf
	if err != nil {
		return fmt.Errorf("read entropy: %w", err)
	}
	n, ok := parseUint(trimSpace(buf))
	if !ok {
		return fmt.Errorf("read entropy: bad number %q", trimSpace(buf))
	}
	b.add("kernel_entropy_avail", float64(n), tags)
	return nil
}
