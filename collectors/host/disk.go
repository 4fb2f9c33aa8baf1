package host

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FSUsage is what statfs(2) tells of a mounted file system; block counts
// are in units of Bsize.
type FSUsage struct {
	Blocks, Bfree, Bavail, Bsize uint64
	Files, Ffree                 uint64
}

// mount is one line of /proc/<pid>/mountinfo.
type mount struct {
	majMin string // the st_dev of its files, "254:0"
	device string // as gopsutil names it: the source, or the root for a pseudo file system
	point  string // the mount point, unescaped
	fstype string
	mode   string // rw, ro or unknown
}

// readMounts reads the mount table as gopsutil does: init's (pid 1), so
// the host's mounts are seen from a private mount namespace, else the
// collector's own.
func (c *Collector) readMounts() ([]mount, error) {
	var err error
	for _, pid := range []string{"1", "self"} {
		var buf []byte
		buf, err = readFile(c.proc.path(pid, "mountinfo"), c.buf)
		c.buf = buf
		if err == nil {
			return c.parseMountInfo(buf)
		}
	}
	return nil, fmt.Errorf("read mount table: %w", err)
}

// parseMountInfo parses a mountinfo file (proc_pid_mountinfo(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2) (3)  (4)   (5)     (6)       (7)   (8) (9)    (10)       (11)
func (c *Collector) parseMountInfo(b []byte) ([]mount, error) {
	var out []mount
	seen := make(map[string]string) // device of the first mount of each st_dev
	var f1, f2 [][]byte
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		left, right, ok := bytes.Cut(line, []byte(" - "))
		if !ok {
			return nil, fmt.Errorf("mountinfo line %q has no separator", line)
		}
		f1, f2 = fields(left, f1), fields(right, f2)
		if len(f1) < 5 || len(f2) < 2 {
			return nil, fmt.Errorf("mountinfo line %q is too short", line)
		}
		var mountOpts, superOpts []byte
		if len(f1) >= 6 {
			mountOpts = f1[5]
		}
		if len(f2) >= 3 {
			superOpts = f2[2]
		}
		m := mount{
			majMin: string(f1[2]),
			point:  unescapeMount(f1[4]),
			fstype: string(f2[0]),
			mode:   mountMode(mountOpts, superOpts),
		}
		// A pseudo file system's source is free text; gopsutil names it by
		// its root instead, unless that is "/".
		rootDir, src := string(f1[3]), string(f2[1])
		m.device = rootDir
		if strings.HasPrefix(src, "/") || rootDir == "/" {
			m.device = src
		}
		if first, ok := seen[m.majMin]; ok { // a bind mount: the device's first name
			m.device = first
		} else {
			seen[m.majMin] = m.device
		}
		// /dev/root and /dev/mapper/<name> are not the kernel's name of the
		// block device; sysfs gives it from the device number (dm-0, vda).
		if m.device == "/dev/root" || strings.HasPrefix(m.device, "/dev/mapper/") {
			if link, err := os.Readlink(c.sys.path("dev", "block", m.majMin)); err == nil {
				m.device = "/dev/" + filepath.Base(link)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// mountMode is Telegraf's mode tag: ro when the mount or its super block
// is read-only, else rw when the mount is read-write, else unknown.
func mountMode(mountOpts, superOpts []byte) string {
	switch {
	case hasOpt(mountOpts, "ro") || hasOpt(superOpts, "ro"):
		return "ro"
	case hasOpt(mountOpts, "rw"):
		return "rw"
	}
	return "unknown"
}

// hasOpt reports whether the comma-separated list opts holds opt.
func hasOpt(opts []byte, opt string) bool {
	for len(opts) > 0 {
		var o []byte
		o, opts, _ = bytes.Cut(opts, []byte{','})
		if string(o) == opt {
			return true
		}
	}
	return false
}

// disk adds Telegraf's disk input: the usage of every mounted file system
// whose type is not ignored, one series group per mount point (the last
// mount of a mount point, the one visible, wins: Telegraf sends both and
// outpost keeps the last).
func (c *Collector) disk(b *batch) error {
	mounts, err := c.readMounts()
	if err != nil {
		return err
	}
	last := make(map[string]int, len(mounts)) // the index of each mount point's last mount
	for i, m := range mounts {
		last[m.point] = i
	}
	var errs []error
	for i, m := range mounts {
		if last[m.point] != i || m.fstype == "autofs" || slices.Contains(c.cfg.IgnoreFS, m.fstype) {
			continue
		}
		at := m.point
		if p := c.cfg.MountPrefix; p != "" && !strings.HasPrefix(at, p) {
			at = filepath.Join(p, at)
			if _, ok := last[at]; ok { // the prefixed path is itself a mount: that one counts
				continue
			}
		}
		u, err := c.fs.call(at)
		if err != nil {
			// Telegraf skips a mount it cannot stat (permission, a stale
			// network mount); one error is kept for the log.
			if len(errs) == 0 && !errors.Is(err, os.ErrPermission) {
				errs = append(errs, fmt.Errorf("statfs %s: %w", at, err))
			}
			continue
		}
		if u.Blocks == 0 { // proc, sysfs, cgroup…
			continue
		}
		c.diskUsage(b, m, u)
	}
	return errors.Join(errs...)
}

// diskUsage adds the series of one mount, computed as gopsutil and
// Telegraf do (used and free exclude the blocks reserved for root, so used
// percent is of the space a user can fill).
func (c *Collector) diskUsage(b *batch, m mount, u FSUsage) {
	device := m.device
	if device == "none" || device == "" {
		device = m.fstype
	}
	path := filepath.Join("/", strings.TrimPrefix(m.point, c.cfg.MountPrefix))
	nv := []string{"path", path, "device", strings.ReplaceAll(device, "/dev/", ""), "fstype", m.fstype, "mode", m.mode}
	if strings.HasPrefix(m.device, "/dev/") {
		if label := c.diskLabel(strings.TrimPrefix(m.device, "/dev/"), m.majMin); label != "" {
			nv = append(nv, "label", label)
		}
	}
	tags := b.tags(nv...)
	total := u.Blocks * u.Bsize
	free := u.Bavail * u.Bsize
	used := (u.Blocks - u.Bfree) * u.Bsize
	var inodesUsed uint64
	if u.Files >= u.Ffree {
		inodesUsed = u.Files - u.Ffree
	}
	pct, ipct := 0.0, 0.0
	if used+free > 0 {
		pct = float64(used) / (float64(used) + float64(free)) * 100
	}
	if inodesUsed+u.Ffree > 0 {
		ipct = float64(inodesUsed) / (float64(inodesUsed) + float64(u.Ffree)) * 100
	}
	b.add("disk_total", float64(total), tags)
	b.add("disk_free", float64(free), tags)
	b.add("disk_used", float64(used), tags)
	b.add("disk_used_percent", pct, tags)
	b.add("disk_inodes_total", float64(u.Files), tags)
	b.add("disk_inodes_free", float64(u.Ffree), tags)
	b.add("disk_inodes_used", float64(inodesUsed), tags)
	b.add("disk_inodes_used_percent", ipct, tags)
}

// diskLabel is Telegraf's label tag of a disk: the device-mapper name
// (vg-root) of a dm device, else the file system label udev recorded.
func (c *Collector) diskLabel(name, majMin string) string {
	if buf, err := readFile(c.sys.path("block", name, "dm", "name"), c.buf); err == nil {
		c.buf = buf
		return string(trimSpace(buf))
	}
	buf, err := readFile(c.run.path("udev", "data", "b"+majMin), c.buf)
	c.buf = buf
	if err != nil {
		return ""
	}
	for len(buf) > 0 {
		var line []byte
		line, buf = nextLine(buf)
		if v, ok := bytes.CutPrefix(line, []byte("E:ID_FS_LABEL=")); ok {
			return string(v)
		}
	}
	return ""
}
