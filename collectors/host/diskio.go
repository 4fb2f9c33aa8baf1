package host

import (
	"bytes"
	"fmt"
	"time"
)

// sectorSize is the unit of /proc/diskstats' sector counts: always 512
// bytes, whatever the device's own sector size.
const sectorSize = 512

// ioCounters is one line of /proc/diskstats (Documentation/admin-guide/
// iostats.rst), sectors already in bytes.
type ioCounters struct {
	reads, mergedReads, readBytes, readTime     uint64
	writes, mergedWrites, writeBytes, writeTime uint64
	inProgress, ioTime, weightedIOTime          uint64
}

// diskStat is the counters of one block device.
type diskStat struct {
	name string
	c    ioCounters
}

// parseDiskStats parses /proc/diskstats into dst[:0], leaving out the
// devices that never did any I/O (as gopsutil does: unused loop and ram
// devices).
func parseDiskStats(b []byte, dst []diskStat, scratch [][]byte, intern func([]byte) string) ([]diskStat, [][]byte, error) {
	dst = dst[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		scratch = fields(line, scratch)
		f := scratch
		if len(f) < 14 {
			continue
		}
		var v [11]uint64
		for i := range v {
			n, ok := parseUint(f[3+i])
			if !ok {
				return dst, scratch, fmt.Errorf("diskstats %s: bad number %q", f[2], f[3+i])
			}
			v[i] = n
		}
		c := ioCounters{
			reads: v[0], mergedReads: v[1], readBytes: v[2] * sectorSize, readTime: v[3],
			writes: v[4], mergedWrites: v[5], writeBytes: v[6] * sectorSize, writeTime: v[7],
			inProgress: v[8], ioTime: v[9], weightedIOTime: v[10],
		}
		if c == (ioCounters{}) {
			continue
		}
		dst = append(dst, diskStat{name: intern(f[2]), c: c})
	}
	return dst, scratch, nil
}

// diskIO adds Telegraf's diskio input (with its defaults: every device,
// no serial number): the counters raw, and from the second collection on
// io_await and io_svctm (ms per I/O) and io_util (% of the time busy) over
// the time since the previous collection, unless a counter went backwards.
func (c *Collector) diskIO(b *batch, disks []diskStat, now time.Time) {
	itv := float64(now.Sub(c.lastIOTime).Milliseconds())
	for i := range disks {
		d := &disks[i].c
		nv := []string{"name", disks[i].name}
		if wwid := c.wwid(disks[i].name); wwid != "" {
			nv = append(nv, "wwid", wwid)
		}
		tags := b.tags(nv...)
		b.add("diskio_reads", float64(d.reads), tags)
		b.add("diskio_writes", float64(d.writes), tags)
		b.add("diskio_read_bytes", float64(d.readBytes), tags)
		b.add("diskio_write_bytes", float64(d.writeBytes), tags)
		b.add("diskio_read_time", float64(d.readTime), tags)
		b.add("diskio_write_time", float64(d.writeTime), tags)
		b.add("diskio_io_time", float64(d.ioTime), tags)
		b.add("diskio_weighted_io_time", float64(d.weightedIOTime), tags)
		b.add("diskio_iops_in_progress", float64(d.inProgress), tags)
		b.add("diskio_merged_reads", float64(d.mergedReads), tags)
		b.add("diskio_merged_writes", float64(d.mergedWrites), tags)
		last, ok := c.lastIO[disks[i].name]
		if !ok || d.reads < last.reads || d.writes < last.writes || d.readTime < last.readTime ||
			d.writeTime < last.writeTime || d.ioTime < last.ioTime {
			continue
		}
		rw := float64(d.reads-last.reads) + float64(d.writes-last.writes)
		if rw > 0 {
			b.add("diskio_io_await", (float64(d.readTime-last.readTime)+float64(d.writeTime-last.writeTime))/rw, tags)
			b.add("diskio_io_svctm", float64(d.ioTime-last.ioTime)/rw, tags)
		}
		if itv > 0 {
			b.add("diskio_io_util", 100*float64(d.ioTime-last.ioTime)/itv, tags)
		}
	}
	clear(c.lastIO)
	for i := range disks {
		c.lastIO[disks[i].name] = disks[i].c
	}
	c.lastIOTime = now
}

// wwid is the World Wide Identifier sysfs gives a device (NVMe and SCSI
// disks), Telegraf's wwid tag, or "".
func (c *Collector) wwid(name string) string {
	buf, err := readFile(c.sys.path("block", name, "wwid"), c.buf)
	c.buf = buf
	if err != nil {
		return ""
	}
	return string(bytes.TrimSuffix(buf, []byte{'\n'}))
}
