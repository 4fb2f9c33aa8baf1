package collectors

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/tsdb"
)

func TestParseText(t *testing.T) {
	f := func(in string, want ...TextSample) {
		t.Helper()
		var got []TextSample
		err := ParseText([]byte(in), TextVisitor{Sample: func(s TextSample) error { got = append(got, s); return nil }})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: got %v, want %v", in, got, want)
		}
		for i := range got {
			g, w := got[i], want[i]
			same := g.Name == w.Name && g.Labels.Equal(w.Labels) && g.T == w.T && g.HasT == w.HasT &&
				(g.Value == w.Value || math.IsNaN(g.Value) && math.IsNaN(w.Value))
			if !same {
				t.Fatalf("%q: sample %d = %+v, want %+v", in, i, g, w)
			}
		}
	}
	f("")
	f("\n# just a comment\n\n")
	f("m 1", TextSample{Name: "m", Value: 1})
	f("a:b_c 1.5e3\n", TextSample{Name: "a:b_c", Value: 1500})
	f("m{} +Inf", TextSample{Name: "m", Value: math.Inf(1)})
	f("m -Inf\r\nn NaN", TextSample{Name: "m", Value: math.Inf(-1)}, TextSample{Name: "n", Value: math.NaN()})
	f(`m{a="1",b="x y"} 2 1700000000000`,
		TextSample{Name: "m", Labels: tsdb.Labels{{Name: "a", Value: "1"}, {Name: "b", Value: "x y"}}, Value: 2, T: 1700000000000, HasT: true})
	f(`m{ a = "q\"\\\n" , } 3`, TextSample{Name: "m", Labels: tsdb.Labels{{Name: "a", Value: "q\"\\\n"}}, Value: 3})
	f(`m{a="{},= "}   4  `, TextSample{Name: "m", Labels: tsdb.Labels{{Name: "a", Value: "{},= "}}, Value: 4})
}

func TestParseText_Errors(t *testing.T) {
	f := func(in string, line, col int) {
		t.Helper()
		err := ParseText([]byte(in), TextVisitor{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != line || pe.Col != col {
			t.Fatalf("%q: err %v, want a ParseError at %d:%d", in, err, line, col)
		}
	}
	f("1m 1", 1, 1)
	f("m", 1, 2)
	f("m x", 1, 4)
	f("m 0x10", 1, 7)
	f("m 1_0", 1, 6)
	f("ok 1\nm{a=1} 2", 2, 5)
	f(`m{a="1} 2`, 1, 10)
	f(`m{a="1" b="2"} 2`, 1, 9)
	f(`m{1a="1"} 2`, 1, 3)
	f("m 1 12.5", 1, 9)
	f("m 1 2 3", 1, 7)
	f("# TYPE m kind", 1, 10)
	f("# HELP 9m help", 1, 10)
}

func TestParseText_Families(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "exposition", "small.prom"))
	if err != nil {
		t.Fatal(err)
	}
	var fams []string
	samples := 0
	err = ParseText(data, TextVisitor{
		Family: func(name, typ, help string) error { fams = append(fams, name+"|"+typ+"|"+help); return nil },
		Sample: func(TextSample) error { samples++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fams, "\n")
	want := "go_goroutines||Number of goroutines that currently exist.\ngo_goroutines|gauge|\n" +
		"outpost_ingest_rejected_total||Lines turned away, by \"protocol\".\noutpost_ingest_rejected_total|counter|\n" +
		"outpost_query_request_duration_seconds||Time to answer, with a \\ and a \n.\n" +
		"outpost_query_request_duration_seconds|histogram|\nrpc|summary|"
	if got != want || samples != 9 {
		t.Fatalf("families:\n%s\nwant:\n%s\nsamples %d, want 9", got, want, samples)
	}
}

// FuzzParseText checks that no input panics the parser, and that what it
// accepts it accepts again once written back by tsdb.TextWriter.
//
//	go test -run '^$' -fuzz FuzzParseText ./collectors/
func FuzzParseText(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "exposition", "*.prom"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`m{a="\\\"\n"} NaN 1`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		var samples []TextSample
		if ParseText(in, TextVisitor{Sample: func(s TextSample) error { samples = append(samples, s); return nil }}) != nil {
			return
		}
		var b strings.Builder
		tw := tsdb.NewTextWriter(&b)
		for _, s := range samples {
			lv := make([]string, 0, 2*len(s.Labels))
			for _, l := range s.Labels {
				lv = append(lv, l.Name, l.Value)
			}
			tw.Sample(s.Name, s.Value, lv...)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := ParseText([]byte(b.String()), TextVisitor{Sample: func(s TextSample) error {
			w := samples[n]
			if s.Name != w.Name || !s.Labels.Equal(w.Labels) || s.Value != w.Value && !(math.IsNaN(s.Value) && math.IsNaN(w.Value)) {
				t.Fatalf("round trip: %+v, want %+v", s, w)
			}
			n++
			return nil
		}}); err != nil || n != len(samples) {
			t.Fatalf("round trip of %q: %v, %d of %d samples", b.String(), err, n, len(samples))
		}
	})
}

// BenchmarkParseText parses a /metrics text of outpost's size.
//
//	go test -run '^$' -bench BenchmarkParseText -benchmem ./collectors/
func BenchmarkParseText(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "exposition", "small.prom"))
	if err != nil {
		b.Fatal(err)
	}
	big := []byte(strings.Repeat(string(data), 50))
	b.SetBytes(int64(len(big)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseText(big, TextVisitor{Sample: func(TextSample) error { return nil }}); err != nil {
			b.Fatal(err)
		}
	}
}
