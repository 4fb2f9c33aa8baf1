package pages

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/query"
)

// hostRoutes returns the routes of the hosts pages.
func (p *Pages) hostRoutes() []Route {
	return []Route{
		{Pattern: "GET /hosts", Handler: http.HandlerFunc(p.hostList)},
		{Pattern: "GET /hosts/{$}", Handler: http.HandlerFunc(p.hostList)},
		{Pattern: "GET /hosts/{host}", Handler: http.HandlerFunc(p.hostDashboard)},
	}
}

// hostSummaryQueries give one value per host (label host) at an instant:
// CPU busy, memory used and the fullest disk, in percent, from Telegraf's
// names or else collectd's. Each reads every host at once.
var hostSummaryQueries = [3]string{
	`100 - avg by (host) (cpu_usage_idle{cpu="cpu-total"})` +
		` or 100 - 100 * sum by (host) (rate(cpu_value{type="cpu",type_instance="idle"}[5m])) / sum by (host) (rate(cpu_value{type="cpu"}[5m]))` +
		` or 100 - avg by (host) (cpu_value{type="percent",type_instance="idle"})`,
	`max by (host) (mem_used_percent)` +
		` or max by (host) (100 * memory_value{type="memory",type_instance="used"} / ignoring (type_instance)` +
		` sum without (type_instance) (memory_value{type="memory",type_instance=~"used|buffered|cached|free|slab_recl|slab_unrecl"}))` +
		` or max by (host) (memory_value{type="percent",type_instance="used"})`,
	`max by (host) (disk_used_percent{fstype!~"tmpfs|devtmpfs|devfs|ramfs|overlay|aufs|squashfs|iso9660|udf|nsfs|tracefs|autofs"})` +
		` or max by (host) (100 * df_value{type="df_complex",type_instance="used",instance!~"dev|dev-shm|run|run-.*|sys-.*|snap-.*"}` +
		` / ignoring (type_instance) sum without (type_instance) (df_value{type="df_complex",instance!~"dev|dev-shm|run|run-.*|sys-.*|snap-.*"}))`,
}

// hostListBody is the data of GET /hosts.
type hostListBody struct {
	Now       time.Time
	Filter    string
	Hosts     []hostSummary
	Total     int // hosts before the filter
	Reporting int
	Silent    int
	Alerting  int // hosts with a firing alert
	AlertsOff bool
	Problems  []string
}

// hostSummary is one row of the host list.
type hostSummary struct {
	Name      string
	LastSeen  time.Time
	Reporting bool
	Firing    int
	Worst     string // severity of the worst firing alert
	CPU       hostGauge
	Mem       hostGauge
	Disk      hostGauge
}

// hostGauge is a percentage of the host list: its text ("" when the host
// does not send it) and a class (warn, crit) when it is high.
type hostGauge struct {
	Text, Class string
}

// hostList answers GET /hosts: every host with its last sample, firing
// alerts and a CPU, memory and disk summary read for all hosts at once.
func (p *Pages) hostList(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Hosts", "Hosts")
	pg.Styles = []string{"hosts.css"}
	pg.Path = "/hosts"
	ctx := r.Context()
	now := p.now()
	b := hostListBody{Now: now, Filter: strings.TrimSpace(r.URL.Query().Get("q"))}
	if b.Filter != "" {
		pg.Keep = map[string]string{"q": b.Filter}
	}
	reporting, silent, err := p.hosts(ctx, now)
	if err != nil {
		b.Problems = append(b.Problems, "hosts: "+err.Error())
	}
	jobs := make([]*hostJob, len(hostSummaryQueries))
	for i, q := range hostSummaryQueries {
		jobs[i] = &hostJob{expr: q, at: now}
	}
	p.runHostJobs(ctx, jobs, pg.Range)
	gauges := make([]map[string]hostGauge, len(jobs))
	for i, j := range jobs {
		if j.err != nil {
			b.Problems = append(b.Problems, "summary: "+j.err.Error())
		}
		gauges[i] = percentByHost(j.v)
	}
	firing, worst := p.firingByHost()
	b.AlertsOff = p.d.Alerts == nil
	add := func(h hostSeen, rep bool) {
		b.Total++
		if rep {
			b.Reporting++
		} else {
			b.Silent++
		}
		if firing[h.Name] > 0 {
			b.Alerting++
		}
		if b.Filter != "" && !strings.Contains(strings.ToLower(h.Name), strings.ToLower(b.Filter)) {
			return
		}
		b.Hosts = append(b.Hosts, hostSummary{Name: h.Name, LastSeen: h.LastSeen, Reporting: rep,
			Firing: firing[h.Name], Worst: worst[h.Name],
			CPU: gauges[0][h.Name], Mem: gauges[1][h.Name], Disk: gauges[2][h.Name]})
	}
	for _, h := range reporting {
		add(h, true)
	}
	for _, h := range silent {
		add(h, false)
	}
	slices.SortFunc(b.Hosts, func(x, y hostSummary) int { return strings.Compare(x.Name, y.Name) })
	pg.Body = b
	p.render(w, r, p.tmpl["hosts.html"], http.StatusOK, pg)
}

// firingByHost counts the firing alerts of each host (label host) and
// names the worst severity among them.
func (p *Pages) firingByHost() (firing map[string]int, worst map[string]string) {
	firing, worst = map[string]int{}, map[string]string{}
	if p.d.Alerts == nil {
		return firing, worst
	}
	for _, a := range p.d.Alerts.Alerts() {
		h := a.Labels["host"]
		if a.State != alerting.StateFiring || h == "" {
			continue
		}
		firing[h]++
		if w, ok := worst[h]; !ok || alertSevRank(a.Severity) < alertSevRank(w) {
			worst[h] = a.Severity
		}
	}
	return firing, worst
}

// percentByHost formats a by (host) result as gauges, by host.
func percentByHost(v query.Vector) map[string]hostGauge {
	out := make(map[string]hostGauge, len(v))
	for _, s := range v {
		if math.IsNaN(s.V) {
			continue
		}
		g := hostGauge{Text: strconv.FormatFloat(s.V, 'f', 1, 64) + "%"}
		switch {
		case s.V >= 90:
			g.Class = "crit"
		case s.V >= 80:
			g.Class = "warn"
		}
		out[s.Labels.Get("host")] = g
	}
	return out
}
