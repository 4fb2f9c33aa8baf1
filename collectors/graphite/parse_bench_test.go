package graphite

import (
	"fmt"
	"strings"
	"testing"

	"outpost/tsdb"
)

// Reproduce with:
//
//	go test ./collectors/graphite -run '^$' -bench 'Parser|Decoder|TemplateSet' -benchmem

// benchLines returns n lines over n distinct paths, as a busy sender emits.
func benchLines(n int) [][]byte {
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = fmt.Appendf(nil, "app%02d.web%03d.cpu.user_percent %d.%d 1700000000", i%50, i%997, i%100, i%7)
	}
	return lines
}

// fiftyTemplates returns 50 filtered templates and a default one.
func fiftyTemplates() []string {
	var ts []string
	for i := range 40 {
		ts = append(ts, fmt.Sprintf("app%02d.* .host.measurement.field region=r%d", i, i%4))
	}
	for i := range 10 {
		ts = append(ts, fmt.Sprintf("*.web%03d.disk .host.measurement.device.field", i))
	}
	return append(ts, ".host.measurement*")
}

func BenchmarkParser_ParseLine(b *testing.B) {
	lines := benchLines(1000)
	withTemplates := DefaultConfig()
	withTemplates.Templates = fiftyTemplates()
	for _, bc := range []struct {
		name   string
		cfg    Config
		cached bool
	}{
		{"plain", DefaultConfig(), false},
		{"plain_cached", DefaultConfig(), true},
		{"templates50", withTemplates, false},
		{"templates50_cached", withTemplates, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := mustParser(b, bc.cfg)
			d := decoder{p: p}
			if bc.cached {
				d = *newDecoder(p, newSeriesCache(defaultCacheSize))
			}
			b.SetBytes(int64(len(lines[0])))
			b.ReportAllocs()
			dst := make([]tsdb.Point, 0, 1)
			i := 0
			for b.Loop() {
				var err error
				if dst, err = d.parse(dst[:0], lines[i%len(lines)], testNow); err != nil || len(dst) != 1 {
					b.Fatalf("%v %v", dst, err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
		})
	}
}

func BenchmarkTemplateSet_Match(b *testing.B) {
	ts, err := compileTemplates(fiftyTemplates(), nil, ".")
	if err != nil {
		b.Fatal(err)
	}
	paths := make([][]string, 0, 1000)
	for _, l := range benchLines(1000) {
		path, _, _ := strings.Cut(string(l), " ")
		paths = append(paths, strings.Split(path, "."))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if ts.match(paths[i%len(paths)]) == nil {
			b.Fatal("no template")
		}
		i++
	}
}
