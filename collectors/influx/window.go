package influx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// lineReader reads a request body window by window, handing the Parser
// whole lines only, so that a body is parsed as it arrives and never held
// whole: a request holds one window (windowBytes) however large its body
// is. It enforces the body's limits on the way:
//
//   - more than limit bytes (after decompression) stops the body with
//     ErrBodyTooLarge;
//   - a line longer than maxLine is blanked in place (the decoder skips
//     blank lines), or, when it does not even fit the window, read past
//     without being kept; either way it is counted with its line number,
//     and the Parser reports it as it reports its own too-long lines.
//
// A lineReader is for one goroutine; the handler pools them with their
// windows.
type lineReader struct {
	r       io.Reader
	gz      bool  // r decompresses: limit errors say "after decompression"
	limit   int64 // bytes r may yield
	maxLine int
	buf     []byte // the window; its length is fixed

	n    int  // buf[:n] holds bytes read
	rest int  // buf[rest:n] is the start of the line after the last window
	eof  bool // r is exhausted
	err  error

	read  int64 // bytes r yielded
	lines int   // lines of the windows handed out and lines skipped
	base  int   // lines before the last window handed out
	blank bool  // every byte so far was white space

	long  *ParseError // the first line over maxLine
	longN int         // lines over maxLine
}

// reset makes lr read a new body from r, keeping its window.
func (lr *lineReader) reset(r io.Reader, gz bool, limit int64, maxLine int) {
	*lr = lineReader{r: r, gz: gz, limit: limit, maxLine: maxLine, buf: lr.buf, blank: true}
}

// next returns the next window of whole lines (the last line of the body
// may lack its '\n'), passing over windows of blank lines. The window is
// valid until the following call. At the end of the body, and after a read
// error (then lr.err is set), it returns nil.
func (lr *lineReader) next() []byte {
	for {
		lr.n = copy(lr.buf, lr.buf[lr.rest:lr.n])
		lr.rest = 0
		lr.fill()
		if lr.err != nil {
			return nil
		}
		end := bytes.LastIndexByte(lr.buf[:lr.n], '\n') + 1
		if lr.eof {
			end = lr.n
		}
		if end > 0 {
			w := lr.buf[:end]
			lr.rest = end
			lr.base = lr.lines
			if !lr.account(w) {
				continue // only blank lines: nothing to parse
			}
			return w
		}
		if lr.n == 0 {
			return nil // the end of the body
		}
		lr.skipLine() // a full window without '\n': one line longer than it
	}
}

// fill reads until the window is full, the body ends or a read fails.
func (lr *lineReader) fill() {
	for !lr.eof && lr.err == nil && lr.n < len(lr.buf) {
		m, err := lr.r.Read(lr.buf[lr.n:])
		lr.n += m
		lr.read += int64(m)
		switch {
		case lr.read > lr.limit:
			lr.err = fmt.Errorf("%w: over %d bytes after decompression", ErrBodyTooLarge, lr.limit)
		case err == io.EOF:
			lr.eof = true
		case err != nil:
			lr.err = readError(err, lr.limit, lr.gz)
		}
	}
}

// skipLine reads past the line at the start of the full window, which is
// longer than the window, keeping only its first bytes for the error.
func (lr *lineReader) skipLine() {
	text := quoteLine(lr.buf[:min(lr.n, maxErrorText+2)]) // +2: quoteLine drops a final '\r'
	size := 0
	for {
		if k := bytes.IndexByte(lr.buf[:lr.n], '\n'); k >= 0 {
			size += k
			lr.n = copy(lr.buf, lr.buf[k+1:lr.n])
			break
		}
		size += lr.n
		lr.n = 0
		if lr.eof {
			break
		}
		lr.fill()
		if lr.err != nil {
			return
		}
	}
	lr.blank = false
	lr.tooLong(lr.lines+1, size, text)
	lr.lines++
}

// account counts the lines of window w and blanks the lines in it that are
// longer than maxLine. The scan jumps maxLine+1 bytes at a time, so a window
// of short lines costs a few LastIndexByte calls, not one call per line. It
// reports false when w is blank (a gzip bomb of newlines is, mostly), so
// that it is skipped rather than handed to the decoder.
func (lr *lineReader) account(w []byte) bool {
	if isBlank(w) {
		lr.lines += bytes.Count(w, []byte{'\n'})
		return false
	}
	lr.blank = false
	counted, line := 0, lr.base+1 // line is the number of the line at counted
	for start := 0; len(w)-start > lr.maxLine; {
		if k := bytes.LastIndexByte(w[start:start+lr.maxLine+1], '\n'); k >= 0 {
			start += k + 1
			continue
		}
		end := len(w)
		if k := bytes.IndexByte(w[start:], '\n'); k >= 0 {
			end = start + k
		}
		line += bytes.Count(w[counted:start], []byte{'\n'})
		counted = start
		lr.tooLong(line, end-start, quoteLine(w[start:end]))
		for i := start; i < end; i++ {
			w[i] = ' '
		}
		start = end + 1
	}
	lr.lines += bytes.Count(w, []byte{'\n'})
	return true
}

// tooLong records a line over maxLine, with the parser's wording.
func (lr *lineReader) tooLong(line, size int, text string) {
	lr.longN++
	if lr.long == nil {
		lr.long = &ParseError{Line: line, Col: lr.maxLine + 1, Text: text,
			Msg: "line too long (" + strconv.Itoa(size) + " bytes, the limit is " + strconv.Itoa(lr.maxLine) + ")"}
	}
}

// isBlank reports whether b holds only lines the decoder skips as blank:
// spaces ending in '\n' or "\r\n" (a tab or a lone '\r' is an error to it).
func isBlank(b []byte) bool {
	for i, c := range b {
		switch {
		case c == ' ', c == '\n':
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
		default:
			return false
		}
	}
	return true
}

// cutEntry reports whether err, the decoder's error on the last entry of
// window w, only means that the window ended inside a quoted string field
// value (line protocol allows '\n' there, and windows end at a '\n'). If so,
// the window is cut before that entry, which starts the next window. An
// entry that starts the window cannot be cut: it is longer than the window,
// and is rejected.
func (lr *lineReader) cutEntry(w []byte, err error) bool {
	var de *lineprotocol.DecodeError
	if lr.eof || !errors.As(err, &de) {
		return false
	}
	o := lineStart(w, int(de.Line)) + de.Column - 1 // the decoder points at the opening quote
	if o < 0 || o >= len(w) || w[o] != '"' || closingQuote(w[o+1:]) >= 0 {
		return false
	}
	s := lastEntry(w)
	if s == 0 || s > o {
		return false
	}
	lr.rest = s
	lr.lines -= bytes.Count(w[s:], []byte{'\n'})
	return true
}

// lineStart returns the offset of line n (1-based) of w, or -1.
func lineStart(w []byte, n int) int {
	off := 0
	for ; n > 1; n-- {
		i := bytes.IndexByte(w[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	return off
}

// closingQuote returns the index of the first '"' in b that a backslash
// does not escape, or -1.
func closingQuote(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// lastEntry returns where the last entry of w starts, w starting at one.
// It follows line protocol's sections (measurement and tags up to the first
// unescaped space, then fields, whose string values are quoted and may hold
// '\n', then the timestamp), so that only a '\n' outside a string ends an
// entry. Malformed input may be split elsewhere; the decoder rejects it
// anyway.
func lastEntry(w []byte) int {
	last := 0
	for i := 0; i < len(w); i = entryEnd(w, i) {
		last = i
	}
	return last
}

// entryEnd returns the offset just past the entry starting at i: past its
// '\n', or len(w). Blank lines and comments are entries of their own.
func entryEnd(w []byte, i int) int {
	for i < len(w) && (w[i] == ' ' || w[i] == '\t' || w[i] == '\r') {
		i++
	}
	const (
		head  = iota // measurement and tags
		key          // a field key
		value        // an unquoted field value
		str          // a quoted field value
		tail         // the timestamp, or a comment
	)
	state := head
	if i < len(w) && w[i] == '#' {
		state = tail
	}
	for ; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\\' && state != tail && i+1 < len(w) && w[i+1] != '\n':
			i++
		case state == str:
			if c == '"' {
				state = value
			}
		case c == '\n':
			return i + 1
		case state == head && c == ' ':
			state = key
		case state == key && c == '=':
			if i+1 < len(w) && w[i+1] == '"' {
				state, i = str, i+1
			} else {
				state = value
			}
		case state == value && c == ',':
			state = key
		case state == value && c == ' ':
			state = tail
		}
	}
	return len(w)
}
