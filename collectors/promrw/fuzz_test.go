package promrw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"outpost/tsdb"
)

// Run with:
//
//	go test -run '^$' -fuzz '^FuzzDecodeWriteRequest$' -fuzztime 60s ./collectors/promrw/
//	go test -run '^$' -fuzz '^FuzzImportLine$' -fuzztime 60s ./collectors/promrw/
//
// Seeds: testdata/fuzz/<target>/ (Go's corpus files) and the f.Add calls.

// maxFuzzInput caps fuzz inputs: bigger ones only slow the search down.
const maxFuzzInput = 64 << 10

// FuzzDecodeWriteRequest checks, for any decompressed body: no panic;
// checkRequest refuses exactly what the decoder refuses; a request that
// decodes survives a round trip through the tests' encoder; Normalize
// either rejects a series or gives labels the store accepts; and the
// handler's write path hands the store only valid points, as many as the
// accepted series hold.
func FuzzDecodeWriteRequest(f *testing.F) {
	now := int64(1700000000000)
	f.Add(encodeRequest(series{labels: ls("__name__", "up", "job", "a"), samples: []tsdb.Sample{{T: now, V: 1}, {T: now + 1, V: staleNaN}}}))
	f.Add(encodeRequest(series{labels: ls("b", "", "a", "x", "__name__", "m"), samples: []tsdb.Sample{{T: -1, V: math.Inf(1)}}, exemplars: 1, histograms: 1}))
	f.Add(appendBytesField(nil, fieldMetadata, []byte{0x08, 0x01}))
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		d, err := decodeAll(body)
		if cerr := checkRequest(body); (err == nil) != (cerr == nil) {
			t.Fatalf("decoder says %v, checkRequest says %v", err, cerr)
		}
		if err != nil {
			return
		}
		var ss []series
		valid := 0
		for i := range d.labels {
			ss = append(ss, series{labels: slices.Clone(d.labels[i]), samples: d.samples[i]})
			n, err := Normalize(slices.Clone(d.labels[i]))
			if err == nil {
				if verr := n.Validate(); verr != nil {
					t.Fatalf("normalized %v fails the store's check: %v", n, verr)
				}
				valid += len(d.samples[i])
			}
		}
		ss = append(ss, series{exemplars: d.exemplars, histograms: d.histograms})
		again, err := decodeAll(encodeRequest(ss...))
		if err != nil {
			t.Fatalf("re-encoded request: %v", err)
		}
		if again.exemplars != d.exemplars || again.histograms != d.histograms || len(again.labels) != len(d.labels)+1 {
			t.Fatalf("round trip changed the counts")
		}
		for i := range d.labels {
			if !slices.Equal(again.labels[i], d.labels[i]) || !sameSamples(again.samples[i], d.samples[i]) {
				t.Fatalf("series %d: %v %v became %v %v", i, d.labels[i], d.samples[i], again.labels[i], again.samples[i])
			}
		}
		written := 0
		h := New(writerFunc(func(_ context.Context, pts []tsdb.Point) error {
			for _, p := range pts {
				if err := p.Labels.Validate(); err != nil {
					return fmt.Errorf("the handler wrote invalid labels %v: %w", p.Labels, err)
				}
			}
			written += len(pts)
			return nil
		}), Config{}, Options{BatchPoints: 3})
		o := h.writeRequest(context.Background(), body)
		if o.internal != nil || written != valid || o.written != valid {
			t.Fatalf("wrote %d points (outcome %d, %v), want %d", written, o.written, o.internal, valid)
		}
	})
}

func sameSamples(a, b []tsdb.Sample) bool {
	return slices.EqualFunc(a, b, func(x, y tsdb.Sample) bool {
		return x.T == y.T && math.Float64bits(x.V) == math.Float64bits(y.V)
	})
}

// FuzzImportLine checks, for any line: no panic; a line that parses has as
// many values as timestamps; encoding/json reads it too, to the same
// labels, values and timestamps; and it survives a round trip through
// export's format.
func FuzzImportLine(f *testing.F) {
	f.Add([]byte(`{"metric":{"__name__":"m","a":"b"},"values":[1,2.5,"NaN"],"timestamps":[1700000000000,1700000010000,1]}`))
	f.Add([]byte(`{"timestamps":[-1],"values":["-Inf"],"x":[{"y":null}],"metric":{"\u00e9\ud83d\ude00":"\\\""}}`))
	f.Add([]byte(`{"metric":{},"values":[],"timestamps":[]}` + "\r"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > maxFuzzInput {
			return
		}
		var l ImportLine
		if err := ParseImportLine(line, &l); err != nil {
			return
		}
		if len(l.Values) != len(l.Timestamps) {
			t.Fatalf("%d values, %d timestamps", len(l.Values), len(l.Timestamps))
		}
		checkAgainstJSON(t, line, &l)
		out := appendLine(nil, &l)
		var again ImportLine
		if err := ParseImportLine(out, &again); err != nil {
			t.Fatalf("re-encoded %s: %v", out, err)
		}
		if !slices.Equal(again.Labels, l.Labels) || !slices.Equal(again.Timestamps, l.Timestamps) ||
			!slices.EqualFunc(again.Values, l.Values, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
			t.Fatalf("round trip of %s changed it: %s", line, out)
		}
	})
}

// checkAgainstJSON decodes line with encoding/json and compares.
func checkAgainstJSON(t *testing.T, line []byte, l *ImportLine) {
	t.Helper()
	var v struct {
		Metric     map[string]string `json:"metric"`
		Values     []any             `json:"values"`
		Timestamps []json.Number     `json:"timestamps"`
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimSuffix(line, []byte{'\r'})))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json refuses %q, which the parser took: %v", line, err)
	}
	names := make(map[string]bool)
	for _, lb := range l.Labels {
		names[lb.Name] = true
	}
	if len(names) == len(l.Labels) { // with a name twice, encoding/json keeps the last
		for _, lb := range l.Labels {
			if v.Metric[lb.Name] != lb.Value {
				t.Fatalf("label %q: %q, encoding/json says %q", lb.Name, lb.Value, v.Metric[lb.Name])
			}
		}
	}
	if len(v.Values) != len(l.Values) || len(v.Timestamps) != len(l.Timestamps) {
		t.Fatalf("encoding/json reads %d values and %d timestamps", len(v.Values), len(v.Timestamps))
	}
	for i, x := range v.Values {
		var s string
		switch x := x.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = x
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || !(want == l.Values[i] || math.IsNaN(want) && math.IsNaN(l.Values[i])) {
			t.Fatalf("values[%d]: %v, encoding/json reads %v", i, l.Values[i], x)
		}
	}
	for i, n := range v.Timestamps {
		if n.String() != strconv.FormatInt(l.Timestamps[i], 10) && n.String() != "-0" {
			t.Fatalf("timestamps[%d]: %d, encoding/json reads %s", i, l.Timestamps[i], n)
		}
	}
}

// appendLine writes l as /api/v1/export writes a line.
func appendLine(b []byte, l *ImportLine) []byte {
	b = append(b, `{"metric":{`...)
	for i, lb := range l.Labels {
		if i > 0 {
			b = append(b, ',')
		}
		n, _ := json.Marshal(lb.Name)
		v, _ := json.Marshal(lb.Value)
		b = append(append(append(b, n...), ':'), v...)
	}
	b = append(b, `},"values":[`...)
	for i, v := range l.Values {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(v):
			b = append(b, `"NaN"`...)
		case math.IsInf(v, 1):
			b = append(b, `"+Inf"`...)
		case math.IsInf(v, -1):
			b = append(b, `"-Inf"`...)
		default:
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	b = append(b, `],"timestamps":[`...)
	for i, ts := range l.Timestamps {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, ts, 10)
	}
	return append(b, "]}"...)
}
