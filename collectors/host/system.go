package host

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
)

// system adds Telegraf's system input (its legacy default): load
// averages, cpu counts, users logged in (when utmp can be read, as
// Telegraf leaves them out otherwise) and uptime in seconds. uptime_format,
// a string that changes every minute, is never sent. nCPU is the number
// of online cpus, the cpu lines of /proc/stat.
func (c *Collector) system(b *batch, nCPU int) error {
	tags := b.tags()
	var errs []error
	buf, err := readFile(c.proc.path("loadavg"), c.buf)
	c.buf = buf
	if err == nil {
		f := fields(trimSpace(buf), c.scratch)
		c.scratch = f
		var l [3]float64
		ok := len(f) >= 3
		for i := 0; ok && i < 3; i++ {
			l[i], ok = parseFloat(f[i])
		}
		if ok {
			b.add("system_load1", l[0], tags)
			b.add("system_load5", l[1], tags)
			b.add("system_load15", l[2], tags)
		} else {
			err = fmt.Errorf("bad content %q", trimSpace(buf))
		}
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("read load averages: %w", err))
	}
	b.add("system_n_cpus", float64(nCPU), tags)
	if nCPU != c.physFor { // cpus came or went: count the cores again
		c.physCPUs, c.physFor = c.physicalCPUs(), nCPU
	}
	if c.physCPUs > 0 {
		b.add("system_n_physical_cpus", float64(c.physCPUs), tags)
	}
	if users, unique, ok := c.users(); ok {
		b.add("system_n_users", float64(users), tags)
		b.add("system_n_unique_users", float64(unique), tags)
	}
	if up, err := c.uptime(); err == nil {
		b.add("system_uptime", up, tags)
	} else {
		errs = append(errs, fmt.Errorf("read uptime: %w", err))
	}
	return errors.Join(errs...)
}

// uptime reads /proc/uptime in whole seconds, rounded up as sysinfo(2)
// rounds the uptime Telegraf reports.
func (c *Collector) uptime() (float64, error) {
	buf, err := readFile(c.proc.path("uptime"), c.buf)
	c.buf = buf
	if err != nil {
		return 0, err
	}
	f := fields(trimSpace(buf), c.scratch)
	c.scratch = f
	if len(f) < 1 {
		return 0, fmt.Errorf("empty")
	}
	v, ok := parseFloat(f[0])
	if !ok {
		return 0, fmt.Errorf("bad number %q", f[0])
	}
	return math.Ceil(v), nil
}

// physicalCPUs counts the cpu cores as gopsutil does: the distinct sets of
// hardware threads sharing a core in sysfs' cpu topology, else the "cpu
// cores" of each "physical id" of /proc/cpuinfo; 0 when neither says.
func (c *Collector) physicalCPUs() int {
	for _, name := range []string{"core_cpus_list", "thread_siblings_list"} {
		files, _ := filepath.Glob(c.sys.path("devices", "system", "cpu", "cpu[0-9]*", "topology", name))
		sets := make(map[string]bool, len(files))
		for _, f := range files {
			buf, err := readFile(f, c.buf)
			c.buf = buf
			if err != nil {
				continue
			}
			sets[string(trimSpace(buf))] = true
		}
		if len(sets) > 0 {
			return len(sets)
		}
	}
	buf, err := readFile(c.proc.path("cpuinfo"), c.buf)
	c.buf = buf
	if err != nil {
		return 0
	}
	cores := make(map[uint64]uint64) // cpu cores by physical id
	var id, n uint64
	var hasID, hasN bool
	for len(buf) > 0 {
		var line []byte
		line, buf = nextLine(buf)
		k, v, _ := bytes.Cut(line, []byte{':'})
		switch string(bytes.ToLower(trimSpace(k))) {
		case "":
			if hasID && hasN {
				cores[id] = n
			}
			hasID, hasN = false, false
		case "physical id":
			id, hasID = parseUint(trimSpace(v))
		case "cpu cores":
			n, hasN = parseUint(trimSpace(v))
		}
	}
	if hasID && hasN {
		cores[id] = n
	}
	total := 0
	for _, n := range cores {
		total += int(n)
	}
	return total
}

// utmp record layout of glibc on Linux (64-bit and 32-bit alike): 384
// bytes, ut_type an int16 at 0, ut_user 32 bytes at 44.
const (
	utmpSize        = 384
	utmpUserOffset  = 44
	utmpUserLen     = 32
	utmpUserProcess = 7 // ut_type of a user's login session
)

// users counts the login sessions in utmp and the distinct users that
// hold them; false when utmp cannot be read (systems that keep sessions in
// systemd-logind only have none).
func (c *Collector) users() (sessions, unique int, ok bool) {
	buf, err := readFile(c.run.path("utmp"), c.buf)
	c.buf = buf
	if err != nil {
		return 0, 0, false
	}
	names := make(map[string]bool)
	for off := 0; off+utmpSize <= len(buf); off += utmpSize {
		rec := buf[off : off+utmpSize]
		if int16(binary.NativeEndian.Uint16(rec)) != utmpUserProcess {
			continue
		}
		user := rec[utmpUserOffset : utmpUserOffset+utmpUserLen]
		if i := bytes.IndexByte(user, 0); i >= 0 {
			user = user[:i]
		}
		sessions++
		names[string(user)] = true
	}
	return sessions, len(names), true
}
