package promrw

import (
	"encoding/binary"
	"math"

	"outpost/tsdb"
)

// The encoder of remote write 1.0's WriteRequest, the other half of
// proto.go. A WriteRequest is its timeseries fields one after another, and
// protobuf reads repeated fields written apart as one list: so a queue
// record holds a run of encoded timeseries fields, and the records of one
// send are concatenated as they are into the request, with no re-encoding.

// encTag appends a field's tag.
func encTag(b []byte, num, typ uint64) []byte { return binary.AppendUvarint(b, num<<3|typ) }

// encString appends a length-delimited field.
func encString(b []byte, num uint64, p string) []byte {
	b = encTag(b, num, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// labelLen is the encoded size of a Label message (without its tag and
// length).
func labelLen(l tsdb.Label) int {
	n := 0
	if l.Name != "" {
		n += 1 + uvarintLen(uint64(len(l.Name))) + len(l.Name)
	}
	if l.Value != "" {
		n += 1 + uvarintLen(uint64(len(l.Value))) + len(l.Value)
	}
	return n
}

// sampleLen is the encoded size of a Sample message.
func sampleLen(t int64) int {
	n := 1 + 8 // value, always written: a 0 is a sample too
	if t != 0 {
		n += 1 + uvarintLen(uint64(t))
	}
	return n
}

// uvarintLen is the length of v as a varint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendTimeSeries appends one WriteRequest.timeseries field holding ls
// and samples (in the order given) to b and returns it.
func appendTimeSeries(b []byte, ls tsdb.Labels, samples []tsdb.Sample) []byte {
	size := 0
	for _, l := range ls {
		n := labelLen(l)
		size += 1 + uvarintLen(uint64(n)) + n
	}
	for _, s := range samples {
		n := sampleLen(s.T)
		size += 1 + uvarintLen(uint64(n)) + n
	}
	b = encTag(b, fieldTimeSeries, wireBytes)
	b = binary.AppendUvarint(b, uint64(size))
	for _, l := range ls {
		b = encTag(b, fieldLabels, wireBytes)
		b = binary.AppendUvarint(b, uint64(labelLen(l)))
		if l.Name != "" {
			b = encString(b, fieldLabelName, l.Name)
		}
		if l.Value != "" {
			b = encString(b, fieldLabelValue, l.Value)
		}
	}
	for _, s := range samples {
		b = encTag(b, fieldSamples, wireBytes)
		b = binary.AppendUvarint(b, uint64(sampleLen(s.T)))
		b = encTag(b, fieldSampleValue, wireFixed64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.V))
		if s.T != 0 {
			b = encTag(b, fieldSampleTime, wireVarint)
			b = binary.AppendUvarint(b, uint64(s.T))
		}
	}
	return b
}
