package collectd

import (
	"maps"
	"math"
	"strconv"
	"strings"
	"testing"

	"outpost/tsdb"
)

// series renders points as `name{l="v",...} value @ms`.
func series(pts []tsdb.Point) string {
	var out []string
	for _, p := range pts {
		s := p.Labels.Get(tsdb.MetricName) + "{"
		first := true
		for _, l := range p.Labels {
			if l.Name == tsdb.MetricName {
				continue
			}
			if !first {
				s += ","
			}
			first = false
			s += l.Name + `="` + l.Value + `"`
		}
		out = append(out, s+"} "+formatValue(p.V)+" @"+strconv.FormatInt(p.T, 10))
	}
	return strings.Join(out, " ")
}

func formatValue(f float64) string { return strings.TrimSuffix(fmtG(f), ".0") }

func TestMapper_AppendPoints(t *testing.T) {
	const nowMs = 1_700_000_000_123
	f := func(name string, vl ValueList, want string, wantDrops drops) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			d := drops{}
			pts := newMapper(BuiltinTypesDB()).appendPoints(nil, &vl, nowMs, d)
			if got := series(pts); got != want {
				t.Errorf("points\n got %s\nwant %s", got, want)
			}
			for _, p := range pts {
				if err := p.Labels.Validate(); err != nil {
					t.Errorf("invalid labels: %v", err)
				}
			}
			if !maps.Equal(d, wantDrops) {
				t.Errorf("drops = %v, want %v", d, wantDrops)
			}
		})
	}
	at := uint64(1795434230) << 30
	f("cpu: single value, every label",
		ValueList{Host: "web1", Plugin: "cpu", PluginInstance: "0", Type: "cpu", TypeInstance: "idle", Time: at, Values: []Value{derive(123)}},
		`cpu_value{host="web1",instance="0",type="cpu",type_instance="idle"} 123 @1795434230000`, drops{})
	f("interface: two data sources, no type instance",
		ValueList{Host: "web1", Plugin: "interface", PluginInstance: "eth0", Type: "if_octets", Time: at, Values: []Value{derive(10), derive(20)}},
		`interface_rx{host="web1",instance="eth0",type="if_octets"} 10 @1795434230000 `+
			`interface_tx{host="web1",instance="eth0",type="if_octets"} 20 @1795434230000`, drops{})
	f("load: gauges, no instances",
		ValueList{Host: "web1", Plugin: "load", Type: "load", Time: at, Values: []Value{gauge(0.5), gauge(1), gauge(2)}},
		`load_shortterm{host="web1",type="load"} 0.5 @1795434230000 load_midterm{host="web1",type="load"} 1 @1795434230000 `+
			`load_longterm{host="web1",type="load"} 2 @1795434230000`, drops{})
	f("no time: receive time; no host: no host label",
		ValueList{Plugin: "memory", Type: "memory", TypeInstance: "used", Values: []Value{gauge(42)}},
		`memory_value{type="memory",type_instance="used"} 42 @1700000000123`, drops{})
	f("unknown type with one value: stored as <plugin>_value",
		ValueList{Host: "h", Plugin: "myapp", Type: "queue_length", Time: at, Values: []Value{absolute(7)}},
		`myapp_value{host="h",type="queue_length"} 7 @1795434230000`, drops{})
	f("unknown type with two values: dropped",
		ValueList{Host: "h", Plugin: "myapp", Type: "pair", Time: at, Values: []Value{gauge(1), gauge(2)}},
		``, drops{reasonUnknownType: 2})
	f("value count not the type's: dropped",
		ValueList{Host: "h", Plugin: "interface", Type: "if_octets", Time: at, Values: []Value{derive(1)}},
		``, drops{reasonCountMismatch: 1})
	f("NaN gauge skipped, the others kept",
		ValueList{Host: "h", Plugin: "load", Type: "load", Time: at, Values: []Value{gauge(math.NaN()), gauge(1), gauge(math.Inf(1))}},
		`load_midterm{host="h",type="load"} 1 @1795434230000 load_longterm{host="h",type="load"} +Inf @1795434230000`,
		drops{reasonNaN: 1})
	f("no plugin: dropped",
		ValueList{Host: "h", Type: "cpu", Values: []Value{derive(1)}}, ``, drops{reasonIncomplete: 1})
	f("counter and absolute stored raw",
		ValueList{Plugin: "p", Type: "t", Time: at, Values: []Value{counter(1 << 40)}},
		`p_value{type="t"} 1.099511627776e+12 @1795434230000`, drops{})
}

func TestMapper_AppendPoints_CachesLabels(t *testing.T) {
	m := newMapper(BuiltinTypesDB())
	vl := ValueList{Host: "h", Plugin: "interface", PluginInstance: "lo", Type: "if_octets", Values: []Value{derive(1), derive(2)}}
	a := m.appendPoints(nil, &vl, 1, drops{})
	b := m.appendPoints(nil, &vl, 2, drops{})
	if &a[0].Labels[0] != &b[0].Labels[0] {
		t.Error("the second list built new labels")
	}
	vl.PluginInstance = "eth0"
	c := m.appendPoints(nil, &vl, 3, drops{})
	if c[1].Labels.Get("instance") != "eth0" || a[1].Labels.Get("instance") != "lo" {
		t.Errorf("labels mixed up: %v %v", a[1].Labels, c[1].Labels)
	}
	allocs := testing.AllocsPerRun(100, func() { a = m.appendPoints(a[:0], &vl, 4, drops{}) })
	if allocs > 0 {
		t.Errorf("%.0f allocations per warm value list", allocs)
	}
}

// TestMapper_CacheBytes fills a mapper with identities whose names are all
// at collectd's longest: the cache is cleared by its byte bound, long
// before its identity count, and never holds more than maxCacheBytes.
func TestMapper_CacheBytes(t *testing.T) {
	m := newMapper(BuiltinTypesDB())
	long := strings.Repeat("n", maxNameLen-1)
	d := drops{}
	const lists = 40_000
	most, cleared := 0, false
	for i := range lists {
		id := strconv.Itoa(i)
		vl := ValueList{Host: long[len(id):] + id, Plugin: long, PluginInstance: long, Type: "gauge", TypeInstance: long,
			Values: []Value{{Type: Gauge, Bits: math.Float64bits(1)}}}
		before := len(m.cache)
		if pts := m.appendPoints(nil, &vl, 1, d); len(pts) != 1 {
			t.Fatalf("list %d: %d points", i, len(pts))
		}
		cleared = cleared || len(m.cache) < before
		most = max(most, m.bytes)
	}
	if !cleared || most > maxCacheBytes {
		t.Fatalf("after %d long identities: cleared %v, most bytes %d (bound %d)", lists, cleared, most, maxCacheBytes)
	}
}
