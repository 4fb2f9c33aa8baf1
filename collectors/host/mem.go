package host

import (
	"bytes"
	"fmt"
)

// The lines of /proc/meminfo the mem and swap inputs read, as indexes of
// memInfo.v.
const (
	miMemTotal = iota
	miMemFree
	miMemAvailable
	miBuffers
	miCached
	miActive
	miInactive
	miWriteback
	miWritebackTmp
	miDirty
	miShmem
	miSlab
	miSReclaimable
	miSUnreclaim
	miPageTables
	miSwapCached
	miCommitLimit
	miCommittedAS
	miHighTotal
	miHighFree
	miLowTotal
	miLowFree
	miSwapTotal
	miSwapFree
	miMapped
	miVmallocTotal
	miVmallocUsed
	miVmallocChunk
	miHugePagesTotal
	miHugePagesFree
	miHugepagesize
	miCount
)

// memKeys names each line of /proc/meminfo by its index.
var memKeys = [miCount]string{
	miMemTotal: "MemTotal", miMemFree: "MemFree", miMemAvailable: "MemAvailable",
	miBuffers: "Buffers", miCached: "Cached", miActive: "Active", miInactive: "Inactive",
	miWriteback: "Writeback", miWritebackTmp: "WritebackTmp", miDirty: "Dirty", miShmem: "Shmem",
	miSlab: "Slab", miSReclaimable: "SReclaimable", miSUnreclaim: "SUnreclaim",
	miPageTables: "PageTables", miSwapCached: "SwapCached", miCommitLimit: "CommitLimit",
	miCommittedAS: "Committed_AS", miHighTotal: "HighTotal", miHighFree: "HighFree",
	miLowTotal: "LowTotal", miLowFree: "LowFree", miSwapTotal: "SwapTotal", miSwapFree: "SwapFree",
	miMapped: "Mapped", miVmallocTotal: "VmallocTotal", miVmallocUsed: "VmallocUsed",
	miVmallocChunk: "VmallocChunk", miHugePagesTotal: "HugePages_Total",
	miHugePagesFree: "HugePages_Free", miHugepagesize: "Hugepagesize",
}

// memFields are Telegraf's mem fields on Linux that are one meminfo line
// each, in bytes (page counts for huge_pages_*); a line the kernel does not
// have is 0, as gopsutil leaves it.
var memFields = [...]struct {
	name string
	key  int
}{
	{"mem_active", miActive}, {"mem_buffered", miBuffers}, {"mem_commit_limit", miCommitLimit},
	{"mem_committed_as", miCommittedAS}, {"mem_dirty", miDirty}, {"mem_free", miMemFree},
	{"mem_high_free", miHighFree}, {"mem_high_total", miHighTotal},
	{"mem_huge_pages_free", miHugePagesFree}, {"mem_huge_page_size", miHugepagesize},
	{"mem_huge_pages_total", miHugePagesTotal}, {"mem_inactive", miInactive},
	{"mem_low_free", miLowFree}, {"mem_low_total", miLowTotal}, {"mem_mapped", miMapped},
	{"mem_page_tables", miPageTables}, {"mem_shared", miShmem}, {"mem_slab", miSlab},
	{"mem_sreclaimable", miSReclaimable}, {"mem_sunreclaim", miSUnreclaim},
	{"mem_swap_cached", miSwapCached}, {"mem_swap_free", miSwapFree},
	{"mem_swap_total", miSwapTotal}, {"mem_vmalloc_chunk", miVmallocChunk},
	{"mem_vmalloc_total", miVmallocTotal}, {"mem_vmalloc_used", miVmallocUsed},
	{"mem_write_back_tmp", miWritebackTmp}, {"mem_write_back", miWriteback},
}

// memInfo is /proc/meminfo in bytes (kB lines times 1024; the huge page
// counts as they are).
type memInfo struct {
	v    [miCount]uint64
	seen [miCount]bool
}

// parseMemInfo parses /proc/meminfo into mi.
func parseMemInfo(b []byte, mi *memInfo) error {
	*mi = memInfo{}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		i := memKeyIndex(key)
		if i < 0 {
			continue
		}
		val = trimSpace(val)
		kb := bytes.HasSuffix(val, []byte(" kB"))
		if kb {
			val = trimSpace(val[:len(val)-3])
		}
		n, ok := parseUint(val)
		if !ok {
			return fmt.Errorf("meminfo %s: bad number %q", key, val)
		}
		if kb {
			n *= 1024
		}
		mi.v[i], mi.seen[i] = n, true
	}
	if !mi.seen[miMemTotal] {
		return fmt.Errorf("meminfo has no MemTotal")
	}
	return nil
}

// memKeyIndex returns the index of a meminfo key, or -1.
func memKeyIndex(key []byte) int {
	for i, k := range memKeys {
		if string(key) == k {
			return i
		}
	}
	return -1
}

// mem adds Telegraf's mem input on Linux. As gopsutil: cached includes
// the reclaimable slab (as free(1) counts it), available is MemAvailable
// (on kernels before 3.14, which lack it, cached + free), and used is
// total - available.
func (c *Collector) mem(b *batch, mi *memInfo) {
	tags := b.tags()
	v := &mi.v
	cached := v[miCached] + v[miSReclaimable]
	avail := v[miMemAvailable]
	if !mi.seen[miMemAvailable] {
		avail = cached + v[miMemFree]
	}
	total := v[miMemTotal]
	used := total - avail
	b.add("mem_total", float64(total), tags)
	b.add("mem_available", float64(avail), tags)
	b.add("mem_used", float64(used), tags)
	b.add("mem_used_percent", 100*float64(used)/float64(total), tags)
	b.add("mem_available_percent", 100*float64(avail)/float64(total), tags)
	b.add("mem_cached", float64(cached), tags)
	for _, f := range memFields {
		b.add(f.name, float64(v[f.key]), tags)
	}
}

// swapPageSize is the unit gopsutil multiplies /proc/vmstat's pswpin and
// pswpout by: 4 KiB, whatever the machine's page size.
const swapPageSize = 4096

// vmStat is what the swap input takes from /proc/vmstat: pages swapped in
// and out since boot.
type vmStat struct {
	pswpin, pswpout uint64
	scratch         [][]byte
}

// parseVMStat parses /proc/vmstat into vs.
func parseVMStat(b []byte, vs *vmStat) {
	vs.pswpin, vs.pswpout = 0, 0
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		vs.scratch = fields(line, vs.scratch)
		if len(vs.scratch) < 2 {
			continue
		}
		switch string(vs.scratch[0]) {
		case "pswpin":
			vs.pswpin, _ = parseUint(vs.scratch[1])
		case "pswpout":
			vs.pswpout, _ = parseUint(vs.scratch[1])
		}
	}
}

// swap adds Telegraf's swap input: sizes from /proc/meminfo (the numbers
// sysinfo(2) gives gopsutil), the counters in bytes, raw.
func (c *Collector) swap(b *batch, mi *memInfo, vs *vmStat) {
	tags := b.tags()
	total, free := mi.v[miSwapTotal], mi.v[miSwapFree]
	pct := 0.0
	if total != 0 {
		pct = float64(total-free) / float64(total) * 100
	}
	b.add("swap_total", float64(total), tags)
	b.add("swap_used", float64(total-free), tags)
	b.add("swap_free", float64(free), tags)
	b.add("swap_used_percent", pct, tags)
	b.add("swap_in", float64(vs.pswpin*swapPageSize), tags)
	b.add("swap_out", float64(vs.pswpout*swapPageSize), tags)
}
