package graphite

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// Fuzz inputs are capped so that a run spends its time on shapes, not size.
const maxFuzzInput = 4096

// checkPoints asserts what every parsed point must satisfy.
func checkPoints(t *testing.T, line []byte, pts []tsdb.Point) {
	t.Helper()
	for _, p := range pts {
		if err := p.Labels.Validate(); err != nil {
			t.Fatalf("%q: invalid series: %v", line, err)
		}
		for _, l := range p.Labels {
			if l.Value == "" {
				t.Fatalf("%q: label %q has an empty value", line, l.Name)
			}
		}
	}
}

// FuzzParseLine feeds arbitrary lines to a parser without templates and to
// one with templates and tags: no panic, valid series or a *ParseError (or
// ErrNaN) pointing inside the line, and the cached decoder agrees with
// ParseLine. The same bytes then go through lineBuf in small reads.
//
//	go test ./collectors/graphite -run '^$' -fuzz FuzzParseLine -fuzztime 60s
func FuzzParseLine(f *testing.F) {
	f.Add([]byte("a.b.c 1 1700000000"))
	f.Add([]byte("a;k=v;;=x 1e3 -1\r"))
	plain := mustParser(f, DefaultConfig())
	cfg := DefaultConfig()
	cfg.Templates = []string{"servers.* .host.resource.measurement* region=eu", "*.localhost .host.measurement.field*", "measurement.field"}
	cfg.Tags = []string{"dc=fra"}
	templ := mustParser(f, cfg)
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > maxFuzzInput {
			return
		}
		one := line
		if i := bytes.IndexByte(one, '\n'); i >= 0 {
			one = one[:i]
		}
		for _, p := range []*Parser{plain, templ} {
			pts, err := p.ParseLine(nil, one, testNow)
			var pe *ParseError
			switch {
			case err == nil:
				checkPoints(t, one, pts)
			case errors.Is(err, ErrNaN):
			case errors.As(err, &pe):
				if pe.Col < 1 || pe.Col > len(one)+1 || pe.Msg == "" {
					t.Fatalf("%q: error %v points outside the line", one, pe)
				}
			default:
				t.Fatalf("%q: unexpected error type %T: %v", one, err, err)
			}
			d := newDecoder(p, newSeriesCache(100))
			for range 2 {
				again, err2 := d.parse(nil, one, testNow)
				if (err == nil) != (err2 == nil) || !samePoints(again, pts) {
					t.Fatalf("%q: decoder gave %v, %v; ParseLine %v, %v", one, again, err2, pts, err)
				}
			}
			_ = p.Explain(string(line), time.UnixMilli(testNow))
		}
		checkLineBuf(t, line)
	})
}

// checkLineBuf splits data with lineBuf in reads of 7 bytes and compares
// with a plain split: lines over the cap are reported, the rest delivered.
func checkLineBuf(t *testing.T, data []byte) {
	const max = 16
	lb := newLineBuf(max)
	var got [][]byte
	long := 0
	for rest := data; len(rest) > 0; {
		n := copy(lb.space()[:min(7, len(lb.space()))], rest)
		rest = rest[n:]
		lb.commit(n, func(l []byte) { got = append(got, bytes.Clone(l)) }, func() { long++ })
	}
	if h := lb.held(); len(h) > 0 {
		got = append(got, h)
	}
	var want [][]byte
	wantLong := 0
	parts := bytes.Split(data, []byte{'\n'})
	for i, l := range parts {
		last := i == len(parts)-1
		switch {
		case len(bytes.TrimSuffix(l, []byte{'\r'})) > max || (last && len(l) > max):
			wantLong++
		case last && len(l) == 0:
		default:
			want = append(want, l)
		}
	}
	if long != wantLong || len(got) != len(want) {
		t.Fatalf("%q: lineBuf gave %d lines and %d too long, want %d and %d", data, len(got), long, len(want), wantLong)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%q: line %d is %q, want %q", data, i, got[i], want[i])
		}
	}
}

// FuzzTemplate compiles arbitrary template lists (one entry a line) and
// maps arbitrary paths through them: no panic, the filter tree chooses
// what the brute-force reference chooses, and the series is valid.
//
//	go test ./collectors/graphite -run '^$' -fuzz FuzzTemplate -fuzztime 60s
func FuzzTemplate(f *testing.F) {
	f.Add("servers.* .host.measurement*", "servers.localhost.cpu")
	f.Fuzz(func(t *testing.T, templates, path string) {
		if len(templates) > maxFuzzInput || len(path) > maxFuzzInput {
			return
		}
		entries := strings.Split(templates, "\n")
		ts, err := compileTemplates(entries, []string{"dc=x"}, "_")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "graphite.templates[") {
				t.Fatalf("error %q does not name the template", err)
			}
			return
		}
		metric, _, _ := strings.Cut(path, ";")
		elems := strings.Split(metric, ".")
		if got, want := ts.match(elems), bruteMatch(ts, elems); got != want {
			t.Fatalf("templates %q, path %q: tree chose %q, reference %q", entries, path, got.text, want.text)
		}
		p := &Parser{ts: ts}
		res, err := p.resolve(path, 1, nil)
		if err == nil {
			checkPoints(t, []byte(path), []tsdb.Point{{Labels: res.labels}})
			if res.name == "" {
				t.Fatalf("empty metric name for %q", path)
			}
		}
		e := p.Explain(path, time.UnixMilli(testNow))
		if err == nil && !strings.ContainsAny(path, " \t\r\n") && (e.Series == nil || e.Series.Text != res.labels.String()) {
			t.Fatalf("explain disagrees with the mapping: %+v vs %v", e.Series, res.labels)
		}
	})
}
