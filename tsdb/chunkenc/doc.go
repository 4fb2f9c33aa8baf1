// Package chunkenc encodes the samples of one series over one epoch (an hour)
// into a chunk: the in-memory form the head appends to, and the sealed form
// written to the day partitions.
//
// A sample is a timestamp in milliseconds and a float64. Within a chunk the
// timestamps are strictly ascending. Values are kept bit for bit: NaN
// payloads (Prometheus' stale marker 0x7ff0000000000002), ±Inf and -0 come
// back exactly as they went in.
//
// # Types and functions
//
//   - XOR is the appendable Gorilla chunk of the head. Its Bytes are a chunk
//     in the head form.
//   - Encode writes the sealed form of a set of samples, measuring each
//     encoding the samples allow and keeping the smallest.
//   - Iterator reads either form, without allocating; Decode appends all
//     samples to slices; Count and Bounds read the header only.
//
// Corrupt input is reported as an error wrapping ErrCorrupt, never a panic.
// A header may claim at most MaxSamples samples, which bounds the work of
// any input.
//
// # Concurrency
//
// Functions are pure and safe for concurrent use. An XOR or an Iterator is
// used by one goroutine at a time; a reader of an XOR's bytes is serialised
// with its Append (see XOR.Bytes). Encoded chunks are never modified, so any
// number of Iterators may read one.
//
// # Imports
//
// The standard library only: chunkenc knows nothing of series, the store or
// any other outpost package.
//
// # Format byte
//
// Every chunk starts with one byte naming its encodings:
//
//	  7   6   5   4   3   2   1   0
//	┌───────┬───────┬───────────────┐
//	│  ts   │ value │     scale     │
//	└───────┴───────┴───────────────┘
//	ts:    0 head form, 1 constant delta, 2 delta-of-delta
//	value: 0 XOR, 1 constant, 2 integer deltas, 3 integer delta-of-deltas
//	scale: the decimal scale of the integer encodings (0..15), else 0
//
// # Head form (format byte 0x00), written by XOR
//
//	┌──────┬──────────────┬─────────────┬─────────────┬──────────────────────┐
//	│ 0x00 │ n uint32     │ mint int64  │ maxt int64  │ bit stream           │
//	└──────┴──────────────┴─────────────┴─────────────┴──────────────────────┘
//	  1 B     4 B big-end.   8 B           8 B
//
//	stream: v0 as 64 bits, then for each sample i >= 1:
//	          dod(t_i - t_{i-1} - (t_{i-1} - t_{i-2}))  xor(v_i)
//	        where the delta before the first is 0
//	dod:    '0' (zero) | '10' 8 bits | '110' 16 bits | '1110' 24 bits
//	        | '1111' 64 bits, two's complement
//	xor:    x = bits(v_i) ^ bits(v_{i-1})
//	        '0'                    x == 0
//	        '10' sig bits          x fits in the previous window
//	        '11' lead(5) sig(6) sig bits   a new window: leading zeros (at
//	                               most 31) and significant bits (0 = 64)
//
// The header is fixed-size so that Append updates it in place.
//
// # Sealed form (ts 1 or 2), written by Encode
//
//	┌────────┬───────────┬─────────────┬──────────────────┬───────────┬──────────────┐
//	│ format │ n uvarint │ mint varint │ maxt-mint uvarint│ ts column │ value column │
//	└────────┴───────────┴─────────────┴──────────────────┴───────────┴──────────────┘
//	(an empty chunk ends after n = 0)
//
//	ts column
//	  constant: nothing; the delta is (maxt-mint)/(n-1)
//	  dod:      w0 w1 w2 (1 B each) | len uvarint | len bytes: the n-1
//	            zigzag delta-of-deltas, packed (delta before the first is 0)
//
//	value column, to the end of the chunk
//	  XOR:       v0 as 64 bits, then n-1 xor codes as in the head form
//	  constant:  k (1 B, 0..8) | the first k bytes of the value's big-endian
//	             bits; the rest are zero
//	  int delta: zigzag(m0) uvarint | w0 w1 w2 | n-1 zigzag deltas, packed
//	  int dod:   zigzag(m0) uvarint | w0 w1 w2 | n-1 zigzag delta-of-deltas,
//	             packed
//	  with v_i == float64(m_i) / 10^scale bit for bit
//
//	packed: per value '0' w0 bits | '10' w1 bits | '11' w2 bits, the first
//	        bucket it fits; the widths are chosen per column to minimise it
//
// Bit streams are most significant bit first and zero-padded to a byte; a
// decoder rejects trailing bytes or set padding bits. Integer arithmetic on
// deltas wraps, so any int64 timestamps and integers round-trip.
//
// # Choosing an encoding
//
// Encode takes constant-delta timestamps when they hold (360 samples at
// 10 s: 0 bytes past the header), else delta-of-deltas. For values it sizes
// every candidate exactly and keeps the smallest: constant (all bits
// equal), integer deltas or delta-of-deltas (counters, and decimals such as
// 12.25 at scale 2, only when float64(m)/10^scale gives back every value's
// exact bits), and XOR. Full-precision floats rule out the integer forms at
// once, so their encoding is not sized.
package chunkenc
