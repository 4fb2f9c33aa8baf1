// Package host collects this machine's metrics — cpu, memory, swap, disks,
// disk I/O, network, load, uptime, processes and kernel counters — and
// writes them through a collectors.Writer every Config.Interval, under the
// very names, labels and units that Telegraf's cpu (percpu and totalcpu),
// mem, swap, disk, diskio, net, system, processes and kernel inputs create
// when Telegraf writes to outpost's InfluxDB API with its default
// database: so the machine outpost runs on appears on its own host
// dashboard, and the default alert rules watch it, like any other host.
//
// # Types
//
//   - Config, DefaultConfig, Validate: the "host" configuration section.
//   - Collector (New, Run, Collect, Stats): reads and writes the metrics.
//   - Options, FSUsage: the logger, the clock and the statfs(2) a test
//     replaces.
//
// # Names
//
// A Telegraf field f of measurement m is the metric m_f (DESIGN.md §3),
// with Telegraf's tags, label host (the hostname, or Config.Hostname) and
// label db="telegraf" (Config.DB; "" for none), the label outpost's
// InfluxDB write API adds for Telegraf's default database. For example:
//
//	cpu_usage_idle{cpu="cpu-total",db="telegraf",host="bastion"}
//	mem_used_percent{db="telegraf",host="bastion"}
//	disk_used_percent{db="telegraf",device="vda",fstype="ext4",host="bastion",mode="rw",path="/"}
//	diskio_reads{db="telegraf",host="bastion",name="vda"}
//	net_bytes_recv{db="telegraf",host="bastion",interface="eth0"}
//	system_load1, system_uptime, processes_total, kernel_context_switches
//
// Counters (diskio_*, net_* but speed, swap_in and swap_out, kernel_*) are
// stored raw, as Telegraf sends them: query them with rate(). cpu_usage_*
// are percentages of the time between two collections, computed from
// /proc/stat's jiffies exactly as Telegraf computes them; the first
// collection has none. Telegraf's string field uptime_format is never
// written. When the machine also runs Telegraf sending to outpost, the two
// write the same series: turn one of them off.
//
// # Sources
//
// Everything is read from files: procfs (stat, meminfo, vmstat, loadavg,
// uptime, diskstats, net/dev, 1/mountinfo, sys/kernel/random/entropy_avail,
// <pid>/stat), sysfs (interface flags and speed, cpu topology, block device
// names) and /run (utmp, udev's file system labels), each under a
// configured root, plus statfs(2) of each mount point. Telegraf reads the
// same files, through gopsutil for most inputs and directly for kernel and
// processes; this package reads them directly, with gopsutil's arithmetic
// (memory used = total - available, cached includes the reclaimable slab,
// disk used percent of the space users can fill), because a test can then
// point every read at a fixed tree under testdata/ and replace statfs, one
// /proc/stat read serves the cpu, kernel and system inputs, and the
// collection allocates little.
//
// # Concurrency
//
// A Collector keeps the previous collection's counters: Run, or Collect,
// runs on one goroutine at a time. Stats is safe for concurrent use.
//
// The package imports collectors and tsdb only.
package host
