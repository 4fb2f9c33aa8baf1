package rulefile

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadOK loads testdata/rules/name and fails the test on any problem, or
// when the parsed File does not re-validate.
func loadOK(t *testing.T, name string) *File {
	t.Helper()
	path := filepath.Join("testdata", "rules", name)
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", name, err)
	}
	if f.Path != path {
		t.Fatalf("Load(%s).Path = %q", name, f.Path)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("Load(%s) then Validate:\n%v", name, err)
	}
	return f
}

// ruleNames lists "group/rule" for every rule of f.
func ruleNames(f *File) []string {
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, g.Name+"/"+r.Kind.String()+":"+r.Name)
		}
	}
	return out
}

func TestParse_OKFiles(t *testing.T) {
	f := func(name string, want ...string) {
		t.Helper()
		got := ruleNames(loadOK(t, name))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s rules:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("ok-empty.yaml")
	f("ok-prometheus.yaml",
		"node-exporter.rules/record:instance:node_num_cpu:sum",
		"node-exporter.rules/record:instance:node_cpu_utilisation:rate5m",
		"node-exporter.rules/record:instance:node_load1_per_cpu:ratio",
		"node-exporter.rules/record:instance:node_memory_utilisation:ratio",
		"node-exporter.rules/record:instance:node_vmstat_pgmajfault:rate5m",
		"node-exporter.rules/record:instance_device:node_disk_io_time_seconds:rate5m",
		"node-exporter/alert:NodeFilesystemAlmostOutOfSpace",
		"node-exporter/alert:NodeFilesystemSpaceFillingUp",
		"node-exporter/alert:NodeHighNumberConntrackEntriesUsed",
		"node-exporter/alert:NodeClockNotSynchronising",
		"node-exporter/alert:NodeSystemSaturation",
		"node-exporter/alert:NodeMemoryMajorPagesFaults",
		"node-exporter/alert:NodeRAIDDegraded",
		"node-exporter/alert:NodeBootedRecently")
	f("ok-vmalert.yaml",
		"vm-health/alert:TooManyRestarts",
		"vm-health/alert:ServiceDown",
		"vm-health/record:job:vm_rows_inserted:rate5m",
		"prometheus-offset/record:job:up:avg",
		"second-document/alert:TooManyLogs")
	f("ok-outpost.yaml",
		"outpost-fields/alert:DiskFull", "outpost-fields/alert:TemperatureLow", "outpost-fields/alert:QueueNotEmpty",
		"outpost-fields/alert:Flapping", "outpost-fields/alert:ProbeMissing",
		"outpost-fields/flatline:HostSilent", "outpost-fields/flatline:DiskSilent")
	f("ok-anchors.yaml", "anchored/alert:PostgresDown", "anchored/alert:PostgresRestarted")
}

func TestParse_Prometheus(t *testing.T) {
	f := loadOK(t, "ok-prometheus.yaml")
	g := f.Groups[1]
	if g.Interval != time.Minute || g.Limit != 50 || g.File != f.Path || g.Line != 49 {
		t.Fatalf("group = %+v", g)
	}
	r := g.Rules[3] // NodeClockNotSynchronising
	if r.For != 10*time.Minute || r.KeepFiringFor != 5*time.Minute || r.Line != 87 || r.Labels["severity"] != "warning" {
		t.Fatalf("rule = %+v", r)
	}
	if r.AnnotationTemplates["summary"] == nil || r.AnnotationTemplates["summary"].tmpl != nil {
		t.Fatalf("a plain annotation is compiled as a template: %+v", r.AnnotationTemplates)
	}
	if r.AnnotationTemplates["description"].tmpl == nil {
		t.Fatalf("a templated annotation is not compiled")
	}
	rec := f.Groups[0].Rules[5]
	if rec.Labels["source"] != "mixin" || rec.LabelTemplates != nil || rec.AnnotationTemplates != nil {
		t.Fatalf("record rule = %+v", rec)
	}
}

func TestParse_VMAlert(t *testing.T) {
	f := loadOK(t, "ok-vmalert.yaml")
	g := f.Groups[0]
	want := Group{Name: "vm-health", File: f.Path, Interval: 30 * time.Second, Limit: 100,
		Labels: map[string]string{"team": "ops"}, EvalOffset: 10 * time.Second, EvalDelay: 20 * time.Second,
		Concurrency: 2, Type: "prometheus", Line: 4}
	g.Rules = nil
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("group:\n%+v\nwant:\n%+v", g, want)
	}
	if d := f.Groups[1].EvalDelay; d != time.Minute {
		t.Fatalf("query_offset gave EvalDelay %v, want 1m", d)
	}
	if got := f.Groups[0].Rules[1].LabelTemplates["severity"]; got == nil || got.tmpl == nil {
		t.Fatalf("templated label not compiled: %v", got)
	}
}

func TestParse_OutpostFields(t *testing.T) {
	f := loadOK(t, "ok-outpost.yaml")
	rs := f.Groups[0].Rules
	for i := range rs {
		rs[i].AnnotationTemplates, rs[i].LabelTemplates = nil, nil
	}
	d := func(s string) time.Duration { v, _ := parseDuration(s); return v }
	want := []Rule{
		{Kind: KindAlert, Name: "DiskFull", Expr: `disk_used_percent{fstype!="tmpfs"}`, For: d("5m"), KeepFiringFor: d("2m"),
			Labels:      map[string]string{"team": "storage"},
			Annotations: map[string]string{"summary": `Disk {{ $labels.path }} on {{ $labels.host }} is {{ printf "%.1f" $value }}% full`},
			Warn:        &Condition{">", 80}, Crit: &Condition{">=", 90}, Clear: &Condition{"<", 75},
			DatapointsToAlarm: 3, EvaluationPeriods: 5, MissingData: MissingNotBreaching,
			Repeat: map[string]time.Duration{"warning": d("24h"), "critical": d("1h")}, Line: 6},
		{Kind: KindAlert, Name: "TemperatureLow", Expr: "sensors_temp_input", Warn: &Condition{"<=", -5}, Crit: &Condition{"<", -15},
			MissingData: MissingNotBreaching, DatapointsToAlarm: 3, EvaluationPeriods: 3,
			Repeat: map[string]time.Duration{"": d("30m"), "warning": d("30m"), "critical": d("30m")}, Line: 21},
		{Kind: KindAlert, Name: "QueueNotEmpty", Expr: "queue_length", Crit: &Condition{"!=", 0},
			DatapointsToAlarm: 2, EvaluationPeriods: 2, MissingData: MissingBreaching, Line: 28},
		{Kind: KindAlert, Name: "Flapping", Expr: "service_state", Warn: &Condition{"==", 1}, MissingData: MissingIgnore, Line: 33},
		{Kind: KindAlert, Name: "ProbeMissing", Expr: "probe_success", Crit: &Condition{"<", math.Inf(1)}, MissingData: MissingMissing, Line: 37},
		{Kind: KindFlatline, Name: "HostSilent", Expr: `{__name__="system_uptime",host!=""}`, By: []string{"host"},
			For: d("5m"), ForgetAfter: d("7d"), Repeat: map[string]time.Duration{"critical": d("4h")},
			Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "Host {{ $labels.host }} stopped reporting"},
			Line: 41},
		{Kind: KindFlatline, Name: "DiskSilent", Expr: "disk_used_percent", By: []string{"host", "path"}, For: d("10m"), Line: 51},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d rules, want %d", len(rs), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(rs[i], want[i]) {
			t.Errorf("rule %d:\n%+v\nwant:\n%+v", i+1, rs[i], want[i])
		}
	}
}

func TestParse_Anchors(t *testing.T) {
	f := loadOK(t, "ok-anchors.yaml")
	rs := f.Groups[0].Rules
	if want := map[string]string{"team": "db", "severity": "page"}; !reflect.DeepEqual(rs[0].Labels, want) {
		t.Fatalf("merged labels = %v, want %v", rs[0].Labels, want)
	}
	if rs[1].Labels["team"] != "db" || rs[1].Annotations["summary"] != rs[0].Annotations["summary"] {
		t.Fatalf("aliased rule = %+v", rs[1])
	}
}

func TestLoadGlobs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"
	a := write("a.yml", good)
	b := write("b.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n    exprs: up\n")
	c := write("c.yml", good)
	files, errs := LoadGlobs([]string{filepath.Join(dir, "*.yml"), filepath.Join(dir, "a.*"),
		filepath.Join(dir, "none-*.yml"), "["})
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if !reflect.DeepEqual(paths, []string{a, c}) {
		t.Fatalf("loaded %v, want [%s %s]", paths, a, c)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v, want b.yml's and the bad pattern's", errs)
	}
	if es := Errors(errs[0]); len(es) != 2 || es[0].File != b {
		t.Fatalf("first error %v, want b.yml's two problems", errs[0])
	}
	if !strings.Contains(errs[1].Error(), `rule file pattern "["`) {
		t.Fatalf("second error %v, want the bad pattern", errs[1])
	}
	if _, err := Load(filepath.Join(dir, "missing.yml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v", err)
	}
}
