package main

import (
	"bytes"
	"io"
	"math"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"

	"outpost/tsdb"
)

// writeGoMetrics writes the Go runtime's figures: go_goroutines,
// go_threads, go_gomaxprocs, go_info, and every metric of runtime/metrics
// under go_<path>_<unit> (cumulative ones ending _total, distributions as
// histograms of at most maxRuntimeBuckets buckets), with the runtime's own
// descriptions as help.
func writeGoMetrics(w io.Writer) error {
	tw := tsdb.NewTextWriter(w)
	threads, _ := runtime.ThreadCreateProfile(nil)
	tw.One("go_goroutines", "gauge", "Goroutines that currently exist.", float64(runtime.NumGoroutine()))
	tw.One("go_threads", "gauge", "OS threads created.", float64(threads))
	tw.Family("go_info", "gauge", "The Go version outpost was built with.")
	tw.Sample("go_info", 1, "version", runtime.Version())
	descs := rtmetrics.All()
	samples := make([]rtmetrics.Sample, len(descs))
	for i, d := range descs {
		samples[i].Name = d.Name
	}
	rtmetrics.Read(samples)
	seen := map[string]bool{"go_goroutines": true, "go_threads": true, "go_info": true}
	for i, d := range descs {
		name := runtimeMetricName(d)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		switch v := samples[i].Value; v.Kind() {
		case rtmetrics.KindUint64:
			tw.One(name, metricType(d), d.Description, float64(v.Uint64()))
		case rtmetrics.KindFloat64:
			tw.One(name, metricType(d), d.Description, v.Float64())
		case rtmetrics.KindFloat64Histogram:
			writeRuntimeHistogram(tw, name, d.Description, v.Float64Histogram())
		}
	}
	return tw.Flush()
}

// metricType is counter for cumulative metrics, else gauge.
func metricType(d rtmetrics.Description) string {
	if d.Cumulative {
		return "counter"
	}
	return "gauge"
}

// runtimeMetricName maps a runtime/metrics name such as
// /gc/heap/allocs:bytes to go_gc_heap_allocs_bytes (_total when
// cumulative and not a histogram); "" for names that do not map (the
// /godebug/ settings, whose names hold characters a metric cannot).
func runtimeMetricName(d rtmetrics.Description) string {
	if strings.HasPrefix(d.Name, "/godebug/") {
		return ""
	}
	path, unit, ok := strings.Cut(d.Name, ":")
	if !ok {
		return ""
	}
	unit = strings.ReplaceAll(unit, "*", "_")
	name := "go" + strings.Map(func(r rune) rune {
		if r == '/' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, path) + "_" + unit
	if d.Cumulative && d.Kind != rtmetrics.KindFloat64Histogram && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	for i := range len(name) {
		c := name[i]
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return name
}

// maxRuntimeBuckets bounds the buckets of a runtime histogram: the
// runtime's have over a hundred, merged here.
const maxRuntimeBuckets = 16

// writeRuntimeHistogram writes h as a histogram family, merging buckets
// so at most maxRuntimeBuckets finite bounds remain. The runtime gives no
// sum; _sum is estimated from bucket midpoints.
func writeRuntimeHistogram(tw *tsdb.TextWriter, name, help string, h *rtmetrics.Float64Histogram) {
	tw.Family(name, "histogram", help)
	step := max(1, (len(h.Counts)+maxRuntimeBuckets-1)/maxRuntimeBuckets)
	var cum uint64
	var sum float64
	for i, c := range h.Counts {
		cum += c
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if c > 0 {
			mid := hi
			if math.IsInf(hi, 1) {
				mid = lo
			} else if !math.IsInf(lo, -1) {
				mid = (lo + hi) / 2
			}
			sum += float64(c) * mid
		}
		if (i+1)%step == 0 && !math.IsInf(hi, 1) {
			tw.Sample(name+"_bucket", float64(cum), "le", tsdb.FormatValue(hi))
		}
	}
	tw.Sample(name+"_bucket", float64(cum), "le", "+Inf")
	tw.Sample(name+"_sum", sum)
	tw.Sample(name+"_count", float64(cum))
}

// writeProcessMetrics writes the process_* figures Prometheus' client
// libraries expose, from /proc/self (Linux); elsewhere it writes nothing.
func writeProcessMetrics(w io.Writer) error {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil // not Linux: no process figures
	}
	tw := tsdb.NewTextWriter(w)
	// Fields after the command (which may hold spaces), from field 3 (state).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	num := func(field int) float64 { // field numbered as in proc(5)
		if field-3 >= len(f) {
			return 0
		}
		v, _ := strconv.ParseFloat(f[field-3], 64)
		return v
	}
	const ticks = 100 // USER_HZ on every Linux outpost runs on
	page := float64(os.Getpagesize())
	tw.One("process_cpu_seconds_total", "counter", "User and system CPU time spent.", (num(14)+num(15))/ticks)
	tw.One("process_cpu_user_seconds_total", "counter", "User CPU time spent.", num(14)/ticks)
	tw.One("process_cpu_system_seconds_total", "counter", "System CPU time spent.", num(15)/ticks)
	tw.One("process_minor_pagefaults_total", "counter", "Page faults served without I/O.", num(10))
	tw.One("process_major_pagefaults_total", "counter", "Page faults that read from disk.", num(12))
	tw.One("process_num_threads", "gauge", "OS threads of the process.", num(20))
	tw.One("process_virtual_memory_bytes", "gauge", "Virtual memory size.", num(23))
	tw.One("process_resident_memory_bytes", "gauge", "Resident set size.", num(24)*page)
	if boot := bootTime(); boot > 0 {
		tw.One("process_start_time_seconds", "gauge", "When the process started, in seconds since the epoch.", boot+num(22)/ticks)
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		tw.One("process_open_fds", "gauge", "Open file descriptors.", float64(len(fds)))
	}
	if lim, err := os.ReadFile("/proc/self/limits"); err == nil {
		for _, line := range strings.Split(string(lim), "\n") {
			if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
				if fs := strings.Fields(rest); len(fs) > 0 {
					if v, err := strconv.ParseFloat(fs[0], 64); err == nil {
						tw.One("process_max_fds", "gauge", "Limit on open file descriptors (soft).", v)
					}
				}
			}
		}
	}
	if io, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, line := range strings.Split(string(io), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			n, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "read_bytes":
				tw.One("process_io_storage_read_bytes_total", "counter", "Bytes read from storage.", n)
			case "write_bytes":
				tw.One("process_io_storage_written_bytes_total", "counter", "Bytes written to storage.", n)
			}
		}
	}
	return tw.Flush()
}

// bootTime is the machine's boot time in seconds since the epoch (btime
// of /proc/stat), or 0 when unknown.
func bootTime() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n
		}
	}
	return 0
}
