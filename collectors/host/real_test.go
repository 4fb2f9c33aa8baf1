package host

import (
	"context"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"outpost/tsdb"
)

// openStore opens a real store in a temporary directory.
func openStore(t testing.TB) *tsdb.DB {
	t.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	db, err := tsdb.Open(cfg, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

// TestCollector_Run_RealProc runs the collector over this machine's own
// procfs and sysfs into a real store until the second collection (the
// first with cpu percentages) is stored, then checks that every series a
// host dashboard reads exists with Telegraf's labels.
func TestCollector_Run_RealProc(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no procfs on this machine")
	}
	db := openStore(t)
	cfg := DefaultConfig()
	cfg.Interval = 200 * time.Millisecond
	cfg.Hostname = "bastion-test"
	c, err := New(cfg, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	idle := tsdb.MustNewMatcher(tsdb.MatchEqual, tsdb.MetricName, "cpu_usage_idle")
	for i := 0; ; i++ { // bounded: 20 s
		ls, err := db.Series(ctx, tsdb.MinTime, tsdb.MaxTime, idle)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) > 0 {
			break
		}
		if i == 200 {
			t.Fatal("no cpu_usage_idle series after 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	if n := c.Stats().Samples.Load(); n == 0 {
		t.Error("no samples counted as written")
	}
	if r := c.Stats().Rejections(); len(r) > 0 {
		t.Errorf("rejections: %+v", r)
	}

	all, err := db.Series(t.Context(), tsdb.MinTime, tsdb.MaxTime, tsdb.MustNewMatcher(tsdb.MatchEqual, "host", "bastion-test"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]tsdb.Labels{}
	for _, ls := range all {
		if ls.Get("db") != "telegraf" {
			t.Errorf("%s has no db=\"telegraf\"", ls)
		}
		byName[ls.Get(tsdb.MetricName)] = append(byName[ls.Get(tsdb.MetricName)], ls)
	}
	// The series the host dashboard and the default rules read
	// (../shared/reference/host-dashboard.md), with their own labels.
	want := map[string][]string{
		"cpu_usage_user": {"cpu"}, "cpu_usage_system": {"cpu"}, "cpu_usage_idle": {"cpu"},
		"cpu_usage_iowait": {"cpu"}, "cpu_usage_steal": {"cpu"}, "cpu_usage_softirq": {"cpu"},
		"cpu_usage_nice": {"cpu"}, "cpu_usage_irq": {"cpu"}, "cpu_usage_guest": {"cpu"},
		"cpu_usage_guest_nice": {"cpu"},
		"system_load1":         nil, "system_load5": nil, "system_load15": nil, "system_n_cpus": nil,
		"system_uptime":    nil,
		"mem_used_percent": nil, "mem_used": nil, "mem_cached": nil, "mem_buffered": nil,
		"mem_free": nil, "mem_available": nil, "mem_total": nil, "mem_available_percent": nil,
		"swap_used_percent": nil, "swap_total": nil, "swap_used": nil, "swap_free": nil,
		"swap_in": nil, "swap_out": nil,
		"processes_total": nil, "processes_running": nil, "processes_sleeping": nil,
		"processes_blocked": nil, "processes_zombies": nil, "processes_stopped": nil,
		"processes_idle": nil, "processes_total_threads": nil,
		"kernel_context_switches": nil, "kernel_interrupts": nil, "kernel_processes_forked": nil,
		"kernel_boot_time": nil,
	}
	// Disks, disk I/O and interfaces depend on the machine: expect them
	// when it has a mount, a device or an interface Telegraf would report.
	if c.hasDisk(t) {
		for _, n := range []string{"disk_used_percent", "disk_total", "disk_used", "disk_free",
			"disk_inodes_total", "disk_inodes_used", "disk_inodes_free"} {
			want[n] = []string{"path", "device", "fstype", "mode"}
		}
	}
	if len(c.disks) > 0 {
		for _, n := range []string{"diskio_reads", "diskio_writes", "diskio_read_bytes", "diskio_write_bytes",
			"diskio_read_time", "diskio_write_time", "diskio_io_time", "diskio_weighted_io_time",
			"diskio_iops_in_progress"} {
			want[n] = []string{"name"}
		}
	}
	if c.hasInterface() {
		for _, n := range []string{"net_bytes_sent", "net_bytes_recv", "net_packets_sent", "net_packets_recv",
			"net_err_in", "net_err_out", "net_drop_in", "net_drop_out"} {
			want[n] = []string{"interface"}
		}
	}
	for name, labels := range want {
		series := byName[name]
		if len(series) == 0 {
			t.Errorf("no series %s", name)
			continue
		}
		for _, ls := range series {
			for _, l := range labels {
				if ls.Get(l) == "" {
					t.Errorf("%s has no label %s", ls, l)
				}
			}
		}
	}
	cpus := map[string]bool{}
	for _, ls := range byName["cpu_usage_idle"] {
		cpus[ls.Get("cpu")] = true
	}
	if !cpus["cpu-total"] || !cpus["cpu0"] {
		t.Errorf("cpu_usage_idle for cpus %v, want cpu-total and cpu0 among them", slices.Sorted(maps.Keys(cpus)))
	}
	if _, ok := byName["system_uptime_format_info"]; ok {
		t.Error("uptime_format stored")
	}
}

// hasDisk reports whether this machine has a mount whose disk_* series
// Telegraf would send: a type not ignored, with blocks.
func (c *Collector) hasDisk(t *testing.T) bool {
	ms, err := c.readMounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.fstype == "autofs" || slices.Contains(c.cfg.IgnoreFS, m.fstype) {
			continue
		}
		if u, err := c.fs.call(m.point); err == nil && u.Blocks > 0 {
			return true
		}
	}
	return false
}

// hasInterface reports whether this machine has an interface up that is
// not a loopback.
func (c *Collector) hasInterface() bool {
	for _, n := range c.ifs {
		if f, ok := c.ifFlags(n.name); ok && f&iffUp != 0 && f&iffLoopback == 0 {
			return true
		}
	}
	return false
}
