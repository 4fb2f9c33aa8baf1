package pages

import "strings"

// hostPanel is one panel of a host dashboard built by convention
// (../shared/reference/host-dashboard.md): what it needs, what it asks and
// how it is drawn. Queries use $host (the host label's value, escaped for a
// MetricsQL string) and Grafana's $__rate_interval.
type hostPanel struct {
	Key   string // data-panel of the card and part of the chart id: cpu, mem, disk, ...
	Title string
	Unit  string // as outpost.js formats it: percent, bytes, bytes/s, bits/s, ops/s, /s, s, short
	Stack bool
	// Disk draws the warn/crit lines of the rules that watch disk space.
	Disk     bool
	Min, Max *float64
	// Needs are metric names: the panel is asked for when the host has one
	// of them in the range (it is still left out when its queries return
	// nothing).
	Needs   []string
	Queries []hostQuery
	// Order lists series names bottom of the stack first; others follow by
	// name.
	Order []string
}

// hostQuery is one query of a panel; a panel's series are those of all
// its queries.
type hostQuery struct {
	Expr string
	// Legend names each series: a label name or a {{label}} template.
	Legend string
	// Name, when set, names the query's series instead (a query of one
	// series, such as mem_used_percent).
	Name string
}

// hostSlot is one place on the dashboard with its choices, Telegraf's
// first: the first whose Needs the host has is drawn, so a host that sends
// both Telegraf's and collectd's names gets Telegraf's panel.
type hostSlot []hostPanel

// hostZero and hostHundred bound the y axis of percentage panels (read only:
// lineSpec takes pointers).
var (
	hostZero    = 0.0
	hostHundred = 100.0
)

// hostPercent bounds a percentage chart to 0–100.
func hostPercent(d hostPanel) hostPanel { d.Min, d.Max = &hostZero, &hostHundred; return d }

// cpuModes and memKinds order stacked series as the well-known dashboards
// do: what is busy or used at the bottom, what is idle or free on top.
var (
	cpuModes = []string{"user", "system", "iowait", "wait", "softirq", "irq", "interrupt", "nice", "steal"}
	memKinds = []string{"used", "buffered", "cached", "slab_recl", "slab_unrecl", "free"}
)

// hostSlots are the panels of a host dashboard, in page order.
var hostSlots = []hostSlot{
	{
		{Key: "cpu", Title: "CPU busy by mode", Unit: "percent", Stack: true, Min: &hostZero, Order: cpuModes,
			Needs: []string{"cpu_usage_idle", "cpu_usage_user", "cpu_usage_system"},
			Queries: []hostQuery{{Legend: "mode",
				Expr: `label_replace({__name__=~"cpu_usage_(user|system|iowait|steal|softirq|irq|nice)",cpu="cpu-total",host="$host"}, "mode", "$1", "__name__", "cpu_usage_(.*)")`}}},
		{Key: "cpu", Title: "CPU busy by mode", Unit: "percent", Stack: true, Min: &hostZero, Order: cpuModes,
			Needs: []string{"cpu_value"},
			Queries: []hostQuery{{Legend: "type_instance",
				Expr: `100 * sum by (type_instance) (rate(cpu_value{host="$host",type="cpu",type_instance!="idle"}[$__rate_interval]))` +
					` / scalar(sum(rate(cpu_value{host="$host",type="cpu"}[$__rate_interval])))` +
					` or avg by (type_instance) (cpu_value{host="$host",type="percent",type_instance!="idle"})`}}},
	},
	{
		hostPercent(hostPanel{Key: "cpu-cores", Title: "CPU busy per core", Unit: "percent",
			Needs:   []string{"cpu_usage_idle"},
			Queries: []hostQuery{{Legend: "cpu", Expr: `100 - cpu_usage_idle{cpu!="cpu-total",host="$host"}`}}}),
		hostPercent(hostPanel{Key: "cpu-cores", Title: "CPU busy per core", Unit: "percent",
			Needs: []string{"cpu_value"},
			Queries: []hostQuery{{Legend: "cpu {{instance}}",
				Expr: `100 - 100 * sum by (instance) (rate(cpu_value{host="$host",type="cpu",type_instance="idle"}[$__rate_interval]))` +
					` / sum by (instance) (rate(cpu_value{host="$host",type="cpu"}[$__rate_interval]))`}}}),
	},
	{
		{Key: "load", Title: "Load average and cores", Unit: "short", Needs: []string{"system_load1"},
			Queries: []hostQuery{{Legend: "series",
				Expr: `label_replace({__name__=~"system_load(1|5|15)|system_n_cpus",host="$host"}, "series", "$1", "__name__", "system_(.*)")`}}},
		{Key: "load", Title: "Load average", Unit: "short", Needs: []string{"load_shortterm"},
			Queries: []hostQuery{{Legend: "series",
				Expr: `label_replace({__name__=~"load_(shortterm|midterm|longterm)",host="$host"}, "series", "$1", "__name__", "load_(.*)")`}}},
	},
	{
		hostPercent(hostPanel{Key: "mem", Title: "Memory used", Unit: "percent", Needs: []string{"mem_used_percent"},
			Queries: []hostQuery{{Name: "used", Expr: `mem_used_percent{host="$host"}`}}}),
		hostPercent(hostPanel{Key: "mem", Title: "Memory used", Unit: "percent", Needs: []string{"memory_value"},
			Queries: []hostQuery{{Name: "used",
				Expr: `100 * memory_value{host="$host",type="memory",type_instance="used"} / ignoring (type_instance)` +
					` sum without (type_instance) (memory_value{host="$host",type="memory",type_instance=~"used|buffered|cached|free|slab_recl|slab_unrecl"})` +
					` or memory_value{host="$host",type="percent",type_instance="used"}`}}}),
	},
	{
		{Key: "mem-kinds", Title: "Memory by kind", Unit: "bytes", Stack: true, Order: memKinds, Needs: []string{"mem_used", "mem_free"},
			Queries: []hostQuery{{Legend: "kind",
				Expr: `label_replace({__name__=~"mem_(used|cached|buffered|free)",host="$host"}, "kind", "$1", "__name__", "mem_(.*)")`}}},
		{Key: "mem-kinds", Title: "Memory by kind", Unit: "bytes", Stack: true, Order: memKinds, Needs: []string{"memory_value"},
			Queries: []hostQuery{{Legend: "type_instance", Expr: `memory_value{host="$host",type="memory"}`}}},
	},
	{
		hostPercent(hostPanel{Key: "swap", Title: "Swap used", Unit: "percent", Needs: []string{"swap_used_percent"},
			Queries: []hostQuery{{Name: "used", Expr: `swap_used_percent{host="$host"}`}}}),
		{Key: "swap", Title: "Swap", Unit: "bytes", Stack: true, Needs: []string{"swap_value"},
			Queries: []hostQuery{{Legend: "type_instance", Expr: `swap_value{host="$host",type="swap"}`}}},
	},
	{
		hostPercent(hostPanel{Key: "disk", Title: "Disk space used by mount", Unit: "percent", Disk: true,
			Needs: []string{"disk_used_percent"}, Queries: []hostQuery{{Legend: "path", Expr: `disk_used_percent{host="$host"}`}}}),
		hostPercent(hostPanel{Key: "disk", Title: "Disk space used by mount", Unit: "percent", Disk: true, Needs: []string{"df_value"},
			Queries: []hostQuery{{Legend: "instance",
				Expr: `100 * df_value{host="$host",type="df_complex",type_instance="used"} / ignoring (type_instance)` +
					` sum without (type_instance) (df_value{host="$host",type="df_complex"})`}}}),
	},
	{
		hostPercent(hostPanel{Key: "inodes", Title: "Inodes used by mount", Unit: "percent", Needs: []string{"disk_inodes_used"},
			Queries: []hostQuery{{Legend: "path", Expr: `100 * disk_inodes_used{host="$host"} / disk_inodes_total{host="$host"}`}}}),
	},
	{
		{Key: "diskio", Title: "Disk throughput by device", Unit: "bytes/s", Needs: []string{"diskio_read_bytes", "diskio_write_bytes"},
			Queries: []hostQuery{
				{Legend: "{{name}} read", Expr: `rate(diskio_read_bytes{host="$host"}[$__rate_interval])`},
				{Legend: "{{name}} write", Expr: `rate(diskio_write_bytes{host="$host"}[$__rate_interval])`}}},
		{Key: "diskio", Title: "Disk throughput by device", Unit: "bytes/s", Needs: []string{"disk_read", "disk_write"},
			Queries: []hostQuery{
				{Legend: "{{instance}} read", Expr: `rate(disk_read{host="$host",type="disk_octets"}[$__rate_interval])`},
				{Legend: "{{instance}} write", Expr: `rate(disk_write{host="$host",type="disk_octets"}[$__rate_interval])`}}},
	},
	{
		{Key: "diskio-busy", Title: "Disk busy by device", Unit: "percent", Min: &hostZero, Needs: []string{"diskio_io_time"},
			Queries: []hostQuery{{Legend: "name", Expr: `rate(diskio_io_time{host="$host"}[$__rate_interval]) / 10`}}},
	},
	{
		{Key: "diskio-ops", Title: "Disk operations", Unit: "ops/s", Needs: []string{"diskio_reads", "diskio_writes"},
			Queries: []hostQuery{
				{Legend: "{{name}} reads", Expr: `rate(diskio_reads{host="$host"}[$__rate_interval])`},
				{Legend: "{{name}} writes", Expr: `rate(diskio_writes{host="$host"}[$__rate_interval])`}}},
		{Key: "diskio-ops", Title: "Disk operations", Unit: "ops/s", Needs: []string{"disk_read", "disk_write"},
			Queries: []hostQuery{
				{Legend: "{{instance}} reads", Expr: `rate(disk_read{host="$host",type="disk_ops"}[$__rate_interval])`},
				{Legend: "{{instance}} writes", Expr: `rate(disk_write{host="$host",type="disk_ops"}[$__rate_interval])`}}},
	},
	{
		{Key: "net", Title: "Network traffic by interface", Unit: "bits/s", Needs: []string{"net_bytes_recv", "net_bytes_sent"},
			Queries: []hostQuery{
				{Legend: "{{interface}} in", Expr: `8 * rate(net_bytes_recv{host="$host",interface!="lo"}[$__rate_interval])`},
				{Legend: "{{interface}} out", Expr: `8 * rate(net_bytes_sent{host="$host",interface!="lo"}[$__rate_interval])`}}},
		{Key: "net", Title: "Network traffic by interface", Unit: "bits/s", Needs: []string{"interface_rx", "interface_tx"},
			Queries: []hostQuery{
				{Legend: "{{instance}} in", Expr: `8 * rate(interface_rx{host="$host",type="if_octets",instance!="lo"}[$__rate_interval])`},
				{Legend: "{{instance}} out", Expr: `8 * rate(interface_tx{host="$host",type="if_octets",instance!="lo"}[$__rate_interval])`}}},
	},
	{
		{Key: "net-errors", Title: "Network errors and drops", Unit: "/s",
			Needs: []string{"net_err_in", "net_err_out", "net_drop_in", "net_drop_out"},
			Queries: []hostQuery{
				{Legend: "{{interface}} errors in", Expr: `rate(net_err_in{host="$host"}[$__rate_interval])`},
				{Legend: "{{interface}} errors out", Expr: `rate(net_err_out{host="$host"}[$__rate_interval])`},
				{Legend: "{{interface}} drops in", Expr: `rate(net_drop_in{host="$host"}[$__rate_interval])`},
				{Legend: "{{interface}} drops out", Expr: `rate(net_drop_out{host="$host"}[$__rate_interval])`}}},
		{Key: "net-errors", Title: "Network errors and drops", Unit: "/s", Needs: []string{"interface_rx", "interface_tx"},
			Queries: []hostQuery{
				{Legend: "{{instance}} errors in", Expr: `rate(interface_rx{host="$host",type="if_errors"}[$__rate_interval])`},
				{Legend: "{{instance}} errors out", Expr: `rate(interface_tx{host="$host",type="if_errors"}[$__rate_interval])`},
				{Legend: "{{instance}} drops in", Expr: `rate(interface_rx{host="$host",type="if_dropped"}[$__rate_interval])`},
				{Legend: "{{instance}} drops out", Expr: `rate(interface_tx{host="$host",type="if_dropped"}[$__rate_interval])`}}},
	},
	{
		{Key: "processes", Title: "Processes by state", Unit: "short", Needs: []string{"processes_total", "processes_running"},
			Queries: []hostQuery{{Legend: "state",
				Expr: `label_replace({__name__=~"processes_(running|blocked|zombies|sleeping|total)",host="$host"}, "state", "$1", "__name__", "processes_(.*)")`}}},
		{Key: "processes", Title: "Processes by state", Unit: "short", Needs: []string{"processes_value"},
			Queries: []hostQuery{{Legend: "type_instance", Expr: `processes_value{host="$host",type="ps_state"}`}}},
	},
	{
		{Key: "kernel", Title: "Context switches and forks", Unit: "/s",
			Needs: []string{"kernel_context_switches", "kernel_processes_forked"},
			Queries: []hostQuery{
				{Name: "context switches", Expr: `rate(kernel_context_switches{host="$host"}[$__rate_interval])`},
				{Name: "forks", Expr: `rate(kernel_processes_forked{host="$host"}[$__rate_interval])`}}},
		{Key: "kernel", Title: "Context switches", Unit: "/s", Needs: []string{"contextswitch_value"},
			Queries: []hostQuery{{Name: "context switches", Expr: `rate(contextswitch_value{host="$host"}[$__rate_interval])`}}},
	},
}

// hostUptimeQueries give a host's uptime in seconds, Telegraf's first; each
// is asked only when the host has its metric.
var hostUptimeQueries = []struct{ Name, Expr string }{
	{"system_uptime", `system_uptime{host="$host"}`},
	{"uptime_value", `uptime_value{host="$host"}`},
}

// hostPrefixes are the metric name prefixes of the inputs and
// plugins the panels above read: a host's other names of those inputs
// (mem_vmalloc_total, ...) are not drawn one by one. Names outside them
// (an exec input's, a Graphite sender's) each get a panel of their own.
var hostPrefixes = []string{
	// Telegraf
	"cpu_", "mem_", "swap_", "disk_", "diskio_", "net_", "netstat_", "nstat_", "system_", "processes_",
	"kernel_", "linux_sysctl_fs_",
	// collectd
	"memory_", "load_", "df_", "interface_", "uptime_", "contextswitch_", "entropy_", "users_",
	// outpost's own
	"outpost_", "ALERTS",
}

// hostConventional reports whether name belongs to an input the convention
// panels read.
func hostConventional(name string) bool {
	for _, p := range hostPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// hostChoosePanels returns the panels a host with the metric names in have
// gets, one per slot at most, and whose names they read: "Telegraf",
// "collectd", "Telegraf and collectd" (each for some panels) or "".
func hostChoosePanels(have map[string]bool) ([]hostPanel, string) {
	var out []hostPanel
	var telegraf, collectd bool
	for _, slot := range hostSlots {
		for i, d := range slot {
			if hostHasAny(have, d.Needs) {
				out = append(out, d)
				// Each slot lists Telegraf's panel first, then collectd's.
				if i == 0 {
					telegraf = true
				} else {
					collectd = true
				}
				break
			}
		}
	}
	switch {
	case telegraf && collectd:
		return out, "Telegraf and collectd"
	case telegraf:
		return out, "Telegraf"
	case collectd:
		return out, "collectd"
	}
	return out, ""
}

// hostHasAny reports whether have holds one of names.
func hostHasAny(have map[string]bool, names []string) bool {
	for _, n := range names {
		if have[n] {
			return true
		}
	}
	return false
}
