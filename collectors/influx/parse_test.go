package influx

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// testNow is the receive time of the parse tests: 1700000000.123456789 s.
var testNow = time.Unix(1700000000, 123456789)

// fmtPoint renders a point as `name{a="b",c="d"} value ms`, labels in their
// stored order (so an ordering bug shows).
func fmtPoint(p tsdb.Point) string {
	var b strings.Builder
	b.WriteString(p.Labels.Get(tsdb.MetricName))
	b.WriteByte('{')
	first := true
	for _, l := range p.Labels {
		if l.Name == tsdb.MetricName {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(l.Name + "=" + strconv.Quote(l.Value))
	}
	b.WriteString("} " + strconv.FormatFloat(p.V, 'g', -1, 64) + " " + strconv.FormatInt(p.T, 10))
	return b.String()
}

// checkPoints fails unless every point's labels are valid for the store.
func checkPoints(t *testing.T, pts []tsdb.Point) {
	t.Helper()
	for _, p := range pts {
		if err := p.Labels.Validate(); err != nil {
			t.Errorf("invalid labels %v: %v", p.Labels, err)
		}
		if p.Labels.Get(tsdb.MetricName) == "" {
			t.Errorf("no metric name: %v", p.Labels)
		}
	}
}

func TestParse_Mapping(t *testing.T) {
	f := func(body string, want ...string) {
		t.Helper()
		pts, err := Parse([]byte(body), ParseOptions{Now: testNow})
		if err != nil {
			t.Fatalf("Parse(%q): unexpected error %v", body, err)
		}
		checkPoints(t, pts)
		got := make([]string, len(pts))
		for i, p := range pts {
			got[i] = fmtPoint(p)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Parse(%q):\n got %q\nwant %q", body, got, want)
		}
	}
	// Names, tags, field order.
	f(`m,tag=v f1=1,f2=2 1700000000000000000`,
		`m_f1{tag="v"} 1 1700000000000`, `m_f2{tag="v"} 2 1700000000000`)
	f(`cpu,b=2,a=1 v=0.5 1700000000000000000`, `cpu_v{a="1",b="2"} 0.5 1700000000000`)
	f(`m f=1,f=2 1000000`, `m_f{} 1 1`, `m_f{} 2 1`) // duplicate fields: last write wins in the store
	// Every field type.
	f(`m fl=-1.5e3,i=-42i,u=7u,big=9007199254740993i,max=18446744073709551615u 0`,
		`m_fl{} -1500 0`, `m_i{} -42 0`, `m_u{} 7 0`, `m_big{} 9.007199254740992e+15 0`,
		`m_max{} 1.8446744073709552e+19 0`)
	f(`m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 0`,
		`m_a{} 1 0`, `m_b{} 1 0`, `m_c{} 1 0`, `m_d{} 1 0`, `m_e{} 1 0`,
		`m_f{} 0 0`, `m_g{} 0 0`, `m_h{} 0 0`, `m_i{} 0 0`, `m_j{} 0 0`)
	// String fields: numbers and booleans become values, the rest _info.
	f(`m,h=x a="12.5",b="-3",c="1e3",d="true",e="F",f="NaN" 0`,
		`m_a{h="x"} 12.5 0`, `m_b{h="x"} -3 0`, `m_c{h="x"} 1000 0`, `m_d{h="x"} 1 0`,
		`m_e{h="x"} 0 0`, `m_f{h="x"} NaN 0`)
	f(`system,host=peerhost uptime_format=" 0:12" 0`,
		`system_uptime_format_info{host="peerhost",value=" 0:12"} 1 0`)
	f(`exec_edge,host=p f_str="quote \"q\" back\\slash",healthy="False",state="tRue" 0`,
		`exec_edge_f_str_info{host="p",value="quote \"q\" back\\slash"} 1 0`,
		`exec_edge_healthy{host="p"} 0 0`,
		`exec_edge_state_info{host="p",value="tRue"} 1 0`)
	f(`m s="a\tb\nc" 0`, `m_s_info{value="a\tb\nc"} 1 0`)
	// A tag called value: a string field's value replaces it; an empty
	// string gives no value label.
	f(`m,value=x,z=1 s="hi",n=2 0`, `m_s_info{value="hi",z="1"} 1 0`, `m_n{value="x",z="1"} 2 0`)
	f(`m,value=x s="" 0`, `m_s_info{} 1 0`)
	f(`m,a=1 s="" 0`, `m_s_info{a="1"} 1 0`)
	// Escapes and UTF-8.
	f(`my\ meas\,x,tag\ with\ space=a\,b\=c f\ k\=1=1 0`,
		`my meas,x_f k=1{tag with space="a,b=c"} 1 0`)
	f(`exec_unicode,loc=Zürich temp=21.5,note="snow ❄" 0`,
		`exec_unicode_temp{loc="Zürich"} 21.5 0`, `exec_unicode_note_info{loc="Zürich",value="snow ❄"} 1 0`)
	f(`"quoted",k=a\qb m=1 0`, `"quoted"_m{k="a\\qb"} 1 0`)
	f(`=m f=1 0`, `=m_f{} 1 0`)
	// __name__ tags are dropped; upper-case tags sort before __name__.
	f(`m,__name__=evil,a=1 f=1 0`, `m_f{a="1"} 1 0`)
	f(`m,Host=x,zone=z f=1 0`, `m_f{Host="x",zone="z"} 1 0`)
	// Comments, blank lines, CRLF, leading spaces, trailing spaces.
	f("# comment\n\n  m f=1 0\r\nn f=2 0  \r\n\n", `m_f{} 1 0`, `n_f{} 2 0`)
	// Names reused across lines must follow field order, kind and measurement.
	f("m a=1,b=2 0\nm b=3,a=4 0\nm a=\"x\",b=5 0\nn a=6,b=7 0\nm a=8 0\nm,t=1 a=9,c=1 0",
		`m_a{} 1 0`, `m_b{} 2 0`, `m_b{} 3 0`, `m_a{} 4 0`, `m_a_info{value="x"} 1 0`, `m_b{} 5 0`,
		`n_a{} 6 0`, `n_b{} 7 0`, `m_a{} 8 0`, `m_a{t="1"} 9 0`, `m_c{t="1"} 1 0`)
	// Missing timestamp: receive time, in ms.
	f(`m f=1`, `m_f{} 1 1700000000123`)
}

func TestParse_DBLabel(t *testing.T) {
	f := func(body, db string, want ...string) {
		t.Helper()
		pts, err := Parse([]byte(body), ParseOptions{Now: testNow, DB: db})
		if err != nil {
			t.Fatal(err)
		}
		checkPoints(t, pts)
		var got []string
		for _, p := range pts {
			got = append(got, fmtPoint(p))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Parse(%q, db=%q):\n got %q\nwant %q", body, db, got, want)
		}
	}
	f(`cpu,host=a v=1 0`, "telegraf", `cpu_v{db="telegraf",host="a"} 1 0`)
	f(`cpu,db=mine,host=a v=1 0`, "telegraf", `cpu_v{db="mine",host="a"} 1 0`)
	f(`cpu,host=a v=1 0`, "", `cpu_v{host="a"} 1 0`)
	f(`cpu,a=1,zz=2 s="x" 0`, "b", `cpu_s_info{a="1",db="b",value="x",zz="2"} 1 0`)
}

func TestParse_Precision(t *testing.T) {
	f := func(body string, p Precision, want int64) {
		t.Helper()
		pts, err := Parse([]byte(body), ParseOptions{Now: testNow, Precision: p})
		if err != nil {
			t.Fatalf("Parse(%q, %d): %v", body, p, err)
		}
		if len(pts) != 1 || pts[0].T != want {
			t.Fatalf("Parse(%q, %d): got %v, want T=%d", body, p, pts, want)
		}
	}
	f(`m f=1 1700000000123456789`, Nanosecond, 1700000000123)
	f(`m f=1 1700000000123456`, Microsecond, 1700000000123)
	f(`m f=1 1700000000123`, Millisecond, 1700000000123)
	f(`m f=1 1700000000`, Second, 1700000000000)
	f(`m f=1 28333333`, Minute, 1699999980000)
	f(`m f=1 472222`, Hour, 1699999200000)
	// Negative timestamps round down, not towards zero.
	f(`m f=1 -1`, Nanosecond, -1)
	f(`m f=1 -1000000`, Nanosecond, -1)
	f(`m f=1 -1000001`, Nanosecond, -2)
	f(`m f=1 -1`, Microsecond, -1)
	f(`m f=1 -1`, Second, -1000)
	f(`m f=1 -0`, Nanosecond, 0)
	f(`m f=1 -9223372036854775808`, Nanosecond, -9223372036855)
	f(`m f=1 9223372036854775807`, Nanosecond, 9223372036854)
	// Missing timestamps are the receive time rounded down to the unit.
	f(`m f=1`, Nanosecond, 1700000000123)
	f(`m f=1`, Second, 1700000000000)
	f(`m f=1`, Minute, 1699999980000)
	f(`m f=1`, Hour, 1699999200000)
}

func TestParsePrecision_Units(t *testing.T) {
	v1 := map[string]Precision{"": Nanosecond, "n": Nanosecond, "ns": Nanosecond, "u": Microsecond,
		"us": Microsecond, "µs": Microsecond, "ms": Millisecond, "s": Second, "m": Minute, "h": Hour}
	for s, want := range v1 {
		if got, err := parsePrecisionV1(s); err != nil || got != want {
			t.Errorf("parsePrecisionV1(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	v2 := map[string]Precision{"": Nanosecond, "ns": Nanosecond, "us": Microsecond, "ms": Millisecond, "s": Second}
	for s, want := range v2 {
		if got, err := parsePrecisionV2(s); err != nil || got != want {
			t.Errorf("parsePrecisionV2(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"x", "S", "d"} {
		if _, err := parsePrecisionV1(s); !errors.Is(err, ErrInvalidPrecision) {
			t.Errorf("parsePrecisionV1(%q): err %v, want ErrInvalidPrecision", s, err)
		}
	}
	for _, s := range []string{"n", "u", "m", "h"} {
		if _, err := parsePrecisionV2(s); !errors.Is(err, ErrInvalidPrecision) {
			t.Errorf("parsePrecisionV2(%q): err %v, want ErrInvalidPrecision", s, err)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	// f parses body and checks the good lines' metric names and the first
	// error's line, column (-1: any) and message fragment.
	f := func(body string, opts ParseOptions, names []string, line, col int, msg string) {
		t.Helper()
		opts.Now = testNow
		pts, err := Parse([]byte(body), opts)
		checkPoints(t, pts)
		var got []string
		for _, p := range pts {
			got = append(got, p.Labels.Get(tsdb.MetricName))
		}
		if !slices.Equal(got, names) {
			t.Errorf("Parse(%q): names %q, want %q", body, got, names)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q): err %v, want *ParseError", body, err)
		}
		if pe.Line != line || (col >= 0 && pe.Col != col) || !strings.Contains(pe.Msg, msg) {
			t.Fatalf("Parse(%q): error %+v, want line %d col %d msg ~%q", body, pe, line, col, msg)
		}
	}
	none := ParseOptions{}
	f("a f=1 0\ncpu,host=a usage=\nc f=2 0", none, []string{"a_f", "c_f"}, 2, 18, "field value has unrecognized type")
	f("a f=1 0\n\n# c\nb,x=1,x=2 f=1 0\n", none, []string{"a_f"}, 4, 0, `duplicate tag key "x"`)
	f("a s=\"x\ny\" 0\nbad\n", none, []string{"a_s_info"}, 3, -1, "")
	f("a f=1 1\nb f=1 9223372036854775807\n", ParseOptions{Precision: Second}, []string{"a_f"}, 2, 7, "out of range")
	f("a f=1 99999999999999999999\n", none, nil, 1, 7, "out of range")
	f("a f=1,g=2x 0\nb f=1 0", none, []string{"b_f"}, 1, -1, "invalid float")
	f("a f=NaN 0", none, nil, 1, -1, "")
	f("a f=1 0\n"+strings.Repeat("x", 2000)+" f=1 0\nb f=1 0", ParseOptions{MaxLineBytes: 1024},
		[]string{"a_f", "b_f"}, 2, 1025, "line too long (2006 bytes, the limit is 1024)")
	f("a f=\n"+strings.Repeat("x", 2000)+" f=1 0\nb f=1 0", ParseOptions{MaxLineBytes: 1024},
		[]string{"b_f"}, 1, -1, "")
	f("a\tf=1 0", none, nil, 1, -1, "")
	f("a f=\"\xff\" 0", none, nil, 1, -1, "invalid utf-8")
}

func TestParseError_Error(t *testing.T) {
	_, err := Parse([]byte("ok f=1 0\ncpu,host=a usage=\n"), ParseOptions{})
	want := "unable to parse 'cpu,host=a usage=' (line 2, column 18): field value has unrecognized type"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	_, err = Parse([]byte("m,b=1,b=2 f=1 0\r\n"), ParseOptions{})
	want = `unable to parse 'm,b=1,b=2 f=1 0' (line 1): duplicate tag key "b"`
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	long := strings.Repeat("é", 200) + " f=1 0"
	_, err = Parse([]byte(long), ParseOptions{MaxLineBytes: 100})
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Text) > maxErrorText+3 || !strings.HasSuffix(pe.Text, "...") ||
		!strings.HasPrefix(pe.Text, "éé") || strings.ContainsRune(pe.Text, '\uFFFD') {
		t.Fatalf("long line error text %q", pe.Text)
	}
}

func TestParser_Next_Batches(t *testing.T) {
	body := "a,h=1 x=1,y=2 1000000\nb,h=2 x=3,y=4 2000000\nbad\nc,h=3 x=5,y=6 3000000\n"
	p := NewParser([]byte(body), ParseOptions{})
	var sizes []int
	var names []string
	var kept []tsdb.Label
	for {
		pts := p.Next(2)
		if pts == nil {
			break
		}
		sizes = append(sizes, len(pts))
		for _, pt := range pts {
			names = append(names, fmtPoint(pt))
		}
		if kept == nil {
			kept = slices.Clone(pts[0].Labels) // its strings must survive later batches
		}
		// A point's labels are cut to their length: appending must not
		// overwrite the next point's labels.
		if len(pts) > 1 {
			before := fmtPoint(pts[1])
			_ = append(pts[0].Labels, tsdb.Label{Name: "zz", Value: "clobber"})
			if fmtPoint(pts[1]) != before {
				t.Fatalf("append to one point's labels changed the next point")
			}
		}
	}
	if !slices.Equal(sizes, []int{2, 2, 2}) {
		t.Fatalf("batch sizes %v, want [2 2 2]", sizes)
	}
	want := []string{`a_x{h="1"} 1 1`, `a_y{h="1"} 2 1`, `b_x{h="2"} 3 2`, `b_y{h="2"} 4 2`,
		`c_x{h="3"} 5 3`, `c_y{h="3"} 6 3`}
	if !slices.Equal(names, want) {
		t.Fatalf("points %q, want %q", names, want)
	}
	if got := fmtPoint(tsdb.Point{Labels: kept, V: 1, T: 1}); got != `a_x{h="1"} 1 1` {
		t.Fatalf("first batch's strings changed: %s", got)
	}
	if parse, long := p.Rejected(); parse != 1 || long != 0 {
		t.Fatalf("Rejected() = %d, %d; want 1, 0", parse, long)
	}
	if p.Err() == nil {
		t.Fatal("Err() = nil after a bad line")
	}
}

func TestParse_BodyUnchanged(t *testing.T) {
	body := []byte("a f=1 0\n" + strings.Repeat("x", 3000) + "\nb f=1 0\n")
	orig := slices.Clone(body)
	if _, err := Parse(body, ParseOptions{MaxLineBytes: 1024}); err == nil {
		t.Fatal("want an error for the long line")
	}
	if !slices.Equal(body, orig) {
		t.Fatal("Parse modified the caller's body")
	}
}
