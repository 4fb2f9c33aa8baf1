package graphite

import (
	"math/rand/v2"
	"strings"
	"testing"

	"outpost/tsdb"
)

// bruteMatch is the reference of templateSet.match: the most specific of
// the filters matching the path, by compareSpecificity, else the default.
func bruteMatch(ts *templateSet, elems []string) *template {
	var best *template
	for _, t := range ts.list {
		if t.filter == "" {
			continue
		}
		if ok, _ := filterMatch(t.filterE, elems); ok && (best == nil || compareSpecificity(t.filterE, best.filterE) < 0) {
			best = t
		}
	}
	if best == nil {
		return ts.def
	}
	return best
}

func TestTemplateSet_Match(t *testing.T) {
	f := func(templates []string, path string, wantIndex int) {
		t.Helper()
		ts, err := compileTemplates(templates, nil, ".")
		if err != nil {
			t.Fatalf("compile %q: %v", templates, err)
		}
		elems := strings.Split(path, ".")
		got := ts.match(elems)
		if got.index != wantIndex {
			t.Fatalf("%q on %q: got graphite.templates[%d] (%q), want [%d]", templates, path, got.index, got.text, wantIndex)
		}
		if ref := bruteMatch(ts, elems); ref != got {
			t.Fatalf("%q on %q: tree chose [%d], the reference [%d]", templates, path, got.index, ref.index)
		}
	}
	// no filter matches, no default: the built-in one (index -1)
	f([]string{"a.b measurement"}, "x.y", -1)
	f([]string{"a.b measurement"}, "a", -1)
	f([]string{"a.b measurement", "measurement*"}, "x.y", 1)
	// a filter is a prefix: it matches longer paths
	f([]string{"a.b measurement"}, "a.b.c.d", 0)
	// a literal beats "*" at the first element where filters differ
	f([]string{"*.b measurement", "a.* measurement"}, "a.b", 1)
	f([]string{"servers.* .wrong.measurement*", "servers.localhost .host.measurement*"}, "servers.localhost.cpu", 1)
	// a longer filter beats its own prefix
	f([]string{"a measurement", "a.b measurement", "a.b.c measurement"}, "a.b.c.d", 2)
	f([]string{"a measurement", "a.b measurement", "a.b.c measurement"}, "a.b.x", 1)
	// InfluxDB's greedy walk dead-ends here and falls back to the default
	// template; outpost backtracks to the filter that matches.
	f([]string{"servers.* .host.measurement*", "servers.localhost.cpu .host.resource.measurement*"}, "servers.localhost.mem", 0)
	f([]string{"a.*.*.d measurement", "a.* measurement"}, "a.b.c", 1)
	f([]string{"a.x measurement", "*.y measurement"}, "a.y", 1)
}

func TestTemplateSet_Match_Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "*"}
	elem := func(wild bool) string {
		w := words[rng.IntN(len(words))]
		if !wild && w == "*" {
			return "a"
		}
		return w
	}
	for round := range 300 {
		var templates []string
		seen := map[string]bool{}
		for range 1 + rng.IntN(12) {
			var f []string
			for range 1 + rng.IntN(4) {
				f = append(f, elem(true))
			}
			if filter := strings.Join(f, "."); !seen[filter] {
				seen[filter] = true
				templates = append(templates, filter+" measurement")
			}
		}
		ts, err := compileTemplates(templates, nil, ".")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for range 20 {
			var p []string
			for range 1 + rng.IntN(5) {
				p = append(p, elem(false))
			}
			if got, want := ts.match(p), bruteMatch(ts, p); got != want {
				t.Fatalf("round %d: templates %q, path %q: tree chose %q, reference %q", round, templates, p, got.text, want.text)
			}
		}
	}
}

func TestTemplate_Apply(t *testing.T) {
	f := func(tmpl, sep, path, meas, field string, tags ...string) {
		t.Helper()
		tp, err := compileTemplate(0, tmpl, sep)
		if err != nil {
			t.Fatalf("compile %q: %v", tmpl, err)
		}
		a := tp.apply(strings.Split(path, "."))
		var got []string
		for _, l := range a.tags {
			got = append(got, l.Name, l.Value)
		}
		if a.measurement != meas || a.field != field || strings.Join(got, ",") != strings.Join(tags, ",") {
			t.Fatalf("%q on %q: got %q %q %q, want %q %q %q", tmpl, path, a.measurement, a.field, got, meas, field, tags)
		}
	}
	f("measurement", ".", "cpu", "cpu", "")
	f("measurement.measurement", "_", ".x", "_x", "")
	f(".host.measurement*", "_", "s.web1.cpu.load", "cpu_load", "", "host", "web1")
	f("host.host.measurement", ".", "a.b.cpu", "cpu", "", "host", "a.b")
	f("measurement.field*", "_", "disk.used.bytes", "disk", "used_bytes")
	f("measurement.field", ".", "disk", "disk", "")
	f("measurement*.host", ".", "a.b.c", "a.b.c", "")
	f("..measurement.host", ".", "a.b", "", "")
}

func TestParser_Resolve_Precedence(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tags = []string{"dc=global", "env=global", "host=global", "rack=global"}
	cfg.Templates = []string{"servers.* .host.measurement.field env=template,host=template"}
	p := mustParser(t, cfg)
	res, err := p.resolve("servers.web1.cpu.idle;rack=line;host=line", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := lbl("cpu_idle", "dc", "global", "env", "template", "host", "line", "rack", "line")
	if !res.labels.Equal(want) {
		t.Fatalf("got %v, want %v", res.labels, want)
	}
	// an empty path element yields an empty label, which is left out
	res, _ = p.resolve("servers..cpu.idle", 1, nil)
	if got := res.labels.Get("host"); got != "template" {
		t.Fatalf("host = %q, want the template's value when the path's is empty", got)
	}
	if err := res.labels.Validate(); err != nil {
		t.Fatal(err)
	}
	if res.labels.Has("") || res.labels.Get(tsdb.MetricName) != "cpu_idle" {
		t.Fatalf("got %v", res.labels)
	}
}

// TestParser_ParseLine_DocExample keeps the worked example of doc.go true.
func TestParser_ParseLine_DocExample(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Separator = "_"
	cfg.Tags = []string{"dc=fra"}
	cfg.Templates = []string{
		"servers.* .host.resource.measurement* region=eu",
		"servers.*.disk .host..device.measurement.field",
		"measurement.field",
	}
	p := mustParser(t, cfg)
	f := func(line string, want tsdb.Point) {
		t.Helper()
		got, err := p.ParseLine(nil, []byte(line), testNow)
		if err != nil || !samePoints(got, []tsdb.Point{want}) {
			t.Fatalf("%q: got %v, %v; want %v", line, got, err, want)
		}
	}
	f("servers.web1.cpu.load.1m 0.5 1700000000", tsdb.Point{Labels: lbl("load_1m", "dc", "fra", "host", "web1", "region", "eu", "resource", "cpu"), T: 1700000000000, V: 0.5})
	f("servers.web1.disk.sda.used.bytes 9", tsdb.Point{Labels: lbl("used_bytes", "dc", "fra", "device", "sda", "host", "web1"), T: testNow, V: 9})
	f("app.requests 3", tsdb.Point{Labels: lbl("app_requests", "dc", "fra"), T: testNow, V: 3})
}
