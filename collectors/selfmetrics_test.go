package collectors

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/tsdb"
)

// testStats returns two protocols' counters with known values.
func testStats() (*Stats, *Stats) {
	g := NewStats("graphite")
	g.Samples.Add(123)
	g.Bytes.Add(4096)
	g.Connections.Add(3)
	g.Reject("lines", "parse", 4)
	g.Reject("samples", "nan", 48)
	g.Reject("lines", "parse", 1)
	c := NewStats(`col"lect\d`)
	c.Samples.Add(7)
	return g, c
}

func TestWriteMetrics_Golden(t *testing.T) {
	g, c := testStats()
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, g, c); err != nil {
		t.Fatal(err)
	}
	want := `# HELP outpost_ingest_samples_total Samples written to the store, by protocol.
# TYPE outpost_ingest_samples_total counter
outpost_ingest_samples_total{protocol="graphite"} 123
outpost_ingest_samples_total{protocol="col\"lect\\d"} 7
# HELP outpost_ingest_rejected_total Lines, samples, packets or connections turned away, by protocol, kind (what) and reason.
# TYPE outpost_ingest_rejected_total counter
outpost_ingest_rejected_total{protocol="graphite",what="lines",reason="parse"} 5
outpost_ingest_rejected_total{protocol="graphite",what="samples",reason="nan"} 48
# HELP outpost_ingest_bytes_total Payload bytes received, by protocol.
# TYPE outpost_ingest_bytes_total counter
outpost_ingest_bytes_total{protocol="graphite"} 4096
outpost_ingest_bytes_total{protocol="col\"lect\\d"} 0
# HELP outpost_ingest_connections_total Connections (TCP) or datagrams (UDP) accepted, by protocol.
# TYPE outpost_ingest_connections_total counter
outpost_ingest_connections_total{protocol="graphite"} 3
outpost_ingest_connections_total{protocol="col\"lect\\d"} 0
`
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// expoSample is one sample line of the text format, parsed back.
type expoSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition is a small parser of the text format: it checks that
// every sample follows its family's # HELP and # TYPE lines.
func parseExposition(t *testing.T, text string) []expoSample {
	t.Helper()
	typed := map[string]bool{}
	var out []expoSample
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			typed[name] = typ == "counter"
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		if open < 0 || end < open {
			t.Fatalf("line %d: %q is not name{labels} value", i+1, line)
		}
		s := expoSample{name: line[:open], labels: map[string]string{}}
		if !typed[s.name] {
			t.Fatalf("line %d: %s has no # TYPE counter before it", i+1, s.name)
		}
		for rest := line[open+1 : end]; rest != ""; {
			k, r, _ := strings.Cut(rest, "=")
			v, tail, err := unquotePrefix(r)
			if err != nil {
				t.Fatalf("line %d: label %s: %v", i+1, k, err)
			}
			s.labels[k] = v
			rest = strings.TrimPrefix(tail, ",")
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			t.Fatalf("line %d: value: %v", i+1, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// unquotePrefix reads one quoted label value at the start of s.
func unquotePrefix(s string) (string, string, error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, s[i+1:], err
		}
	}
	return "", "", errors.New("unterminated value")
}

func TestWriteMetrics_ParsesBack(t *testing.T) {
	g, c := testStats()
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, g, c); err != nil {
		t.Fatal(err)
	}
	got := parseExposition(t, buf.String())
	find := func(name string, labels map[string]string) float64 {
		t.Helper()
		for _, s := range got {
			if s.name == name && len(s.labels) == len(labels) {
				match := true
				for k, v := range labels {
					match = match && s.labels[k] == v
				}
				if match {
					return s.value
				}
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	if v := find(MetricRejected, map[string]string{"protocol": "graphite", "what": "samples", "reason": "nan"}); v != 48 {
		t.Fatalf("nan rejections = %v", v)
	}
	if v := find(MetricSamples, map[string]string{"protocol": `col"lect\d`}); v != 7 {
		t.Fatalf("escaped protocol samples = %v", v)
	}
	if len(got) != 8 {
		t.Fatalf("%d samples, want 8", len(got))
	}
}

func TestWriteMetrics_NoStats(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMetrics(&buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "# TYPE "); n != 4 || len(parseExposition(t, buf.String())) != 0 {
		t.Fatalf("got %q", buf.String())
	}
}

// statsRecorder stands for a Writer (the store) and records what it is given.
type statsRecorder struct {
	mu    sync.Mutex
	calls [][]tsdb.Point
	err   error
}

func (r *statsRecorder) Write(ctx context.Context, pts []tsdb.Point) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := make([]tsdb.Point, len(pts))
	for i, p := range pts {
		cp[i] = tsdb.Point{Labels: p.Labels.Copy(), T: p.T, V: p.V}
	}
	r.calls = append(r.calls, cp)
	return r.err
}

func (r *statsRecorder) writes() [][]tsdb.Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]tsdb.Point(nil), r.calls...)
}

func TestSelfMetrics_Points(t *testing.T) {
	g, c := testStats()
	render := func(w io.Writer) error { return WriteMetrics(w, g, c) }
	m := NewSelfMetrics(&statsRecorder{}, render, SelfMetricsOptions{Labels: tsdb.FromStrings("host", "bastion")})
	at := time.UnixMilli(1_700_000_000_000)
	pts, err := m.Points(at)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 8 {
		t.Fatalf("%d points, want 8", len(pts))
	}
	want := tsdb.FromStrings(tsdb.MetricName, MetricRejected, "host", "bastion", "protocol", "graphite", "what", "lines", "reason", "parse")
	found := false
	for _, p := range pts {
		if err := p.Labels.Validate(); err != nil {
			t.Fatalf("invalid labels: %v", err)
		}
		if p.T != at.UnixMilli() {
			t.Fatalf("T = %d", p.T)
		}
		if p.Labels.Equal(want) {
			found = p.V == 5
		}
	}
	if !found {
		t.Fatalf("no %v = 5 in %v", want, pts)
	}
}

func TestSelfMetrics_Run(t *testing.T) {
	g, _ := testStats()
	rec := &statsRecorder{err: errors.New("store down")}
	var ticks int64
	now := func() time.Time { ticks++; return time.UnixMilli(1_000 * ticks) }
	m := NewSelfMetrics(rec, func(w io.Writer) error { return WriteMetrics(w, g) },
		SelfMetricsOptions{Interval: 10 * time.Millisecond, Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.writes()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	ws := rec.writes()
	if len(ws) < 3 {
		t.Fatalf("%d writes, want at least 3 (a failing write must not stop the loop)", len(ws))
	}
	if ws[0][0].T != 1000 || ws[1][0].T != 2000 || ws[0][0].Labels.Get(tsdb.MetricName) != MetricSamples || ws[0][0].V != 123 {
		t.Fatalf("first writes: %v / %v", ws[0], ws[1])
	}
	if NewSelfMetrics(rec, nil, SelfMetricsOptions{}).opts.Interval != DefaultSelfMetricsInterval {
		t.Fatalf("default interval not applied")
	}
}

// TestSelfMetrics_Points_PastMaxSeries writes the statistics to a real
// store whose storage.max_series senders have filled: the rejection
// counters are still stored, as they must be to show the refusals.
func TestSelfMetrics_Points_PastMaxSeries(t *testing.T) {
	for _, f := range families {
		if !strings.HasPrefix(f.name, tsdb.SelfSeriesPrefix) {
			t.Fatalf("%s does not start with %s: the store would refuse it at storage.max_series", f.name, tsdb.SelfSeriesPrefix)
		}
	}
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	cfg.MaxSeries = 2
	db, err := tsdb.Open(cfg, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	user := func(host string) tsdb.Point {
		return tsdb.Point{Labels: tsdb.FromStrings(tsdb.MetricName, "cpu", "host", host), T: now.UnixMilli(), V: 1}
	}
	if err := db.Write(t.Context(), []tsdb.Point{user("a"), user("b")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), []tsdb.Point{user("c")}); !errors.Is(err, tsdb.ErrTooManySeries) {
		t.Fatalf("a third sender series: %v, want ErrTooManySeries", err)
	}
	g := NewStats("influx")
	g.Reject("samples", "too_many_series", 1)
	m := NewSelfMetrics(db, func(w io.Writer) error { return WriteMetrics(w, g) }, SelfMetricsOptions{})
	pts, err := m.Points(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), pts); err != nil {
		t.Fatalf("writing the %d statistics series at storage.max_series: %v", len(pts), err)
	}
}
