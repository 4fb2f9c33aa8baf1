package promrw

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"outpost/tsdb"
)

// decoded is a whole request as Request and TimeSeries read it.
type decoded struct {
	labels     []tsdb.Labels
	samples    [][]tsdb.Sample
	raw        [][]byte
	exemplars  int
	histograms int
	metadata   int
}

func decodeAll(b []byte) (decoded, error) {
	var d decoded
	r := NewRequest(b)
	for ts, ok := r.Next(); ok; ts, ok = r.Next() {
		l, raw, err := ts.Labels(nil)
		if err != nil {
			return d, err
		}
		var smp []tsdb.Sample
		ex, h, err := ts.Samples(func(t int64, v float64) bool { smp = append(smp, tsdb.Sample{T: t, V: v}); return true })
		if err != nil {
			return d, err
		}
		d.labels, d.samples, d.raw = append(d.labels, l), append(d.samples, smp), append(d.raw, raw)
		d.exemplars += ex
		d.histograms += h
	}
	d.metadata = r.Metadata()
	return d, r.Err()
}

func TestRequest_Decode(t *testing.T) {
	in := []series{
		{labels: ls("__name__", "up", "job", "node", "instance", "h:9100"),
			samples: []tsdb.Sample{{T: 1700000000000, V: 1}, {T: 1700000015000, V: staleNaN}, {T: -5, V: math.Inf(-1)}}},
		{labels: ls("__name__", "métrique", "ünïcode", "✓"), samples: []tsdb.Sample{{T: 0, V: -0.0}}, exemplars: 2, histograms: 1},
		{labels: ls("__name__", "no_samples")},
	}
	req := encodeRequest(in...)
	// Metadata and fields of no known number, at every level: passed over.
	req = appendBytesField(req, fieldMetadata, appendVarintField(nil, 1, 1))
	req = appendVarintField(req, 99, 7)
	req = appendFixed64Field(req, 98, 7)
	req = append(appendTag(req, 97, wireFixed32), 1, 2, 3, 4)
	d, err := decodeAll(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.labels) != 3 || d.exemplars != 2 || d.histograms != 1 || d.metadata != 1 {
		t.Fatalf("decoded %d series, %d exemplars, %d histograms, %d metadata", len(d.labels), d.exemplars, d.histograms, d.metadata)
	}
	for i, s := range in {
		if !slices.Equal(d.labels[i], tsdb.Labels(s.labels)) {
			t.Errorf("series %d labels %v, want %v", i, d.labels[i], s.labels)
		}
		if len(d.samples[i]) != len(s.samples) {
			t.Fatalf("series %d: %d samples, want %d", i, len(d.samples[i]), len(s.samples))
		}
		for j, smp := range s.samples {
			got := d.samples[i][j]
			if got.T != smp.T || math.Float64bits(got.V) != math.Float64bits(smp.V) {
				t.Errorf("series %d sample %d: %d %#x, want %d %#x", i, j, got.T, math.Float64bits(got.V), smp.T, math.Float64bits(smp.V))
			}
		}
		if want := bytes.Join(slices.Collect(func(yield func([]byte) bool) {
			for _, l := range s.labels {
				if !yield(appendBytesField(nil, fieldLabels, encodeLabel(l))) {
					return
				}
			}
		}), nil); !bytes.Equal(d.raw[i], want) {
			t.Errorf("series %d raw key %x, want %x", i, d.raw[i], want)
		}
	}
}

func TestTimeSeries_Defaults(t *testing.T) {
	// Proto3: a missing field is its zero value; a repeated scalar's last
	// occurrence wins; unknown fields inside Label and Sample are skipped.
	smp := appendVarintField(nil, fieldSampleTime, 1)
	smp = appendVarintField(smp, 9, 1)
	smp = appendVarintField(smp, fieldSampleTime, 42)
	lbl := appendBytesField(nil, fieldLabelName, []byte("__name__"))
	lbl = appendBytesField(lbl, 7, []byte("ignored"))
	lbl = appendBytesField(lbl, fieldLabelValue, []byte("m"))
	var ts []byte
	ts = appendBytesField(ts, fieldSamples, smp)
	ts = appendBytesField(ts, fieldLabels, lbl)
	ts = appendBytesField(ts, fieldSamples, nil) // an empty sample: t=0, v=0
	ts = appendBytesField(ts, fieldLabels, encodeLabel(tsdb.Label{Name: "a", Value: "b"}))
	d, err := decodeAll(appendBytesField(nil, fieldTimeSeries, ts))
	if err != nil {
		t.Fatal(err)
	}
	want := []tsdb.Sample{{T: 42, V: 0}, {T: 0, V: 0}}
	if !slices.Equal(d.samples[0], want) || d.labels[0].String() != `m{a="b"}` {
		t.Fatalf("got %v %v, want %v m{a=\"b\"}", d.samples[0], d.labels[0], want)
	}
	if d.raw[0] != nil {
		t.Errorf("labels interleaved with samples gave a raw key %x, want none", d.raw[0])
	}
}

func TestRequest_Malformed(t *testing.T) {
	good := encodeSeries(series{labels: ls("__name__", "m"), samples: []tsdb.Sample{{T: 1, V: 1}}})
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"truncated tag", []byte{0x80}, "bad field tag at byte 0"},
		{"field number 0", []byte{0x02, 0x00}, "field number 0"},
		{"length past the end", []byte{0x0a, 0x05, 0x01}, "length 5 runs past the end"},
		{"truncated varint", appendTag(nil, 5, wireVarint), "bad varint of field 5"},
		{"truncated fixed64", append(appendTag(nil, 5, wireFixed64), 1, 2), "truncated 64-bit value"},
		{"group", appendTag(nil, 5, 3), "unsupported wire type 3"},
		{"timeseries as varint", appendVarintField(nil, fieldTimeSeries, 1), "field timeseries at byte 0 has wire type 0"},
		{"label as varint", appendBytesField(nil, fieldTimeSeries, appendVarintField(nil, fieldLabels, 1)), "field labels at byte 0 has wire type 0"},
		{"label name not UTF-8", appendBytesField(nil, fieldTimeSeries,
			appendBytesField(nil, fieldLabels, appendBytesField(nil, fieldLabelName, []byte{0xff}))), `label 0: field name is not valid UTF-8: "\xff"`},
		{"sample value as varint", appendBytesField(nil, fieldTimeSeries,
			appendBytesField(nil, fieldSamples, appendVarintField(nil, fieldSampleValue, 1))), "field value has wire type 0, not 64-bit"},
		{"sample time as fixed64", appendBytesField(nil, fieldTimeSeries,
			appendBytesField(nil, fieldSamples, appendFixed64Field(nil, fieldSampleTime, 1))), "field timestamp has wire type 1, not varint"},
		{"second series cut", append(appendBytesField(nil, fieldTimeSeries, good), 0x0a, 0x7f), "write request: field 1 at byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if err := checkRequest(tc.body); err == nil {
				t.Fatalf("checkRequest passed a malformed request")
			}
		})
	}
}
