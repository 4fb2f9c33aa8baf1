package influx

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"outpost/tsdb"
)

// Run with:
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s ./collectors/influx/

// maxFuzzBody caps fuzz inputs: bigger ones only slow the search down.
const maxFuzzBody = 64 << 10

var fuzzPrecisions = []Precision{Nanosecond, Microsecond, Millisecond, Second, Minute, Hour}

// FuzzParse checks, for any body: no panic; every point has valid, sorted,
// unique labels with a metric name; parsing twice, or in small batches,
// gives the same points; and the points survive a round trip through
// line protocol (encode each as name,labels v=value ts in ms, parse again).
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.lp"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "telegraf", uint8(0), false)
	}
	f.Add([]byte("m,a=1 s=\"x\" -1"), "", uint8(3), true)
	f.Fuzz(func(t *testing.T, body []byte, db string, prec uint8, limit bool) {
		if len(body) > maxFuzzBody {
			return
		}
		opts := ParseOptions{DB: db, Precision: fuzzPrecisions[int(prec)%len(fuzzPrecisions)],
			Now: time.Unix(1700000000, 0)}
		if limit {
			opts.MaxLineBytes = 64
		}
		pts, err := Parse(body, opts)
		first := formatAll(pts)
		for _, p := range pts {
			if verr := p.Labels.Validate(); verr != nil {
				t.Fatalf("invalid labels %v: %v", p.Labels, verr)
			}
		}
		again, err2 := Parse(body, opts)
		if !slices.Equal(formatAll(again), first) || (err == nil) != (err2 == nil) {
			t.Fatalf("second parse differs")
		}
		p := NewParser(body, opts)
		var batched []string
		for b := p.Next(3); b != nil; b = p.Next(3) {
			batched = append(batched, formatAll(b)...)
		}
		if !slices.Equal(batched, first) {
			t.Fatalf("batched parse differs:\n%q\n%q", batched, first)
		}
		if err == nil { // streamed window by window, as the handler reads bodies
			maxLine, longest := len(body)+1, 0
			if limit {
				maxLine = 64
			}
			for i := 0; i < len(body); {
				j := entryEnd(body, i)
				longest, i = max(longest, j-i), j
			}
			s := parseStream(body, maxLine, max(300, 2*maxLine, longest+1), iotest.OneByteReader, opts)
			if !slices.Equal(s.points, first) || s.err != nil {
				t.Fatalf("streamed parse differs (err %v):\n%q\n%q", s.err, s.points, first)
			}
		}
		roundTrip(t, pts)
	})
}

// formatAll formats points with fmtPoint.
func formatAll(pts []tsdb.Point) []string {
	out := make([]string, len(pts))
	for i, p := range pts {
		out[i] = fmtPoint(p)
	}
	return out
}

// roundTrip encodes each point the encoder can represent as line protocol
// (measurement = metric name, tags = labels, field v, ms timestamp) and
// checks that parsing it gives back the point, named name_v.
func roundTrip(t *testing.T, pts []tsdb.Point) {
	t.Helper()
	for _, p := range pts {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		var enc lineprotocol.Encoder
		enc.SetPrecision(lineprotocol.Millisecond)
		enc.StartLine(p.Labels.Get(tsdb.MetricName))
		for _, l := range p.Labels {
			if l.Name != tsdb.MetricName {
				enc.AddTag(l.Name, l.Value)
			}
		}
		v, _ := lineprotocol.FloatValue(p.V)
		enc.AddField("v", v)
		enc.EndLine(time.UnixMilli(p.T))
		if enc.Err() != nil {
			continue // e.g. a label the encoder cannot write (control characters)
		}
		back, err := Parse(enc.Bytes(), ParseOptions{Precision: Millisecond})
		if err != nil || len(back) != 1 {
			t.Fatalf("round trip of %s: %q gives %v, %v", fmtPoint(p), enc.Bytes(), back, err)
		}
		want := p
		want.Labels = slices.Clone(p.Labels)
		for i := range want.Labels {
			if want.Labels[i].Name == tsdb.MetricName {
				want.Labels[i].Value += "_v"
			}
		}
		if got := fmtPoint(back[0]); got != fmtPoint(want) {
			t.Fatalf("round trip of %s: %q gives %s", fmtPoint(p), enc.Bytes(), got)
		}
	}
}

func TestParse_Seeds(t *testing.T) {
	parse := func(name string) ([]string, error) {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		pts, perr := Parse(b, ParseOptions{DB: "t", Now: testNow})
		checkPoints(t, pts)
		roundTrip(t, pts)
		return formatAll(pts), perr
	}
	for _, name := range []string{"telegraf-like.lp", "edge.lp"} {
		if got, err := parse(name); err != nil || len(got) < 10 {
			t.Errorf("%s: %d points, err %v", name, len(got), err)
		}
	}
	got, err := parse("errors.lp")
	if err == nil || !slices.Equal(got, []string{`good_f{db="t"} 1 0`}) {
		t.Errorf("errors.lp: %q, err %v", got, err)
	}
	edge, _ := parse("edge.lp")
	for _, want := range []string{
		`weather station,north_temperature{db="t",site name="Lake = Geneva",zone="a,b"} -0.35 -1700000000000`,
		`weather station,north_note_info{db="t",site name="Lake = Geneva",value="line one\nline \"two\" \\ end",zone="a,b"} 1 -1700000000000`,
		`m_s_info{db="own"} 1 0`, `m_n{db="own",value="tag"} 1000 0`,
		`unicode_text_info{db="t",value="schnee ❄",ville="Zürich",雪="❄"} 1 1700000000123`,
		`big_j{db="t"} -9.223372036854776e+18 0`, `crlf2_f{db="t"} 2 0`,
	} {
		if !slices.Contains(edge, want) {
			t.Errorf("edge.lp: missing %s in %q", want, edge)
		}
	}
}
