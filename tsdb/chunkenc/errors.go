package chunkenc

import "errors"

// Errors returned while building a chunk (XOR.Append, Encode). They mean the
// caller broke a precondition; the chunk is left as it was.
var (
	// ErrOutOfOrder means a timestamp is not greater than the one before it.
	// A chunk's timestamps are strictly ascending.
	ErrOutOfOrder = errors.New("chunk timestamp not after the previous one")
	// ErrLengthMismatch means Encode got different numbers of timestamps and
	// values.
	ErrLengthMismatch = errors.New("chunk timestamps and values differ in length")
	// ErrTooManySamples means the chunk would hold more than MaxSamples
	// samples.
	ErrTooManySamples = errors.New("too many samples for one chunk")
)

// Errors returned while reading a chunk (Iterator, Decode, Count, Bounds).
var (
	// ErrCorrupt means the bytes are not a chunk this package wrote: an
	// unknown format, a truncated or overlong stream, or inconsistent header
	// fields. It is wrapped with what was wrong.
	ErrCorrupt = errors.New("corrupt chunk")
	// ErrEmpty is returned by Bounds for a chunk that holds no samples.
	ErrEmpty = errors.New("empty chunk")
)
