package chunkenc

import (
	"encoding/binary"
	"fmt"
)

// MaxSamples is the most samples one chunk holds. An epoch of one hour has
// at most 3,600,000 distinct millisecond timestamps, so a chunk per series
// and epoch never reaches it. Decoders reject a header claiming more, which
// bounds the work any input can cause.
const MaxSamples = 1 << 22

// Timestamp encodings: the top two bits of a chunk's first byte.
const (
	tsHead  = 0 // head form: fixed header, interleaved Gorilla stream (XOR)
	tsConst = 1 // constant delta, derived from the header: no bytes
	tsDoD   = 2 // delta-of-delta, zigzag, packed with chunk-chosen widths
)

// Value encodings: bits 5..4 of a chunk's first byte.
const (
	valXOR      = 0 // Gorilla XOR of the float64 bits
	valConst    = 1 // one value, its significant bytes
	valIntDelta = 2 // value*10^scale as integers, zigzag deltas, packed
	valIntDoD   = 3 // value*10^scale as integers, zigzag delta-of-deltas, packed
)

// maxScale is the largest decimal scale (bits 3..0 of the first byte); 10^15
// is exact in a float64.
const maxScale = 15

// headHeaderLen is the size of the head form's fixed header:
// format(1) | count uint32 | mint int64 | maxt int64, big-endian.
const headHeaderLen = 21

// pow10 holds the exact float64 powers of ten used by the scaled encodings.
var pow10 = [maxScale + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// header is the decoded fixed part of a chunk.
type header struct {
	tsEnc, valEnc, scale uint8
	n                    int
	mint, maxt           int64
}

// parseHeader decodes the header of b and returns it with the bytes that
// follow it.
func parseHeader(b []byte) (header, []byte, error) {
	if len(b) == 0 {
		return header{}, nil, corrupt("no format byte")
	}
	h := header{tsEnc: b[0] >> 6, valEnc: b[0] >> 4 & 3, scale: b[0] & 15}
	if h.tsEnc == tsHead {
		return parseHeadHeader(b, h)
	}
	if h.tsEnc > tsDoD {
		return header{}, nil, corrupt("unknown timestamp encoding %d", h.tsEnc)
	}
	if h.scale != 0 && h.valEnc != valIntDelta && h.valEnc != valIntDoD {
		return header{}, nil, corrupt("scale on a non-integer encoding")
	}
	rest := b[1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 {
		return header{}, nil, corrupt("bad sample count")
	}
	rest = rest[k:]
	if n == 0 {
		if len(rest) != 0 {
			return header{}, nil, corrupt("bytes after an empty header")
		}
		return h, rest, nil
	}
	mint, k := binary.Varint(rest)
	if k <= 0 {
		return header{}, nil, corrupt("bad min time")
	}
	rest = rest[k:]
	span, k := binary.Uvarint(rest)
	if k <= 0 {
		return header{}, nil, corrupt("bad time span")
	}
	h.mint, h.maxt = mint, mint+int64(span)
	if err := h.check(n); err != nil {
		return header{}, nil, err
	}
	return h, rest[k:], nil
}

func parseHeadHeader(b []byte, h header) (header, []byte, error) {
	if b[0] != 0 {
		return header{}, nil, corrupt("head form with value encoding %#x", b[0])
	}
	if len(b) < headHeaderLen {
		return header{}, nil, corrupt("head header truncated")
	}
	n := uint64(binary.BigEndian.Uint32(b[1:]))
	h.mint = int64(binary.BigEndian.Uint64(b[5:]))
	h.maxt = int64(binary.BigEndian.Uint64(b[13:]))
	if n == 0 {
		return h, b[headHeaderLen:], nil
	}
	if err := h.check(n); err != nil {
		return header{}, nil, err
	}
	return h, b[headHeaderLen:], nil
}

// check validates count n against the bounds and stores it in h. Strictly
// ascending timestamps need maxt >= mint and n-1 <= maxt-mint.
func (h *header) check(n uint64) error {
	if n > MaxSamples {
		return corrupt("%d samples, more than %d", n, MaxSamples)
	}
	if h.maxt < h.mint {
		return corrupt("max time before min time")
	}
	if n-1 > uint64(h.maxt-h.mint) {
		return corrupt("%d samples in a span of %d ms", n, uint64(h.maxt-h.mint))
	}
	h.n = int(n)
	return nil
}

// Count returns the number of samples in chunk b, from its header.
func Count(b []byte) (int, error) {
	h, _, err := parseHeader(b)
	if err != nil {
		return 0, fmt.Errorf("count chunk samples: %w", err)
	}
	return h.n, nil
}

// Bounds returns the first and last timestamps of chunk b, from its header.
// It returns ErrEmpty for a chunk without samples.
func Bounds(b []byte) (mint, maxt int64, err error) {
	h, _, err := parseHeader(b)
	if err != nil {
		return 0, 0, fmt.Errorf("read chunk bounds: %w", err)
	}
	if h.n == 0 {
		return 0, 0, fmt.Errorf("read chunk bounds: %w", ErrEmpty)
	}
	return h.mint, h.maxt, nil
}

// corrupt returns an ErrCorrupt wrapped with a description.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
