package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// WAL record types. A series record defines series before any sample record
// that refers to them; replaying one twice is harmless.
const (
	recSeries  byte = 1 // uvarint n, then n x (uvarint id, uvarint nlabels, nlabels x (name, value))
	recSamples byte = 2 // uvarint n, varint base t, then n x (uvarint id, varint t-base, 8-byte LE float64 bits)
)

var errBadRecord = errors.New("malformed WAL record")

type seriesDef struct {
	id     uint32
	labels Labels
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeSeries(b []byte, defs []seriesDef) []byte {
	b = binary.AppendUvarint(b, uint64(len(defs)))
	for _, d := range defs {
		b = binary.AppendUvarint(b, uint64(d.id))
		b = binary.AppendUvarint(b, uint64(len(d.labels)))
		for _, l := range d.labels {
			b = appendString(b, l.Name)
			b = appendString(b, l.Value)
		}
	}
	return b
}

// recReader decodes the fields of a record, remembering the first error.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) string() string {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errBadRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recReader) float() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errBadRecord
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func decodeSeries(b []byte) ([]seriesDef, error) {
	r := recReader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("series record: %w", errBadRecord)
	}
	defs := make([]seriesDef, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		id := r.uvarint()
		nl := r.uvarint()
		if nl > uint64(len(r.b)) || id > math.MaxUint32 {
			return nil, fmt.Errorf("series record: %w", errBadRecord)
		}
		ls := make(Labels, nl)
		for j := range ls {
			ls[j] = Label{r.string(), r.string()}
		}
		defs = append(defs, seriesDef{uint32(id), ls})
	}
	if r.err != nil {
		return nil, fmt.Errorf("series record: %w", r.err)
	}
	return defs, nil
}

// walSample is one sample as the WAL carries it.
type walSample struct {
	id uint32
	t  int64
	v  float64
}

func encodeSamples(b []byte, ss []walSample) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	var base int64
	if len(ss) > 0 {
		base = ss[0].t
	}
	b = binary.AppendVarint(b, base)
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(s.id))
		b = binary.AppendVarint(b, s.t-base)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.v))
	}
	return b
}

// decodeSamples calls fn for each sample of a samples record.
func decodeSamples(b []byte, fn func(walSample)) error {
	r := recReader{b: b}
	n := r.uvarint()
	base := r.varint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		id := r.uvarint()
		dt := r.varint()
		v := r.float()
		if r.err == nil {
			if id > math.MaxUint32 {
				return fmt.Errorf("samples record: %w", errBadRecord)
			}
			fn(walSample{uint32(id), base + dt, v})
		}
	}
	if r.err != nil {
		return fmt.Errorf("samples record: %w", r.err)
	}
	return nil
}
