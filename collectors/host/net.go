package host

import (
	"bytes"
	"fmt"
	"strconv"
)

// Interface flags (linux/if.h), as sysfs shows them in class/net/*/flags.
const (
	iffUp       = 0x1
	iffLoopback = 0x8
)

// netStat is one interface's line of /proc/net/dev.
type netStat struct {
	name                                    string
	bytesRecv, packetsRecv, errIn, dropIn   uint64
	bytesSent, packetsSent, errOut, dropOut uint64
}

// parseNetDev parses /proc/net/dev into dst[:0].
func parseNetDev(b []byte, dst []netStat, scratch [][]byte, intern func([]byte) string) ([]netStat, [][]byte, error) {
	dst = dst[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok { // the two header lines
			continue
		}
		scratch = fields(rest, scratch)
		if len(scratch) < 16 {
			return dst, scratch, fmt.Errorf("net/dev line %q has %d numbers, want 16", trimSpace(name), len(scratch))
		}
		var v [16]uint64
		for i := range v {
			n, ok := parseUint(scratch[i])
			if !ok {
				return dst, scratch, fmt.Errorf("net/dev %s: bad number %q", trimSpace(name), scratch[i])
			}
			v[i] = n
		}
		dst = append(dst, netStat{
			name:      intern(trimSpace(name)),
			bytesRecv: v[0], packetsRecv: v[1], errIn: v[2], dropIn: v[3],
			bytesSent: v[8], packetsSent: v[9], errOut: v[10], dropOut: v[11],
		})
	}
	return dst, scratch, nil
}

// net adds Telegraf's net input with its defaults: every interface that is
// up and not a loopback (by its flags in sysfs, the flags Telegraf reads
// over netlink), counters raw, and the link speed in Mbit/s (-1 when the
// interface has none, as virtual ones).
func (c *Collector) net(b *batch, ifs []netStat) {
	for i := range ifs {
		n := &ifs[i]
		flags, ok := c.ifFlags(n.name)
		if !ok || flags&iffLoopback != 0 || flags&iffUp == 0 {
			continue
		}
		tags := b.tags("interface", n.name)
		b.add("net_bytes_sent", float64(n.bytesSent), tags)
		b.add("net_bytes_recv", float64(n.bytesRecv), tags)
		b.add("net_packets_sent", float64(n.packetsSent), tags)
		b.add("net_packets_recv", float64(n.packetsRecv), tags)
		b.add("net_err_in", float64(n.errIn), tags)
		b.add("net_err_out", float64(n.errOut), tags)
		b.add("net_drop_in", float64(n.dropIn), tags)
		b.add("net_drop_out", float64(n.dropOut), tags)
		b.add("net_speed", float64(c.ifSpeed(n.name)), tags)
	}
}

// ifFlags reads an interface's flags; false when sysfs does not list it.
func (c *Collector) ifFlags(name string) (uint64, bool) {
	buf, err := readFile(c.sys.path("class", "net", name, "flags"), c.buf)
	c.buf = buf
	if err != nil {
		return 0, false
	}
	s := string(trimSpace(buf))
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

// ifSpeed reads an interface's speed in Mbit/s, -1 when unknown (the
// read fails with EINVAL for interfaces without a link speed).
func (c *Collector) ifSpeed(name string) int64 {
	buf, err := readFile(c.sys.path("class", "net", name, "speed"), c.buf)
	c.buf = buf
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(string(trimSpace(buf)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}
