package rulefile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

func TestDefaults(t *testing.T) {
	f := Defaults()
	if f.Path != DefaultsPath {
		t.Fatalf("Path = %q", f.Path)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := []string{"outpost-hosts/alert:DiskSpaceLow", "outpost-hosts/alert:MemoryLow",
		"outpost-hosts/flatline:HostSilent", "outpost-self/alert:IngestRejected"}
	if got := ruleNames(f); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules %v, want %v", got, want)
	}
	// Every rule says what happened and why it matters, and has a level.
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary or description missing", r.Name)
			}
			if r.Warn == nil && r.Crit == nil && r.Labels["severity"] == "" {
				t.Errorf("%s: neither levels nor a severity label", r.Name)
			}
		}
	}
	// The summaries read well for both agents' labels.
	summary := func(rule int, v float64, labels ...string) string {
		t.Helper()
		r := &f.Groups[rule/10].Rules[rule%10]
		m := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		ann, err := r.ExpandAnnotations(t.Context(), &TemplateData{Labels: m, Value: v})
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		return ann["summary"]
	}
	for _, c := range []struct{ got, want string }{
		{summary(0, 85.04, "host", "t1", "path", "/", "device", "vda"), "Disk / on t1 is 85.0% full"},
		{summary(0, 90, "host", "c1", "instance", "root"), "Disk root on c1 is 90.0% full"},
		{summary(1, 96.55, "host", "c2"), "Memory on c2 is 96.5% used"},
		{summary(2, 0, "host", "web1"), "Host web1 stopped reporting"},
		{summary(10, 1500, "protocol", "influx", "what", "lines", "reason", "parse"), "outpost turned away 1.5k lines from influx senders (parse)"},
	} {
		if c.got != c.want {
			t.Errorf("summary %q, want %q", c.got, c.want)
		}
	}
	// Each call parses afresh: the caller owns what it gets.
	f.Groups[0].Rules[0].Name = "changed"
	if Defaults().Groups[0].Rules[0].Name != "DiskSpaceLow" {
		t.Fatalf("Defaults shares its File between calls")
	}
}

// defaultsNow is the evaluation time of TestDefaults_Queries.
var defaultsNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fleetPoints is a fleet as Telegraf and collectd report it (names and
// labels as in ../shared/conformance/ingest/): t1 sends Telegraf, c1
// collectd with absolute values, c2 collectd with ValuesPercentage, and b
// both agents. One value per minute over the last 30 minutes.
func fleetPoints() []tsdb.Point {
	var pts []tsdb.Point
	add := func(v float64, nv ...string) {
		ls := tsdb.FromStrings(nv...)
		for m := 30; m >= 0; m-- {
			pts = append(pts, tsdb.Point{Labels: ls, T: defaultsNow.Add(-time.Duration(m) * time.Minute).UnixMilli(), V: v})
		}
	}
	disk := func(host, path, fstype string, v float64) {
		add(v, "__name__", "disk_used_percent", "db", "telegraf", "device", "vda", "fstype", fstype, "host", host, "mode", "rw", "path", path)
	}
	df := func(host, instance, typ, ti string, v float64) {
		add(v, "__name__", "df_value", "host", host, "instance", instance, "type", typ, "type_instance", ti)
	}
	mem := func(host, typ, ti string, v float64) {
		add(v, "__name__", "memory_value", "host", host, "type", typ, "type_instance", ti)
	}
	disk("t1", "/", "ext4", 85)
	disk("t1", "/dev/shm", "tmpfs", 95)
	disk("t1", "/snap/core/1", "squashfs", 100)
	disk("b", "/", "xfs", 50)
	for _, h := range []string{"c1", "b"} {
		df(h, "root", "df_complex", "used", 90)
		df(h, "root", "df_complex", "free", 10)
		df(h, "root", "df_complex", "reserved", 5)
		df(h, "dev-shm", "df_complex", "used", 100)
		df(h, "dev-shm", "df_complex", "free", 0)
		df(h, "snap-core-1", "df_complex", "used", 100)
		df(h, "snap-core-1", "df_complex", "free", 0)
		for ti, v := range map[string]float64{"used": 60, "buffered": 10, "cached": 20, "free": 10, "slab_recl": 0, "slab_unrecl": 0, "available": 30} {
			mem(h, "memory", ti, v)
		}
		add(0.5, "__name__", "load_shortterm", "host", h, "type", "load")
	}
	df("c2", "root", "percent_bytes", "used", 70)
	mem("c2", "percent", "used", 97)
	add(92, "__name__", "mem_used_percent", "db", "telegraf", "host", "t1")
	add(10, "__name__", "mem_used_percent", "db", "telegraf", "host", "b")
	add(738, "__name__", "system_uptime", "db", "telegraf", "host", "t1")
	add(3, "__name__", "outpost_ingest_rejected_total", "protocol", "graphite", "reason", "parse", "what", "lines")
	for m := 30; m >= 0; m-- {
		v := 0.0
		if m < 5 {
			v = float64(5 - m)
		}
		pts = append(pts, tsdb.Point{Labels: tsdb.FromStrings("__name__", "outpost_ingest_rejected_total",
			"protocol", "influx", "reason", "parse", "what", "lines"), T: defaultsNow.Add(-time.Duration(m) * time.Minute).UnixMilli(), V: v})
	}
	return pts
}

// fleetEngine returns a query engine over a store holding fleetPoints.
func fleetEngine(t *testing.T) *query.Engine {
	t.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	db, err := tsdb.Open(cfg, tsdb.Options{Now: func() time.Time { return defaultsNow }})
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Write(t.Context(), fleetPoints()); err != nil {
		t.Fatalf("write: %v", err)
	}
	return query.NewEngine(db, query.Options{Now: func() time.Time { return defaultsNow }})
}

// TestDefaults_Queries runs the default rules' expressions over a fleet
// of Telegraf and collectd hosts, checking what each selects.
func TestDefaults_Queries(t *testing.T) {
	e := fleetEngine(t)
	exprs := map[string]string{}
	for _, g := range Defaults().Groups {
		for _, r := range g.Rules {
			exprs[r.Name] = r.Expr
		}
	}
	instant := func(rule string) query.Vector {
		t.Helper()
		v, err := e.Instant(t.Context(), exprs[rule], defaultsNow)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		vec, ok := v.(query.Vector)
		if !ok {
			t.Fatalf("%s: result %T, want a vector", rule, v)
		}
		return vec
	}
	f := func(rule string, want ...string) {
		t.Helper()
		var got []string
		for _, s := range instant(rule) {
			place := s.Labels.Get("path") + s.Labels.Get("instance") + s.Labels.Get("protocol")
			got = append(got, fmt.Sprintf("%s%s=%.4g", s.Labels.Get("host"), place, s.V))
		}
		slices.Sort(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n%s\nwant:\n%s", rule, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// Telegraf's tmpfs and squashfs and collectd's dev-shm and snap-*
	// are left out; b is judged on Telegraf's series alone.
	f("DiskSpaceLow", "b/=50", "c1root=90", "c2root=70", "t1/=85")
	// collectd's "available" does not count in the total.
	f("MemoryLow", "b=10", "c1=60", "c2=97", "t1=92")
	// The graphite counter stands still; influx's rose by 5 in 10m.
	f("IngestRejected", "influx=5")
	// The flatline rule learns every host from its few series.
	hosts := map[string]int{}
	for _, s := range instant("HostSilent") {
		hosts[s.Labels.Get("host")]++
	}
	if want := map[string]int{"b": 9, "c1": 8, "c2": 1, "t1": 2}; !reflect.DeepEqual(hosts, want) {
		t.Fatalf("HostSilent selects series by host %v, want %v", hosts, want)
	}
}
