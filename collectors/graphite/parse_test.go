package graphite

import (
	"errors"
	"math"
	"strings"
	"testing"

	"outpost/tsdb"
)

const testNow = int64(1_700_000_000_000) // ms, stands for "receive time"

// mustParser builds a parser or fails the test.
func mustParser(t testing.TB, cfg Config) *Parser {
	t.Helper()
	p, err := NewParser(cfg)
	if err != nil {
		t.Fatalf("NewParser: %v", err)
	}
	return p
}

// samePoints compares points, NaN-safe and with labels compared exactly.
func samePoints(got, want []tsdb.Point) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Labels.Equal(w.Labels) || g.T != w.T || (g.V != w.V && !(math.IsNaN(g.V) && math.IsNaN(w.V))) {
			return false
		}
		if math.Signbit(g.V) != math.Signbit(w.V) {
			return false
		}
	}
	return true
}

func TestParser_ParseLine_Valid(t *testing.T) {
	p := mustParser(t, DefaultConfig())
	f := func(in string, want ...tsdb.Point) {
		t.Helper()
		got, err := p.ParseLine(nil, []byte(in), testNow)
		if err != nil {
			t.Fatalf("ParseLine(%q): unexpected error %v", in, err)
		}
		if !samePoints(got, want) {
			t.Fatalf("ParseLine(%q)\n got %v\nwant %v", in, got, want)
		}
	}
	pt := func(ls tsdb.Labels, tms int64, v float64) tsdb.Point { return tsdb.Point{Labels: ls, T: tms, V: v} }

	// the forms of the plaintext protocol
	f("a.b.c 1.5 1700000001", pt(lbl("a.b.c"), 1700000001000, 1.5))
	f("a.b.c 1.5 1700000001\r", pt(lbl("a.b.c"), 1700000001000, 1.5))
	f("a.b.c\t1.5\t1700000001", pt(lbl("a.b.c"), 1700000001000, 1.5))
	f(" \ta.b.c  \t 1.5   1700000001 \t", pt(lbl("a.b.c"), 1700000001000, 1.5))
	f("a.b.c 1.5", pt(lbl("a.b.c"), testNow, 1.5))
	f("a.b.c 1.5 \r", pt(lbl("a.b.c"), testNow, 1.5))
	// timestamps: fractional, -1 and 0 mean receive time
	f("a 1 1700000001.5", pt(lbl("a"), 1700000001500, 1))
	f("a 1 1700000001.123", pt(lbl("a"), 1700000001123, 1))
	f("a 1 1.700000001e9", pt(lbl("a"), 1700000001000, 1))
	f("a 1 -1", pt(lbl("a"), testNow, 1))
	f("a 1 -1.0", pt(lbl("a"), testNow, 1))
	f("a 1 0", pt(lbl("a"), testNow, 1))
	f("a 1 86400", pt(lbl("a"), 86400000, 1))
	// values
	f("a 42 1", pt(lbl("a"), 1000, 42))
	f("a -42 1", pt(lbl("a"), 1000, -42))
	f("a +7 1", pt(lbl("a"), 1000, 7))
	f("a .5 1", pt(lbl("a"), 1000, 0.5))
	f("a 5. 1", pt(lbl("a"), 1000, 5))
	f("a -0 1", pt(lbl("a"), 1000, math.Copysign(0, -1)))
	f("a 1e3 1", pt(lbl("a"), 1000, 1000))
	f("a -2.5E-3 1", pt(lbl("a"), 1000, -0.0025))
	f("a 0.0000001 1", pt(lbl("a"), 1000, 1e-7))
	f("a 0.1 1", pt(lbl("a"), 1000, 0.1))
	f("a 123456789.123456 1", pt(lbl("a"), 1000, 123456789.123456))
	f("a 9007199254740993 1", pt(lbl("a"), 1000, 9007199254740993))
	f("a 1.8368267303492467 1", pt(lbl("a"), 1000, 1.8368267303492467))
	f("a inf 1", pt(lbl("a"), 1000, math.Inf(1)))
	f("a -Inf 1", pt(lbl("a"), 1000, math.Inf(-1)))
	f("a +Infinity 1", pt(lbl("a"), 1000, math.Inf(1)))
	// paths: anything but blanks, as sent
	f("telegraf.peerhost.Zürich.exec_unicode.temp 21.5 1", pt(lbl("telegraf.peerhost.Zürich.exec_unicode.temp"), 1000, 21.5))
	f("telegraf.peerhost.a_b=c.exec_edge.f_int -42 1", pt(lbl("telegraf.peerhost.a_b=c.exec_edge.f_int"), 1000, -42))
	f("a..b. 1 1", pt(lbl("a..b."), 1000, 1))
	// the tagged form
	f("disk.used;rack=a1;datacenter=dc1 7 1", pt(lbl("disk.used", "datacenter", "dc1", "rack", "a1"), 1000, 7))
	f("m;z=1;b=2;z=3 1 1", pt(lbl("m", "b", "2", "z", "3"), 1000, 1))
	f("m;k=a=b 1 1", pt(lbl("m", "k", "a=b"), 1000, 1))
	f("m;k= 1 1", pt(lbl("m"), 1000, 1))
	f("m;=v 1 1", pt(lbl("m"), 1000, 1))
	f("m; 1 1", pt(lbl("m"), 1000, 1))
	f("m;;k=v 1 1", pt(lbl("m", "k", "v"), 1000, 1))
	f("m;__name__=x;k=v 1 1", pt(lbl("m", "k", "v"), 1000, 1))
	f("m;k=~x;a!b=c 1 1", pt(lbl("m", "a!b", "c", "k", "~x"), 1000, 1))
	// blank lines append nothing
	f("")
	f("\r")
	f(" \t ")
}

func TestParser_ParseLine_Rejected(t *testing.T) {
	p := mustParser(t, DefaultConfig())
	f := func(in string, col int, msg string) {
		t.Helper()
		got, err := p.ParseLine(nil, []byte(in), testNow)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("ParseLine(%q) = %v, %v; want a *ParseError", in, got, err)
		}
		if pe.Line != 1 || pe.Col != col || !strings.Contains(pe.Msg, msg) {
			t.Fatalf("ParseLine(%q): got %q (line %d col %d), want col %d and %q", in, pe.Msg, pe.Line, pe.Col, col, msg)
		}
		if len(got) != 0 {
			t.Fatalf("ParseLine(%q) appended %v", in, got)
		}
	}
	f("a", 2, "missing value")
	f("1419972457825", 14, "missing value")
	f("a b", 3, `invalid value "b"`)
	f("a 1x 2", 3, `invalid value "1x"`)
	f("a 50.554z 1419972457825", 3, "invalid value")
	f("a 0x10 1", 3, "invalid value")
	f("a 1_000 1", 3, "invalid value")
	f("a 1e400 1", 3, "invalid value")
	f("a - 1", 3, "invalid value")
	f("a . 1", 3, "invalid value")
	f("a ++1 1", 3, "invalid value")
	f("a --nan 1", 3, "invalid value")
	f("a 1 2 3", 7, "more than 3 fields")
	f("a 1 2 3 4 5", 7, "more than 3 fields")
	f("a 1 17000z", 5, "invalid timestamp")
	f("a 1 nan", 5, "invalid timestamp")
	f("a 1 inf", 5, "invalid timestamp")
	f("a 1 99999999999999999999", 5, "invalid timestamp")
	f(";k=v 1", 1, "empty metric path")
	f("m;k 1", 3, `tag "k" has no '='`)
	f("m;a=b;k 1", 7, `tag "k" has no '='`)
	f("\xff.a 1", 1, "not valid UTF-8")
}

func TestParser_ParseLine_NaN(t *testing.T) {
	p := mustParser(t, DefaultConfig())
	for _, in := range []string{"a nan 1", "a NaN", "a -nan 1", "a +NAN 1", "collectd.h.interface-lo.if_octets.rx nan 1795434230"} {
		t.Run(in, func(t *testing.T) {
			got, err := p.ParseLine(nil, []byte(in), testNow)
			if !errors.Is(err, ErrNaN) || len(got) != 0 {
				t.Fatalf("ParseLine(%q) = %v, %v; want nothing and ErrNaN", in, got, err)
			}
		})
	}
}

func TestParser_ParseLine_Appends(t *testing.T) {
	p := mustParser(t, DefaultConfig())
	dst := []tsdb.Point{{Labels: lbl("first"), T: 1, V: 1}}
	dst, err := p.ParseLine(dst, []byte("second 2 2"), testNow)
	if err != nil || len(dst) != 2 || dst[0].Labels.Get(tsdb.MetricName) != "first" || dst[1].V != 2 {
		t.Fatalf("got %v, %v", dst, err)
	}
}

func TestParser_ParseLine_GlobalTags(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tags = []string{"dc=eu", "host=default"}
	p := mustParser(t, cfg)
	got, err := p.ParseLine(nil, []byte("m;host=web1 1 1"), testNow)
	want := []tsdb.Point{{Labels: lbl("m", "dc", "eu", "host", "web1"), T: 1000, V: 1}}
	if err != nil || !samePoints(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
}

func TestDecoder_Parse_Cache(t *testing.T) {
	d := newDecoder(mustParser(t, DefaultConfig()), newSeriesCache(100))
	a, _ := d.parse(nil, []byte("x.y;k=v 1 1"), testNow)
	b, _ := d.parse(nil, []byte("x.y;k=v 2 2"), testNow)
	if len(a) != 1 || len(b) != 1 || &a[0].Labels[0] != &b[0].Labels[0] {
		t.Fatalf("second parse of the same path did not reuse the cached labels")
	}
	if !b[0].Labels.Equal(lbl("x.y", "k", "v")) || b[0].V != 2 {
		t.Fatalf("got %v", b)
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = d.parse(a[:0], []byte("x.y;k=v 3.25 1700000000"), testNow) })
	if allocs != 0 {
		t.Fatalf("a cached line allocates %.1f times, want 0", allocs)
	}
}

func TestParseError_Error(t *testing.T) {
	e := &ParseError{Line: 3, Col: 7, Msg: "invalid value \"x\""}
	if got, want := e.Error(), `line 3, column 7: invalid value "x"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
