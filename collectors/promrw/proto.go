package promrw

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"

	"outpost/tsdb"
)

// The protobuf wire format of remote write 1.0's prometheus.WriteRequest,
// read by hand (no generated code, no protobuf runtime): tags and varints,
// 64-bit fixed values and length-delimited fields. Only these fields are
// read; every other field is skipped by its wire type, as a protobuf
// decoder skips unknown fields:
//
//	WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//	               repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }
//
// Exemplars and native histograms are counted, not decoded.

// Field numbers.
const (
	fieldTimeSeries = 1 // WriteRequest.timeseries
	fieldMetadata   = 3 // WriteRequest.metadata

	fieldLabels     = 1 // TimeSeries.labels
	fieldSamples    = 2 // TimeSeries.samples
	fieldExemplars  = 3 // TimeSeries.exemplars
	fieldHistograms = 4 // TimeSeries.histograms

	fieldLabelName  = 1 // Label.name
	fieldLabelValue = 2 // Label.value

	fieldSampleValue = 1 // Sample.value
	fieldSampleTime  = 2 // Sample.timestamp
)

// Wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// fields reads the fields of one message in turn. The field read last is
// described in place (tag, u, p), not returned: decoding is a loop over
// millions of fields, and a returned struct of this size is copied through
// memory at every call (it took half the decode time).
type fields struct {
	b   []byte
	off int    // where the next field starts
	at  int    // where the current field starts
	tag uint64 // field number << 3 | wire type
	u   uint64 // the value of a varint or fixed field
	p   []byte // the payload of a length-delimited field
	err error  // why next stopped early
}

// num is the current field's number.
func (fs *fields) num() uint64 { return fs.tag >> 3 }

// typ is the current field's wire type.
func (fs *fields) typ() uint64 { return fs.tag & 7 }

// next reads the next field, and reports false at the end of the message
// or at a malformed field (then err says what). Groups (wire types 3 and
// 4, deprecated and never used by remote write) and unknown wire types
// are errors.
func (fs *fields) next() bool {
	b, off := fs.b, fs.off
	if off >= len(b) || fs.err != nil {
		return false
	}
	fs.at = off
	tag, n := uvarint(b, off)
	if n <= 0 {
		fs.err = fmt.Errorf("bad field tag at byte %d", off)
		return false
	}
	off += n
	fs.tag = tag
	if tag>>3 == 0 {
		fs.err = fmt.Errorf("field number 0 at byte %d", fs.at)
		return false
	}
	switch tag & 7 {
	case wireBytes:
		l, n := uvarint(b, off)
		if n <= 0 {
			fs.err = fmt.Errorf("bad length of field %d at byte %d", tag>>3, off)
			return false
		}
		off += n
		if l > uint64(len(b)-off) {
			fs.err = fmt.Errorf("field %d at byte %d: length %d runs past the end of its message (%d bytes left)",
				tag>>3, fs.at, l, len(b)-off)
			return false
		}
		fs.p = b[off : off+int(l)]
		off += int(l)
	case wireVarint:
		fs.u, n = uvarint(b, off)
		if n <= 0 {
			fs.err = fmt.Errorf("bad varint of field %d at byte %d", tag>>3, off)
			return false
		}
		off += n
	case wireFixed64:
		if len(b)-off < 8 {
			fs.err = fmt.Errorf("truncated 64-bit value of field %d at byte %d", tag>>3, off)
			return false
		}
		fs.u = binary.LittleEndian.Uint64(b[off:])
		off += 8
	case wireFixed32:
		if len(b)-off < 4 {
			fs.err = fmt.Errorf("truncated 32-bit value of field %d at byte %d", tag>>3, off)
			return false
		}
		fs.u = uint64(binary.LittleEndian.Uint32(b[off:]))
		off += 4
	default:
		fs.err = fmt.Errorf("field %d at byte %d: unsupported wire type %d", tag>>3, fs.at, tag&7)
		return false
	}
	fs.off = off
	return true
}

// uvarint reads the varint at b[off:], with a fast path for one byte (every
// tag and most lengths of remote write), as binary.Uvarint otherwise.
func uvarint(b []byte, off int) (uint64, int) {
	if off < len(b) && b[off] < 0x80 {
		return uint64(b[off]), 1
	}
	if off >= len(b) {
		return 0, 0
	}
	return binary.Uvarint(b[off:])
}

// Request walks the time series of one decoded (uncompressed) WriteRequest
// without copying it. The byte slice it reads must not change while the
// Request or anything it returned is in use: label strings point into it.
type Request struct {
	fs   fields
	n    int // time series returned so far
	meta int // metadata entries passed over
	err  error
}

// NewRequest returns a Request over b, a serialized WriteRequest.
func NewRequest(b []byte) *Request { return &Request{fs: fields{b: b}} }

// Next returns the next time series, or false at the end of the request
// or at a malformed field (then Err tells what).
func (r *Request) Next() (TimeSeries, bool) {
	for r.err == nil {
		if !r.fs.next() {
			if r.fs.err != nil {
				r.err = fmt.Errorf("write request: %w", r.fs.err)
			}
			break
		}
		switch {
		case r.fs.num() == fieldTimeSeries && r.fs.typ() == wireBytes:
			r.n++
			return TimeSeries{Index: r.n - 1, b: r.fs.p}, true
		case r.fs.num() == fieldTimeSeries:
			r.err = fmt.Errorf("write request: field timeseries at byte %d has wire type %d, not length-delimited", r.fs.at, r.fs.typ())
		case r.fs.num() == fieldMetadata:
			r.meta++
		}
	}
	return TimeSeries{}, false
}

// Err returns the error that stopped Next, or nil.
func (r *Request) Err() error { return r.err }

// Metadata returns how many metadata entries (metric types and help
// texts, which outpost does not keep) Next passed over.
func (r *Request) Metadata() int { return r.meta }

// TimeSeries is one serialized TimeSeries of a WriteRequest.
type TimeSeries struct {
	// Index is the 0-based position of the series in its request, for
	// error messages.
	Index int
	b     []byte
}

// Labels appends the series' labels to dst as sent (in their order, empty
// values and all; see Normalize) and returns dst. Label strings point into
// the request's bytes. raw is the span of the request holding the label
// fields when they are contiguous (as every sender writes them), else nil:
// equal raw spans always mean equal label sets, which makes raw a series
// key (tsdb.Point.Key).
func (ts TimeSeries) Labels(dst tsdb.Labels) (_ tsdb.Labels, raw []byte, err error) {
	start, end, contiguous := -1, 0, true
	fs := fields{b: ts.b}
	for fs.next() {
		if fs.num() != fieldLabels {
			continue // a label field after this one no longer starts at end
		}
		if fs.typ() != wireBytes {
			return dst, nil, fmt.Errorf("field labels at byte %d has wire type %d, not length-delimited", fs.at, fs.typ())
		}
		l, err := readLabel(fs.p)
		if err != nil {
			return dst, nil, fmt.Errorf("label %d: %w", len(dst), err)
		}
		dst = append(dst, l)
		switch {
		case start < 0:
			start = fs.at
		case end != fs.at:
			contiguous = false
		}
		end = fs.off
	}
	if fs.err != nil {
		return dst, nil, fs.err
	}
	if start < 0 || !contiguous {
		return dst, nil, nil
	}
	return dst, ts.b[start:end], nil
}

// readLabel decodes one Label message. Strings must be valid UTF-8, as
// proto3 requires of string fields.
func readLabel(b []byte) (tsdb.Label, error) {
	var l tsdb.Label
	fs := fields{b: b}
	for fs.next() {
		var dst *string
		var what string
		switch fs.num() {
		case fieldLabelName:
			dst, what = &l.Name, "name"
		case fieldLabelValue:
			dst, what = &l.Value, "value"
		default:
			continue
		}
		if fs.typ() != wireBytes {
			return l, fmt.Errorf("field %s has wire type %d, not length-delimited", what, fs.typ())
		}
		if !utf8.Valid(fs.p) {
			return l, fmt.Errorf("field %s is not valid UTF-8: %q", what, fs.p)
		}
		*dst = bytesString(fs.p)
	}
	return l, fs.err
}

// Samples calls fn for each sample of the series in the order sent, until
// fn returns false, and counts the exemplars and native histograms it
// passes over. A value is kept bit for bit: a staleness marker (NaN with
// payload 0x7ff0000000000002) stays one.
func (ts TimeSeries) Samples(fn func(t int64, v float64) bool) (exemplars, histograms int, err error) {
	fs := fields{b: ts.b}
	for fs.next() {
		switch fs.num() {
		case fieldSamples:
			if fs.typ() != wireBytes {
				return exemplars, histograms, fmt.Errorf("field samples at byte %d has wire type %d, not length-delimited", fs.at, fs.typ())
			}
			t, v, err := readSample(fs.p)
			if err != nil {
				return exemplars, histograms, fmt.Errorf("sample at byte %d: %w", fs.at, err)
			}
			if !fn(t, v) {
				return exemplars, histograms, nil
			}
		case fieldExemplars:
			exemplars++
		case fieldHistograms:
			histograms++
		}
	}
	return exemplars, histograms, fs.err
}

// readSample decodes one Sample message; a missing field is 0, as in
// proto3, and the last of a repeated one wins.
func readSample(b []byte) (t int64, v float64, err error) {
	fs := fields{b: b}
	for fs.next() {
		switch {
		case fs.num() == fieldSampleValue && fs.typ() == wireFixed64:
			v = math.Float64frombits(fs.u)
		case fs.num() == fieldSampleTime && fs.typ() == wireVarint:
			t = int64(fs.u)
		case fs.num() == fieldSampleValue:
			return 0, 0, fmt.Errorf("field value has wire type %d, not 64-bit", fs.typ())
		case fs.num() == fieldSampleTime:
			return 0, 0, fmt.Errorf("field timestamp has wire type %d, not varint", fs.typ())
		}
	}
	return t, v, fs.err
}

// bytesString returns b as a string without copying it. The string is
// valid as long as b's bytes do not change: the handler keeps a request's
// buffer untouched until every Write of the request has returned, and the
// Writer keeps none of the strings it is handed (collectors.Writer).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
