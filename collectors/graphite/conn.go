package graphite

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// lineBuf splits a byte stream into lines. It holds the incomplete line at
// the end of what was read, grows (up to max+1 bytes) while one line fills
// it, and skips a line longer than max up to its newline.
type lineBuf struct {
	buf      []byte
	n        int  // bytes held: the start of an incomplete line
	skipping bool // inside a line longer than max
	max      int  // longest accepted line, "\r" and "\n" excluded
}

// newLineBuf returns a buffer for lines of at most max bytes.
func newLineBuf(max int) *lineBuf {
	return &lineBuf{buf: make([]byte, min(readBufSize, max+1)), max: max}
}

// space returns the free part of the buffer to read into.
func (lb *lineBuf) space() []byte {
	if lb.n == len(lb.buf) {
		nb := make([]byte, min(2*len(lb.buf), lb.max+1))
		copy(nb, lb.buf[:lb.n])
		lb.buf = nb
	}
	return lb.buf[lb.n:]
}

// commit takes n bytes just read into space(), calls line for every
// complete line (without its "\n") and tooLong for every line over max,
// and keeps the incomplete rest.
func (lb *lineBuf) commit(n int, line func([]byte), tooLong func()) {
	data := lb.buf[:lb.n+n]
	start, from := 0, lb.n // data[:lb.n] holds no newline
	for {
		i := bytes.IndexByte(data[from:], '\n')
		if i < 0 {
			break
		}
		end := from + i
		switch l := data[start:end]; {
		case lb.skipping:
			lb.skipping = false // the end of an over-long line
		case len(bytes.TrimSuffix(l, []byte{'\r'})) > lb.max:
			tooLong()
		default:
			line(l)
		}
		start, from = end+1, end+1
	}
	rest := data[start:]
	switch {
	case lb.skipping:
		lb.n = 0
	case len(rest) > lb.max:
		tooLong()
		lb.skipping, lb.n = true, 0
	default:
		lb.n = copy(lb.buf, rest)
	}
}

// held returns the incomplete line held, if any.
func (lb *lineBuf) held() []byte {
	if lb.skipping {
		return nil
	}
	return lb.buf[:lb.n]
}

// serveConn reads lines from c until it ends, is idle for IdleTimeout, or
// the listener shuts down. A last line without "\n" is parsed when the
// sender closes cleanly, and counted as "truncated" otherwise.
func (l *Listener) serveConn(ctx context.Context, c net.Conn) {
	s := l.newStream(ctx, c.RemoteAddr().String())
	defer s.flush()
	lb := newLineBuf(l.cfg.MaxLineBytes)
	var nowMs int64
	line := func(b []byte) { s.line(b, nowMs) }
	tooLong := func() { l.stats.Reject("lines", "too_long", 1) }
	lastData := time.Now()
	for {
		idleAt := lastData.Add(l.cfg.IdleTimeout)
		deadline := idleAt
		if due, ok := s.flushDue(); ok && due.Before(deadline) {
			deadline = later(due, time.Now().Add(minFlushPause))
		}
		c.SetReadDeadline(deadline)
		n, err := c.Read(lb.space())
		if n > 0 {
			lastData = time.Now()
			nowMs = l.now().UnixMilli()
			l.stats.Bytes.Add(uint64(n))
			lb.commit(n, line, tooLong)
			if due, ok := s.flushDue(); ok && !lastData.Before(due) {
				s.flush() // a steady trickle never lets the read time out
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil && time.Now().Before(idleAt):
			s.flush() // the batch timer, not the idle timeout
		case isEOF(err):
			if held := lb.held(); len(held) > 0 {
				s.line(held, l.now().UnixMilli())
			}
			return
		default:
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				l.stats.Reject("connections", "idle_timeout", 1)
			}
			if len(lb.held()) > 0 {
				l.stats.Reject("lines", "truncated", 1)
			}
			return
		}
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
