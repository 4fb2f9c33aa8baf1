package syslog

import (
	"bytes"
	"errors"
	"io"
)

// Framer splits a TCP stream into syslog frames, choosing the framing of
// each frame by its first byte (RFC 6587): a digit starts octet counting,
// "LEN SP MSG" with LEN bytes of MSG; anything else is a line ended by
// LF (a CR before it is dropped). Empty lines between frames are
// skipped. It holds at most max bytes of a frame and a few of its
// prefix: a longer frame is skipped as it arrives, never buffered.
type Framer struct {
	r        io.Reader
	max      int
	buf      []byte
	start    int   // first byte not yet framed
	end      int   // end of the bytes read
	skip     int64 // bytes still to discard of an over-long octet-counted frame
	skipLine bool  // discarding an over-long line up to its LF
	err      error // the reader's error, once it has returned one
}

// maxLenDigits bounds the LEN of an octet-counted frame: 9 digits, under
// 1 GB. A run of more digits is read as the start of a line.
const maxLenDigits = 9

// initialFrameBuf is the buffer a connection starts with; it doubles, up
// to the longest frame and its prefix, as frames need.
const initialFrameBuf = 4 << 10

// NewFramer returns a Framer reading r, for frames of at most max bytes.
func NewFramer(r io.Reader, max int) *Framer {
	return &Framer{r: r, max: max, buf: make([]byte, min(initialFrameBuf, max+maxLenDigits+1))}
}

// Next returns the next frame, which aliases the Framer's buffer until
// the next call. A frame refused by the framing comes back as a nil frame
// and a *ParseError (ReasonTooLong, ReasonTruncated): the stream goes on
// after it. At the end of the stream Next returns io.EOF (a last line
// without its LF is a frame first); a read error ends it the same way,
// with that error.
func (f *Framer) Next() ([]byte, error) {
	for {
		frame, perr, ok := f.frame()
		if ok {
			return frame, perr
		}
		if f.err != nil {
			return f.finish()
		}
		f.fill()
	}
}

// frame takes a frame from the buffered bytes; ok is false when it needs
// more of them.
func (f *Framer) frame() (frame []byte, perr error, ok bool) {
	for {
		if f.skip > 0 {
			n := min(f.skip, int64(f.end-f.start))
			f.skip -= n
			f.start += int(n)
			if f.skip > 0 {
				return nil, nil, false
			}
		}
		data := f.buf[f.start:f.end]
		if f.skipLine {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				f.start = f.end
				return nil, nil, false
			}
			f.start += i + 1
			f.skipLine = false
			continue
		}
		if len(data) == 0 {
			return nil, nil, false
		}
		if data[0] == '\n' { // a blank line, or the LF some senders put after a counted frame
			f.start++
			continue
		}
		if data[0] == '\r' && len(data) > 1 && data[1] == '\n' {
			f.start += 2
			continue
		}
		if isDigit(data[0]) {
			n, prefix, state := octetCount(data)
			switch state {
			case needMore:
				return nil, nil, false
			case counted:
				if n > int64(f.max) {
					f.start += prefix
					f.skip = n
					return nil, parseErr(ReasonTooLong, 0, "octet-counted frame of %d bytes is over %d", n, f.max), true
				}
				if int64(len(data)-prefix) < n {
					return nil, nil, false
				}
				f.start += prefix + int(n)
				return data[prefix : prefix+int(n)], nil, true
			}
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) > f.max+1 {
				f.start, f.skipLine = f.end, true
				return nil, parseErr(ReasonTooLong, 0, "line is over %d bytes", f.max), true
			}
			return nil, nil, false
		}
		f.start += i + 1
		line := bytes.TrimSuffix(data[:i], []byte("\r"))
		if len(line) > f.max {
			return nil, parseErr(ReasonTooLong, 0, "line of %d bytes is over %d", len(line), f.max), true
		}
		return line, nil, true
	}
}

type countState int

const (
	notCounted countState = iota // not "LEN SP": a line
	needMore                     // digits so far, then the end of the data
	counted
)

// octetCount reads "LEN SP" at the start of b.
func octetCount(b []byte) (n int64, prefix int, st countState) {
	for i, c := range b {
		switch {
		case isDigit(c) && i < maxLenDigits:
			n = n*10 + int64(c-'0')
		case c == ' ' && i > 0:
			return n, i + 1, counted
		default:
			return 0, 0, notCounted
		}
	}
	return 0, 0, needMore
}

// fill reads more bytes, moving what is held to the front and doubling
// the buffer (up to the longest frame and its prefix) when it is full.
func (f *Framer) fill() {
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.end == len(f.buf) {
		limit := f.max + maxLenDigits + 2
		if len(f.buf) >= limit {
			// Cannot happen: frame refuses what would not fit. Skip it
			// rather than loop.
			f.start, f.end, f.skipLine = 0, 0, true
			return
		}
		nb := make([]byte, min(2*len(f.buf), limit))
		copy(nb, f.buf[:f.end])
		f.buf = nb
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if err != nil {
		f.err = err
	}
}

// finish returns what the stream ends with, after its reader failed.
func (f *Framer) finish() ([]byte, error) {
	data := f.buf[f.start:f.end]
	f.start = f.end
	truncated := false // a frame being skipped was refused already
	f.skip = 0
	if len(data) > 0 && !f.skipLine {
		if n, prefix, st := octetCount(data); st == counted && int64(len(data)-prefix) < n {
			truncated = true
		} else if line := bytes.TrimSuffix(data, []byte("\r")); len(line) > f.max {
			return nil, parseErr(ReasonTooLong, 0, "line of %d bytes is over %d", len(line), f.max)
		} else if len(bytes.TrimRight(line, "\r")) > 0 {
			return line, nil
		}
	}
	f.skipLine = false
	if truncated {
		return nil, parseErr(ReasonTruncated, 0, "the connection ended inside an octet-counted frame")
	}
	if errors.Is(f.err, io.EOF) {
		return nil, io.EOF
	}
	return nil, f.err
}
