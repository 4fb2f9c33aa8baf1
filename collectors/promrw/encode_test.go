package promrw

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/golang/snappy"

	"outpost/tsdb"
)

// The tests' own protobuf encoder of remote write 1.0 messages, written
// from the wire format (tags, varints, fixed64, length-delimited fields)
// as the protobuf encoding guide describes it.

func appendTag(b []byte, num, typ uint64) []byte { return binary.AppendUvarint(b, num<<3|typ) }

func appendVarintField(b []byte, num, v uint64) []byte {
	return binary.AppendUvarint(appendTag(b, num, wireVarint), v)
}

func appendFixed64Field(b []byte, num, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(appendTag(b, num, wireFixed64), v)
}

func appendBytesField(b []byte, num uint64, p []byte) []byte {
	b = binary.AppendUvarint(appendTag(b, num, wireBytes), uint64(len(p)))
	return append(b, p...)
}

// series is one TimeSeries to encode.
type series struct {
	labels     []tsdb.Label // as sent: any order, duplicates allowed
	samples    []tsdb.Sample
	exemplars  int
	histograms int
}

// encodeLabel encodes a Label message.
func encodeLabel(l tsdb.Label) []byte {
	var m []byte
	m = appendBytesField(m, fieldLabelName, []byte(l.Name))
	return appendBytesField(m, fieldLabelValue, []byte(l.Value))
}

// encodeSample encodes a Sample message.
func encodeSample(s tsdb.Sample) []byte {
	var m []byte
	m = appendFixed64Field(m, fieldSampleValue, math.Float64bits(s.V))
	return appendVarintField(m, fieldSampleTime, uint64(s.T))
}

// encodeSeries encodes a TimeSeries message: labels first, as Prometheus
// writes them, then samples, exemplars and histograms.
func encodeSeries(s series) []byte {
	var m []byte
	for _, l := range s.labels {
		m = appendBytesField(m, fieldLabels, encodeLabel(l))
	}
	for _, smp := range s.samples {
		m = appendBytesField(m, fieldSamples, encodeSample(smp))
	}
	for range s.exemplars {
		ex := appendBytesField(nil, 1, encodeLabel(tsdb.Label{Name: "trace_id", Value: "abc"}))
		ex = appendFixed64Field(ex, 2, math.Float64bits(1))
		m = appendBytesField(m, fieldExemplars, appendVarintField(ex, 3, 1))
	}
	for range s.histograms {
		h := appendVarintField(nil, 1, 3)                 // count_int
		h = appendFixed64Field(h, 3, math.Float64bits(2)) // sum
		m = appendBytesField(m, fieldHistograms, appendVarintField(h, 15, 1700000000000))
	}
	return m
}

// encodeRequest encodes a WriteRequest of the series.
func encodeRequest(ss ...series) []byte {
	var b []byte
	for _, s := range ss {
		b = appendBytesField(b, fieldTimeSeries, encodeSeries(s))
	}
	return b
}

// compress is the body a sender posts: snappy's block format.
func compress(b []byte) []byte { return snappy.Encode(nil, b) }

// ls builds labels as sent, in the given order.
func ls(nv ...string) []tsdb.Label {
	out := make([]tsdb.Label, 0, len(nv)/2)
	for i := 0; i+1 < len(nv); i += 2 {
		out = append(out, tsdb.Label{Name: nv[i], Value: nv[i+1]})
	}
	return out
}

// staleNaN is Prometheus' staleness marker.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

func TestEncoder_RoundTrip(t *testing.T) {
	req := encodeRequest(series{labels: ls("__name__", "up", "job", "a"), samples: []tsdb.Sample{{T: 5, V: staleNaN}}})
	r := NewRequest(req)
	ts, ok := r.Next()
	if !ok {
		t.Fatalf("no series: %v", r.Err())
	}
	got, _, err := ts.Labels(nil)
	if err != nil || len(got) != 2 || got[1].Value != "a" {
		t.Fatalf("labels %v, %v", got, err)
	}
	var bits uint64
	if _, _, err := ts.Samples(func(_ int64, v float64) bool { bits = math.Float64bits(v); return true }); err != nil || bits != 0x7ff0000000000002 {
		t.Fatalf("sample bits %#x, %v", bits, err)
	}
}
