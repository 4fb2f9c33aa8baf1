package host

// fixtureWant is every sample of the fixture's second collection (t1,
// 10 s after t0), computed by hand from the numbers of the two snapshots;
// testdata/README.md shows where each comes from.
func fixtureWant() map[string]float64 {
	const kB = 1024
	w := map[string]float64{}
	common := `db="telegraf",host="bastion"`
	put := func(name, tags string, v float64) {
		if tags == "" {
			w[name+"{"+common+"}"] = v
			return
		}
		w[name+"{"+tags+"}"] = v
	}

	// cpu: percent of each cpu's delta of total time (user includes guest,
	// so guest is taken out of user, guest_nice out of nice).
	type usage struct{ user, system, idle, nice, iowait, irq, softirq, steal, guest, guestNice float64 }
	for cpu, u := range map[string]usage{
		// deltas (jiffies) user 1200 nice 40 system 400 idle 2000 iowait 200
		// irq 20 softirq 60 steal 80 = 4000; guest 100, guest_nice 10
		"cpu-total": {27.5, 10, 50, 0.75, 5, 0.5, 1.5, 2, 2.5, 0.25},
		// 300 10 100 500 50 5 15 20 = 1000; guest 100, guest_nice 10
		"cpu0": {20, 10, 50, 0, 5, 0.5, 1.5, 2, 10, 1},
		// user 900 nice 30 irq 15 softirq 45 steal 10 = 1000
		"cpu1": {90, 0, 0, 3, 0, 1.5, 4.5, 1, 0, 0},
		// system 300 idle 500 iowait 150 steal 50 = 1000
		"cpu2": {0, 30, 50, 0, 15, 0, 0, 5, 0, 0},
		// idle 1000
		"cpu3": {0, 0, 100, 0, 0, 0, 0, 0, 0, 0},
	} {
		tags := `cpu="` + cpu + `",` + common
		put("cpu_usage_user", tags, u.user)
		put("cpu_usage_system", tags, u.system)
		put("cpu_usage_idle", tags, u.idle)
		put("cpu_usage_nice", tags, u.nice)
		put("cpu_usage_iowait", tags, u.iowait)
		put("cpu_usage_irq", tags, u.irq)
		put("cpu_usage_softirq", tags, u.softirq)
		put("cpu_usage_steal", tags, u.steal)
		put("cpu_usage_guest", tags, u.guest)
		put("cpu_usage_guest_nice", tags, u.guestNice)
	}

	put("kernel_interrupts", "", 1012345)
	put("kernel_context_switches", "", 5050000)
	put("kernel_processes_forked", "", 20100)
	put("kernel_boot_time", "", 1796314126)
	put("kernel_entropy_avail", "", 256)

	// mem: MemTotal 16000000 kB, MemAvailable 10000000 kB.
	put("mem_total", "", 16000000*kB)
	put("mem_available", "", 10000000*kB)
	put("mem_used", "", 6000000*kB)
	put("mem_used_percent", "", 37.5)
	put("mem_available_percent", "", 62.5)
	put("mem_cached", "", (6000000+400000)*kB) // Cached + SReclaimable
	put("mem_active", "", 7000000*kB)
	put("mem_buffered", "", 500000*kB)
	put("mem_commit_limit", "", 12341876*kB)
	put("mem_committed_as", "", 1033380*kB)
	put("mem_dirty", "", 17088*kB)
	put("mem_free", "", 2000000*kB)
	put("mem_high_free", "", 0)
	put("mem_high_total", "", 0)
	put("mem_huge_pages_free", "", 8)
	put("mem_huge_page_size", "", 2048*kB)
	put("mem_huge_pages_total", "", 16)
	put("mem_inactive", "", 3000000*kB)
	put("mem_low_free", "", 0)
	put("mem_low_total", "", 0)
	put("mem_mapped", "", 32496*kB)
	put("mem_page_tables", "", 3736*kB)
	put("mem_shared", "", 9744*kB)
	put("mem_slab", "", 450000*kB)
	put("mem_sreclaimable", "", 400000*kB)
	put("mem_sunreclaim", "", 50000*kB)
	put("mem_swap_cached", "", 1000*kB)
	put("mem_swap_free", "", 3000000*kB)
	put("mem_swap_total", "", 4000000*kB)
	put("mem_vmalloc_chunk", "", 0)
	put("mem_vmalloc_total", "", 34359738367*kB)
	put("mem_vmalloc_used", "", 14604*kB)
	put("mem_write_back_tmp", "", 0)
	put("mem_write_back", "", 60*kB)

	put("swap_total", "", 4000000*kB)
	put("swap_used", "", 1000000*kB)
	put("swap_free", "", 3000000*kB)
	put("swap_used_percent", "", 25)
	put("swap_in", "", 150*4096) // pswpin pages of 4 KiB
	put("swap_out", "", 260*4096)

	put("system_load1", "", 0.75)
	put("system_load5", "", 1.30)
	put("system_load15", "", 2.01)
	put("system_n_cpus", "", 4)
	put("system_n_physical_cpus", "", 2) // core_cpus_list 0-1 and 2-3
	put("system_n_users", "", 3)         // utmp: alice twice, bob
	put("system_n_unique_users", "", 2)
	put("system_uptime", "", 12355)

	// disk: used = (blocks - bfree) × bsize, free = bavail × bsize,
	// used_percent = used / (used + free).
	type du struct {
		tags                       string
		total, free, used, pct     float64
		itotal, ifree, iused, ipct float64
	}
	for _, d := range []du{
		{`db="telegraf",device="vda1",fstype="ext4",host="bastion",label="cloudimg-rootfs",mode="rw",path="/"`,
			1000 * 4096, 350 * 4096, 600 * 4096, 600.0 / 950 * 100, 1000, 900, 100, 10},
		{`db="telegraf",device="vda1",fstype="ext4",host="bastion",label="cloudimg-rootfs",mode="ro",path="/var/www"`,
			1000 * 4096, 350 * 4096, 600 * 4096, 600.0 / 950 * 100, 1000, 900, 100, 10},
		{`db="telegraf",device="dm-0",fstype="xfs",host="bastion",label="vg0-data",mode="rw",path="/var/lib/outpost"`,
			2000 * 1024, 1500 * 1024, 500 * 1024, 25, 500, 500, 0, 0},
		{`db="telegraf",device="sdb1",fstype="vfat",host="bastion",mode="rw",path="/mnt/My Disk"`,
			100 * 512, 100 * 512, 0, 0, 0, 0, 0, 0},
		{`db="telegraf",device="nas:/export",fstype="nfs4",host="bastion",mode="rw",path="/mnt/nas"`,
			10 << 20, 5 << 20, 5 << 20, 50, 100, 50, 50, 50},
		{`db="telegraf",device="sda1",fstype="vfat",host="bastion",mode="ro",path="/boot/efi"`,
			100 * 4096, 50 * 4096, 50 * 4096, 50, 0, 0, 0, 0},
		{`db="telegraf",device="ramfs",fstype="ramfs",host="bastion",mode="rw",path="/mnt/scratch"`,
			4096, 4096, 0, 0, 0, 0, 0, 0},
		{`db="telegraf",device="sdd1",fstype="ext4",host="bastion",mode="rw",path="/data"`,
			300 * 4096, 100 * 4096, 200 * 4096, 200.0 / 300 * 100, 30, 10, 20, 20.0 / 30 * 100},
	} {
		put("disk_total", d.tags, d.total)
		put("disk_free", d.tags, d.free)
		put("disk_used", d.tags, d.used)
		put("disk_used_percent", d.tags, d.pct)
		put("disk_inodes_total", d.tags, d.itotal)
		put("disk_inodes_free", d.tags, d.ifree)
		put("disk_inodes_used", d.tags, d.iused)
		put("disk_inodes_used_percent", d.tags, d.ipct)
	}

	// diskio: the counters of t1; sectors × 512.
	type io struct {
		tags                                                         string
		reads, merged, rbytes, rtime, writes, mergedW, wbytes, wtime float64
		inflight, iotime, weighted                                   float64
	}
	for _, d := range []io{
		{`db="telegraf",host="bastion",name="vda"`, 10100, 500, 808000 * 512, 20200, 30300, 1000, 2448000 * 512, 101000, 2, 52500, 121300},
		{`db="telegraf",host="bastion",name="vda1"`, 9000, 400, 700000 * 512, 18000, 29000, 900, 2300000 * 512, 90000, 0, 45000, 108000},
		{`db="telegraf",host="bastion",name="dm-0"`, 4000, 0, 400000 * 512, 9000, 8000, 0, 640000 * 512, 40000, 1, 20000, 49000},
		{`db="telegraf",host="bastion",name="nvme0n1",wwid="eui.0025385b71b0a1c2"`, 100, 0, 8000 * 512, 50, 300, 0, 24000 * 512, 350, 0, 500, 400},
	} {
		put("diskio_reads", d.tags, d.reads)
		put("diskio_merged_reads", d.tags, d.merged)
		put("diskio_read_bytes", d.tags, d.rbytes)
		put("diskio_read_time", d.tags, d.rtime)
		put("diskio_writes", d.tags, d.writes)
		put("diskio_merged_writes", d.tags, d.mergedW)
		put("diskio_write_bytes", d.tags, d.wbytes)
		put("diskio_write_time", d.tags, d.wtime)
		put("diskio_iops_in_progress", d.tags, d.inflight)
		put("diskio_io_time", d.tags, d.iotime)
		put("diskio_weighted_io_time", d.tags, d.weighted)
	}
	// vda: 100 reads + 300 writes taking 200 + 1000 ms, busy 2500 ms of
	// the 10,000 between the collections.
	put("diskio_io_await", `db="telegraf",host="bastion",name="vda"`, 3)
	put("diskio_io_svctm", `db="telegraf",host="bastion",name="vda"`, 6.25)
	put("diskio_io_util", `db="telegraf",host="bastion",name="vda"`, 25)
	// vda1 did nothing: no per-I/O figures, 0% busy.
	put("diskio_io_util", `db="telegraf",host="bastion",name="vda1"`, 0)
	// dm-0's reads went backwards (a counter reset): no figures at all.
	// nvme0n1: 100 writes taking 50 ms, busy 100 ms.
	nvme := `db="telegraf",host="bastion",name="nvme0n1",wwid="eui.0025385b71b0a1c2"`
	put("diskio_io_await", nvme, 0.5)
	put("diskio_io_svctm", nvme, 1)
	put("diskio_io_util", nvme, 1)

	// net: eth0 only (lo is a loopback, docker0 down, wlan0 not in sysfs).
	eth0 := `db="telegraf",host="bastion",interface="eth0"`
	put("net_bytes_recv", eth0, 1001250000)
	put("net_packets_recv", eth0, 801000)
	put("net_err_in", eth0, 3)
	put("net_drop_in", eth0, 5)
	put("net_bytes_sent", eth0, 200250000)
	put("net_packets_sent", eth0, 500400)
	put("net_err_out", eth0, 1)
	put("net_drop_out", eth0, 2)
	put("net_speed", eth0, 1000)

	// processes of t1: 1 S, 2 I, 300 R (3 threads), 301 Z, 303 S (2
	// threads), 304 t; 302 exited, 306 has no stat file.
	for name, v := range map[string]float64{
		"total": 6, "running": 1, "sleeping": 2, "blocked": 0, "zombies": 1, "stopped": 1,
		"dead": 0, "paging": 0, "idle": 1, "unknown": 0, "total_threads": 9,
	} {
		put("processes_"+name, "", v)
	}
	return w
}
