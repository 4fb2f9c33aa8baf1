package influx

import (
	"errors"
	"strconv"
	"strings"
)

// Errors that reject a whole request before any line is parsed. The handler
// maps each to one status code (see doc.go).
var (
	// ErrBodyTooLarge means the body, or the body after gzip decompression,
	// is longer than Options.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrInvalidGzip means the body was sent with Content-Encoding: gzip but
	// is not a valid gzip stream (400).
	ErrInvalidGzip = errors.New("invalid gzip body")
	// ErrUnsupportedEncoding means a Content-Encoding other than gzip or
	// identity (415).
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
	// ErrInvalidPrecision means an unknown precision query parameter (400).
	ErrInvalidPrecision = errors.New("invalid precision")
)

// maxErrorText is how much of a bad line a ParseError quotes.
const maxErrorText = 256

// ParseError describes the first problem found on one line of a request
// body. Its message follows InfluxDB's "unable to parse '<line>': <why>"
// shape, with the position added, so that clients matching on "unable to
// parse" (Telegraf does) keep working.
type ParseError struct {
	// Line is the 1-based line number within the body; lines are counted
	// by '\n', including those inside string field values.
	Line int
	// Col is the 1-based byte column within the line, 0 when unknown.
	Col int
	// Msg says what is wrong, e.g. "expected field key but none found".
	Msg string
	// Text is the offending line, cut to 256 bytes.
	Text string
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("unable to parse '")
	b.WriteString(e.Text)
	b.WriteString("' (line ")
	b.WriteString(strconv.Itoa(e.Line))
	if e.Col > 0 {
		b.WriteString(", column ")
		b.WriteString(strconv.Itoa(e.Col))
	}
	b.WriteString("): ")
	b.WriteString(e.Msg)
	return b.String()
}

// quoteLine returns line cut to maxErrorText bytes at a rune boundary, with
// "..." appended when it was cut.
func quoteLine(line []byte) string {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) <= maxErrorText {
		return string(line)
	}
	n := maxErrorText
	for n > 0 && line[n]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		n--
	}
	return string(line[:n]) + "..."
}
