package alerting

// The evaluator's benchmarks, on a real store and the real query engine
// (the budget: one round of either under 1 s on 2 cores).
//
//	go test -run '^$' -bench 'BenchmarkManager' -benchmem ./alerting/
//	go test -run '^$' -bench 'BenchmarkManager' -benchmem -count 3 -cpuprofile /tmp/cpu.out ./alerting/
//
// One op is one round: every group evaluated once at the next time, one
// after the other on one goroutine (production spreads the groups over
// their interval, each in its own goroutine, so this is the worst case),
// each group's state changes and history in its one bbolt transaction,
// its ALERTS series written to the store, its alerts handed to the
// dispatcher (not running: Put only). Before each round, with the timer
// stopped, the fleet's samples of the last 30 s (Telegraf's 10 s
// interval) are written, so every round sees fresh data and the alerts
// stay in their steady state (firing ones keep firing, with some churn
// from the noise near the thresholds). Twenty warm-up rounds before the
// timer starts take the "for" and M-of-N alerts to firing. The store's
// background maintenance is off (MaintainEvery 1h) so that a partition
// flush does not land inside a round.
//
// BenchmarkManager_Threshold: 1,000 threshold rules over 10,000 series.
// The fleet is 1,000 hosts, 10 roles (web, db, ...) × 100 hosts named
// web-000 … web-099, each sending 10 series as Telegraf names them:
// cpu_usage_idle{cpu="cpu-total"}, mem_used_percent, swap_used_percent,
// system_load1, disk_used_percent{path="/","/var","/home"}, net_err_in
// and net_drop_in{interface="eth0"} (counters) and processes_zombies. The
// rule file has one group per role (10 groups × 100 rules, interval 30s),
// with 10 rules for each decade of hosts (host=~"web-03."): 5 of
// outpost's (disk warn/crit/clear with for 5m; memory warn/crit; swap 3
// of 5 with missing_data: missing; avg_over_time of memory; max by
// (host) of disk) and 5 of Prometheus' (100 - cpu idle > 90, load > 8,
// rate of errors and drops > x, zombies > 5), all with templated
// annotations. A rule selects 10 series (30 for the disk rule): together
// the rules cover each of the 10,000 series and read 12,000 a round.
// Values sit away from the thresholds with a little noise: about 3 % of
// the samples breach, a few hundred alerts fire.
//
// BenchmarkManager_Flatline: one flatline rule over 100,000 series: 2,000
// hosts × 50 series (system, mem, cpu × 5, disk, diskio, net, kernel),
// 1 % of the hosts silent since the warm-up (so 20 HostSilent alerts
// fire every round). all-series is the worst case, reading every series:
// expr '{host!=""}' by [host] (the rule excludes the ALERTS series the
// evaluator writes itself). default-selector is the
// built-in rule's selector (4 of the 50 series per host match its names,
// 2 of them exist here: system_uptime and mem_used_percent).
//
// Custom metrics: cpu-ns/op (the CPU time the process used during the
// round, every goroutine's and the garbage collector's: on a machine
// shared with other work it varies far less than ns/op; on 2 idle cores
// ns/op is between cpu-ns/op / 2 and cpu-ns/op (the rules run one after
// the other, each query spreads its series over 2 workers) plus the
// waits for alerting.db's fsyncs),
// rules/op, series/op (samples the rules' queries returned in the round:
// the Prometheus-style rules return only the breaching ones, the flatline
// rule one per reporting host), firing (alerts firing after the last
// round).

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

// benchRoles are the fleet's roles: 100 hosts each in the threshold
// benchmark.
var benchRoles = []string{"web", "db", "cache", "queue", "api", "worker", "lb", "search", "batch", "edge"}

// benchClock is the shared fake clock of the store, the engine and the
// manager, safe for the store's background goroutine.
type benchClock struct{ ns atomic.Int64 }

func (c *benchClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *benchClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *benchClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// benchSeries is one series of the fleet: labels, and how its value
// moves: a gauge around base, or a counter growing by rate per second.
type benchSeries struct {
	ls      tsdb.Labels
	host    int // index into the fleet's hosts
	base    float64
	counter bool
	v       float64 // a counter's current value
}

// benchFleet is what the hosts send.
type benchFleet struct {
	series []benchSeries
	silent []bool // by host: stopped sending
	rng    *rand.Rand
}

// points returns the samples of every host that is not silent at each
// 10 s step in (from, to].
func (f *benchFleet) points(from, to time.Time) []tsdb.Point {
	var pts []tsdb.Point
	for t := from.Add(10 * time.Second); !t.After(to); t = t.Add(10 * time.Second) {
		ms := t.UnixMilli()
		for i := range f.series {
			s := &f.series[i]
			if f.silent[s.host] {
				continue
			}
			v := s.base
			if s.counter {
				s.v += s.base * 10 * (0.9 + 0.2*f.rng.Float64())
				v = s.v
			} else if s.base != 0 {
				v = max(0, s.base+0.3*f.rng.NormFloat64())
			}
			pts = append(pts, tsdb.Point{Labels: s.ls, T: ms, V: v})
		}
	}
	return pts
}

// pick returns lo..hi uniformly with probability p, else the same from the
// normal range.
func pick(rng *rand.Rand, p float64, lo, hi, nlo, nhi float64) float64 {
	if rng.Float64() < p {
		return lo + (hi-lo)*rng.Float64()
	}
	return nlo + (nhi-nlo)*rng.Float64()
}

// thresholdFleet is the threshold benchmark's fleet: 1,000 hosts × 10
// series, about 3 % of them breaching some rule.
func thresholdFleet() *benchFleet {
	rng := rand.New(rand.NewPCG(1, 2))
	f := &benchFleet{rng: rng, silent: make([]bool, len(benchRoles)*100)}
	add := func(h int, base float64, counter bool, nv ...string) {
		f.series = append(f.series, benchSeries{ls: tsdb.FromStrings(nv...), host: h, base: base, counter: counter})
	}
	for ri, role := range benchRoles {
		for i := range 100 {
			h := ri*100 + i
			host := fmt.Sprintf("%s-%03d", role, i)
			add(h, pick(rng, 0.03, 2, 8, 30, 90), false, "__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", host)
			mem := pick(rng, 0.06, 91, 99, 20, 80)
			add(h, mem, false, "__name__", "mem_used_percent", "host", host)
			add(h, pick(rng, 0.03, 55, 80, 0, 30), false, "__name__", "swap_used_percent", "host", host)
			add(h, pick(rng, 0.03, 9, 15, 0.1, 4), false, "__name__", "system_load1", "host", host)
			for _, p := range []string{"/", "/var", "/home"} {
				add(h, pick(rng, 0.06, 81, 99, 10, 70), false, "__name__", "disk_used_percent", "device", "sda1", "fstype", "ext4", "host", host, "path", p)
			}
			add(h, pick(rng, 0.02, 2, 5, 0, 0.1), true, "__name__", "net_err_in", "host", host, "interface", "eth0")
			add(h, pick(rng, 0.02, 15, 30, 0, 2), true, "__name__", "net_drop_in", "host", host, "interface", "eth0")
			add(h, math.Round(pick(rng, 0.02, 6, 10, 0, 2)), false, "__name__", "processes_zombies", "host", host)
		}
	}
	return f
}

// thresholdRulesYAML is the rule file: one group per role, 10 rules per
// decade of its hosts.
func thresholdRulesYAML() string {
	var sb strings.Builder
	sb.WriteString("groups:\n")
	for _, role := range benchRoles {
		fmt.Fprintf(&sb, "- name: %s\n  interval: 30s\n  labels: {team: %s}\n  rules:\n", role, role)
		for d := range 10 {
			sel := fmt.Sprintf(`host=~"%s-0%d."`, role, d)
			fmt.Fprintf(&sb, `  - alert: DiskSpaceLow
    expr: disk_used_percent{fstype!~"tmpfs|overlay",%[1]s}
    warn: "> 80"
    crit: "> 90"
    clear: "< 78"
    for: 5m
    repeat: {warning: 24h, critical: 4h}
    annotations:
      summary: 'Disk {{ $labels.path }} on {{ $labels.host }} is {{ printf "%%.1f" $value }}%% full'
  - alert: MemoryHigh
    expr: mem_used_percent{%[1]s}
    warn: "> 90"
    crit: "> 95"
    for: 1m
    annotations:
      summary: 'Memory on {{ $labels.host }} is {{ printf "%%.1f" $value }}%% used'
  - alert: SwapHigh
    expr: swap_used_percent{%[1]s}
    warn: "> 50"
    datapoints_to_alarm: 3
    evaluation_periods: 5
    missing_data: missing
    annotations:
      summary: 'Swap on {{ $labels.host }} is {{ $value | humanize }}%% used'
  - alert: CPUBusy
    expr: 100 - cpu_usage_idle{cpu="cpu-total",%[1]s} > 90
    for: 2m
    labels: {severity: warning}
    annotations:
      summary: 'CPU on {{ $labels.host }} is {{ printf "%%.0f" $value }}%% busy'
  - alert: LoadHigh
    expr: system_load1{%[1]s} > 8
    for: 2m
    labels: {severity: warning}
    annotations:
      summary: 'Load on {{ $labels.host }} is {{ $value }}'
  - alert: NetErrors
    expr: rate(net_err_in{%[1]s}[5m]) > 1
    labels: {severity: warning}
    annotations:
      summary: '{{ $labels.interface }} on {{ $labels.host }}: {{ $value | humanize }} errors/s'
  - alert: NetDrops
    expr: rate(net_drop_in{%[1]s}[5m]) > 10
    labels: {severity: warning}
    annotations:
      summary: '{{ $labels.interface }} on {{ $labels.host }}: {{ $value | humanize }} drops/s'
  - alert: Zombies
    expr: processes_zombies{%[1]s} > 5
    for: 5m
    labels: {severity: warning}
    annotations:
      summary: '{{ $value }} zombie processes on {{ $labels.host }}'
  - alert: MemoryTrend
    expr: avg_over_time(mem_used_percent{%[1]s}[5m])
    warn: "> 85"
    annotations:
      summary: 'Memory on {{ $labels.host }} averaged {{ printf "%%.1f" $value }}%% over 5m'
  - alert: DiskWorst
    expr: max by (host) (disk_used_percent{%[1]s})
    crit: "> 97"
    annotations:
      summary: 'The fullest disk on {{ $labels.host }} is {{ printf "%%.1f" $value }}%% full'
`, sel)
		}
	}
	return sb.String()
}

// flatlineFleet is the flatline benchmark's fleet: 2,000 hosts × 50
// series, every hundredth host silent once silence is turned on.
func flatlineFleet() *benchFleet {
	rng := rand.New(rand.NewPCG(3, 4))
	const hosts = 2000
	f := &benchFleet{rng: rng, silent: make([]bool, hosts)}
	var names [][]string
	for _, m := range []string{"system_uptime", "system_load1", "system_load5", "system_load15", "mem_used_percent",
		"mem_available_percent", "swap_used_percent", "processes_total", "processes_zombies",
		"kernel_context_switches", "kernel_interrupts", "kernel_processes_forked"} {
		names = append(names, []string{"__name__", m})
	}
	for _, cpu := range []string{"cpu-total", "cpu0", "cpu1", "cpu2", "cpu3"} {
		for _, m := range []string{"cpu_usage_idle", "cpu_usage_user", "cpu_usage_system", "cpu_usage_iowait"} {
			names = append(names, []string{"__name__", m, "cpu", cpu})
		}
	}
	for _, p := range []string{"/", "/var", "/home"} {
		for _, m := range []string{"disk_used_percent", "disk_inodes_used"} {
			names = append(names, []string{"__name__", m, "path", p})
		}
	}
	for _, d := range []string{"sda", "sdb"} {
		for _, m := range []string{"diskio_reads", "diskio_writes", "diskio_io_time"} {
			names = append(names, []string{"__name__", m, "name", d})
		}
	}
	for _, m := range []string{"net_bytes_recv", "net_bytes_sent", "net_err_in", "net_err_out", "net_drop_in", "net_drop_out"} {
		names = append(names, []string{"__name__", m, "interface", "eth0"})
	}
	if len(names) != 50 {
		panic(fmt.Sprintf("flatlineFleet: %d series per host, want 50", len(names)))
	}
	for h := range hosts {
		host := fmt.Sprintf("host-%04d", h)
		for _, nv := range names {
			f.series = append(f.series, benchSeries{ls: tsdb.FromStrings(append(slices.Clone(nv), "host", host)...),
				host: h, base: 1 + 99*rng.Float64()})
		}
	}
	return f
}

// flatlineRulesYAML is one group with one flatline rule over expr.
func flatlineRulesYAML(expr string) string {
	return fmt.Sprintf(`groups:
- name: fleet
  interval: 30s
  rules:
  - flatline: HostSilent
    expr: '%s'
    by: [host]
    for: 5m
    forget_after: 7d
    repeat: 4h
    labels: {severity: critical}
    annotations:
      summary: 'Host {{ $labels.host }} stopped reporting'
`, expr)
}

// benchManager is a Manager over a real store and engine, and the fleet
// that feeds the store.
type benchManager struct {
	*Manager
	db     *tsdb.DB
	clock  *benchClock
	fleet  *benchFleet
	series atomic.Int64 // samples the rules' queries returned
}

// openBenchManager opens a store and an engine in a temporary directory
// and a Manager over the rule file yml, with the fleet's clock at 10:00.
func openBenchManager(b *testing.B, yml string, fleet *benchFleet) *benchManager {
	b.Helper()
	dir := b.TempDir()
	bm := &benchManager{clock: &benchClock{}, fleet: fleet}
	bm.clock.set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	cfg := tsdb.DefaultConfig()
	cfg.Path = filepath.Join(dir, "tsdb")
	db, err := tsdb.Open(cfg, tsdb.Options{Now: bm.clock.now, MaintainEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	bm.db = db
	eng := query.NewEngine(db, query.Options{Now: bm.clock.now})
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		b.Fatal(err)
	}
	acfg := DefaultConfig()
	acfg.Defaults = false
	acfg.Rules = []string{path}
	acfg.ExternalURL = "http://outpost.test:8086"
	q := func(ctx context.Context, expr string, ts time.Time) (query.Vector, error) {
		v, err := eng.InstantVector(ctx, expr, ts)
		bm.series.Add(int64(len(v)))
		return v, err
	}
	m, err := Open(acfg, Options{Dir: dir, Query: q, Writer: db, Now: bm.clock.now, Hostname: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	bm.Manager = m
	return bm
}

// feed writes the fleet's samples of the next 30 s and moves the clock
// there.
func (bm *benchManager) feed(b *testing.B) {
	from := bm.clock.now()
	bm.clock.add(30 * time.Second)
	pts := bm.fleet.points(from, bm.clock.now())
	for len(pts) > 0 {
		n := min(len(pts), 50_000)
		if err := bm.db.Write(b.Context(), pts[:n]); err != nil {
			b.Fatal(err)
		}
		pts = pts[n:]
	}
}

// round evaluates every group once at the clock's time.
func (bm *benchManager) round(ctx context.Context) {
	bm.mu.RLock()
	groups := slices.Clone(bm.groups)
	bm.mu.RUnlock()
	t := bm.clock.now()
	for _, g := range groups {
		bm.evalGroup(ctx, g, t)
	}
}

// rules counts the loaded rules, and firing the alerts firing now.
func (bm *benchManager) counts() (rules, firing int) {
	bm.mu.RLock()
	defer bm.mu.RUnlock()
	for _, r := range bm.rules {
		rules++
		b := r.base()
		b.mu.Lock()
		for _, a := range ruleAlerts(r) {
			if a.State == StateFiring {
				firing++
			}
		}
		b.mu.Unlock()
	}
	return rules, firing
}

// run warms up (the fleet's hosts in silence go quiet after the fifth
// round), then times rounds, each after a feed with the timer stopped.
func (bm *benchManager) run(b *testing.B, silence func()) {
	ctx := b.Context()
	for i := range 20 {
		if i == 5 && silence != nil {
			silence()
		}
		bm.feed(b)
		bm.round(ctx)
	}
	bm.series.Store(0)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		bm.feed(b)
		b.StartTimer()
		c0 := cpuTime(b)
		bm.round(ctx)
		cpu += cpuTime(b) - c0
	}
	rules, firing := bm.counts()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(rules), "rules/op")
	b.ReportMetric(float64(bm.series.Load())/float64(b.N), "series/op")
	b.ReportMetric(float64(firing), "firing")
}

// cpuTime is the CPU time (user and system) the process has used: every
// goroutine's, the query workers' and the garbage collector's included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkManager_Threshold is one round of 1,000 threshold rules over
// 10,000 series (see the top of the file).
func BenchmarkManager_Threshold(b *testing.B) {
	bm := openBenchManager(b, thresholdRulesYAML(), thresholdFleet())
	bm.run(b, nil)
}

// BenchmarkManager_Flatline is one round of a flatline rule over 100,000
// series (see the top of the file).
func BenchmarkManager_Flatline(b *testing.B) {
	for _, c := range []struct{ name, expr string }{
		{"all-series", `{host!=""}`},
		{"default-selector", `{__name__=~"system_uptime|mem_used_percent|load_shortterm|memory_value",host!=""}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			bm := openBenchManager(b, flatlineRulesYAML(c.expr), flatlineFleet())
			bm.run(b, func() {
				for h := range bm.fleet.silent {
					bm.fleet.silent[h] = h%100 == 7
				}
			})
		})
	}
}
