package promrw

import (
	"errors"
	"strconv"
)

// Errors that reject a whole request, or stop one midway. The handler maps
// each to one status code (see doc.go).
var (
	// ErrTooLarge means a body longer than its limit on the wire, or a
	// remote write body whose snappy header announces more than
	// promrw.max_decoded_bytes (413).
	ErrTooLarge = errors.New("request body too large")
	// ErrUnsupportedMedia means a Content-Encoding or Content-Type the
	// endpoint does not read: remote write is snappy-compressed protobuf
	// (remote write 2.0's io.prometheus.write.v2.Request is refused, so a
	// sender that can falls back to 1.0), import is JSON lines, plain or
	// gzipped (415).
	ErrUnsupportedMedia = errors.New("unsupported media type")
	// ErrBadBody means a body that cannot be read: invalid snappy or gzip,
	// a malformed protobuf message, or a client that broke off its upload
	// (400).
	ErrBadBody = errors.New("bad request body")
)

// maxErrorText is how much of a bad import line an error quotes.
const maxErrorText = 128

// LineError is a line of an import body that could not be read.
type LineError struct {
	// Line is the 1-based line number within the body.
	Line int
	// Text is the start of the line, cut to 128 bytes.
	Text string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *LineError) Error() string {
	return "line " + strconv.Itoa(e.Line) + " " + strconv.Quote(e.Text) + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// lineText returns the start of line for an error message, cut at a rune
// boundary.
func lineText(line []byte) string {
	if len(line) <= maxErrorText {
		return string(line)
	}
	n := maxErrorText
	for n > 0 && line[n]&0xC0 == 0x80 {
		n--
	}
	return string(line[:n]) + "..."
}
