package main

// The built-in host collector against the real Telegraf on the same
// machine: Telegraf's cpu, mem, swap, disk, diskio, net, system, processes
// and kernel inputs write to a real outpost through its influxdb output,
// while collectors/host collects in this process at the same instants;
// both must give the same series, names and labels, with values within a
// tolerance. Skipped when telegraf is not on PATH (it is not packaged by
// Debian; `go install -tags "custom,inputs.cpu,…,outputs.influxdb"
// github.com/influxdata/telegraf/cmd/telegraf@v1.37.2` builds one).

import (
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"outpost/collectors/host"
)

// telegrafStep is the interval of both collectors in the comparison.
const telegrafStep = 2 * time.Second

func TestHostCollector_AgainstTelegraf(t *testing.T) {
	bin, err := exec.LookPath("telegraf")
	if err != nil {
		t.Skip("telegraf is not on PATH")
	}
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no procfs on this machine")
	}
	s := startServer(t, t.TempDir())
	defer s.stop()

	conf := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(telegrafConf, s.base)), 0o644); err != nil {
		t.Fatal(err)
	}
	tlog := new(logBuffer)
	cmd := exec.Command(bin, "--config", conf)
	cmd.Stdout, cmd.Stderr = tlog, tlog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()

	// Collect at the instants Telegraf gathers (round_interval: multiples
	// of the interval), so both read /proc within milliseconds of each
	// other and their cpu percentages cover the same windows.
	c, err := host.New(host.DefaultConfig(), nil, host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[int64]map[string]float64{} // by timestamp (ms)
	for range 6 {
		at := time.Now().Truncate(telegrafStep).Add(telegrafStep)
		time.Sleep(time.Until(at))
		pts, err := c.Collect(at)
		if err != nil {
			t.Logf("collect at %s: %v", at.Format(time.TimeOnly), err)
		}
		m := map[string]float64{}
		for _, p := range pts {
			ls := map[string]string{}
			for _, l := range p.Labels {
				ls[l.Name] = l.Value
			}
			m[seriesText(ls)] = p.V
		}
		ours[at.UnixMilli()] = m
	}
	time.Sleep(1500 * time.Millisecond) // Telegraf's last flush (flush_interval 1s)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("telegraf did not stop within 15 s of SIGTERM\n%s", tlog)
	}

	theirs := map[int64]map[string]float64{}
	for key, e := range exportAll(t, s, `{db="telegraf"}`) {
		if strings.HasSuffix(e.labels["__name__"], "_info") {
			continue // uptime_format, a string field the collector never sends
		}
		for ts, v := range e.samples {
			if theirs[ts] == nil {
				theirs[ts] = map[string]float64{}
			}
			theirs[ts][key] = v
		}
	}
	compared, withCPU, series := 0, 0, 0
	worstCPU := 0.0 // the largest difference of a cpu percentage
	for _, ts := range slices.Sorted(maps.Keys(ours)) {
		tm, ok := theirs[ts]
		if !ok {
			continue
		}
		at := time.UnixMilli(ts).Format(time.TimeOnly)
		om := ours[ts]
		compared++
		if _, ok := om[cpuIdleTotal(om)]; ok {
			withCPU++
		}
		for _, k := range slices.Sorted(maps.Keys(tm)) {
			o, ok := om[k]
			if ok && strings.HasPrefix(k, "cpu_usage_") {
				worstCPU = max(worstCPU, math.Abs(o-tm[k]))
			}
			series++
			switch {
			case !ok:
				t.Errorf("%s: Telegraf sent %s = %v, the collector did not", at, k, tm[k])
			case !telegrafNear(k, o, tm[k]):
				t.Errorf("%s: %s = %v, Telegraf %v", at, k, o, tm[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(om)) {
			if _, ok := tm[k]; !ok {
				t.Errorf("%s: the collector sent %s = %v, Telegraf did not", at, k, om[k])
			}
		}
	}
	if compared < 3 || withCPU < 2 {
		t.Fatalf("compared %d collections (%d with cpu percentages), want 3 and 2; Telegraf's log:\n%s", compared, withCPU, tlog)
	}
	t.Logf("compared %d collections (%d with cpu percentages), %d samples; cpu percentages differ by %.2f points at most",
		compared, withCPU, series, worstCPU)
}

// telegrafConf runs the inputs the host collector stands for, with their
// defaults (disk's ignore_fs as in Telegraf's sample configuration), into
// outpost at %s.
const telegrafConf = `
[agent]
  interval = "2s"
  round_interval = true
  collection_jitter = "0s"
  flush_interval = "1s"
  flush_jitter = "0s"
  omit_hostname = false
[[outputs.influxdb]]
  urls = ["%s"]
  database = "telegraf"
[[inputs.cpu]]
  percpu = true
  totalcpu = true
  collect_cpu_time = false
  report_active = false
[[inputs.mem]]
[[inputs.swap]]
[[inputs.disk]]
  ignore_fs = ["tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs"]
[[inputs.diskio]]
[[inputs.net]]
[[inputs.system]]
[[inputs.processes]]
[[inputs.kernel]]
`

// cpuIdleTotal is the key of cpu_usage_idle{cpu="cpu-total"} in m.
func cpuIdleTotal(m map[string]float64) string {
	for k := range m {
		if strings.HasPrefix(k, `cpu_usage_idle{cpu="cpu-total"`) {
			return k
		}
	}
	return ""
}

// telegrafNear reports whether our value a of series key is close enough
// to Telegraf's b, read milliseconds apart on a machine that keeps
// working: sizes and counts exact, counters and gauges within what a few
// milliseconds (or one 5 s load-average update, one build writing files)
// can change, cpu percentages within 5 points of the same window.
func telegrafNear(key string, a, b float64) bool {
	name, _, _ := strings.Cut(key, "{")
	d := math.Abs(a - b)
	rel := d / math.Max(math.Abs(a), math.Abs(b))
	switch {
	case name == "diskio_io_await" || name == "diskio_io_svctm":
		return true // per-I/O times of a handful of I/Os: presence only
	case strings.HasPrefix(name, "cpu_usage_"), name == "diskio_io_util":
		return d <= 5
	case strings.HasSuffix(name, "_percent"):
		return d <= 2
	case strings.HasPrefix(name, "system_load"):
		return d <= 1
	case name == "system_uptime":
		return d <= 2
	case strings.HasPrefix(name, "processes_"):
		return d <= 10 || rel <= 0.2
	case slices.Contains([]string{"mem_total", "swap_total", "disk_total", "disk_inodes_total",
		"system_n_cpus", "system_n_physical_cpus", "kernel_boot_time", "net_speed",
		"mem_huge_page_size", "mem_vmalloc_total", "mem_commit_limit"}, name):
		return d == 0
	case strings.HasPrefix(name, "mem_"), strings.HasPrefix(name, "swap_"), strings.HasPrefix(name, "disk_"):
		return d <= 256<<20 || rel <= 0.05
	}
	return d <= 1000 || rel <= 0.01 // counters
}
