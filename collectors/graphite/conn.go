package graphite

import (
	"bytes"
	"context"
	"errors"
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

// inLine reports whether the bytes read so far end in the middle of a line
// (held, or being skipped).
func (lb *lineBuf) inLine() bool { return lb.n > 0 || lb.skipping }

// held returns the incomplete line held, if any.
func (lb *lineBuf) held() []byte {
	if lb.skipping {
		return nil
	}
	return lb.buf[:lb.n]
}

// serveConn reads lines from sl's connection until it ends, is idle for
// IdleTimeout, delivers a line slower than MinRate (over MinRateWindow),
// or the listener evicts it or shuts down. A last line without "\n" is
// parsed when the sender closes cleanly, and counted as "truncated"
// otherwise.
func (l *Listener) serveConn(ctx context.Context, sl *slot) {
	c := sl.conn
	s := l.newStream(ctx, c.RemoteAddr().String())
	defer s.flush()
	lb := newLineBuf(l.cfg.MaxLineBytes)
	var nowMs int64
	line := func(b []byte) { s.line(b, nowMs) }
	tooLong := func() { l.stats.Reject("lines", "too_long", 1) }
	lastData := time.Now()
	var mid midLine
	for {
		idleAt := lastData.Add(l.cfg.IdleTimeout)
		deadline := idleAt
		if at, ok := mid.due(l.cfg.MinRateWindow); ok && l.cfg.MinRate > 0 && at.Before(deadline) {
			deadline = at
		}
		if due, ok := s.flushDue(); ok && due.Before(deadline) {
			deadline = later(due, time.Now().Add(minFlushPause))
		}
		c.SetReadDeadline(deadline)
		n, err := c.Read(lb.space())
		now := time.Now()
		if n > 0 {
			lastData = now
			sl.delivered(n, now)
			nowMs = l.now().UnixMilli()
			l.stats.Bytes.Add(uint64(n))
			lb.commit(n, line, tooLong)
			mid.note(n, lb.inLine(), now)
			if due, ok := s.flushDue(); ok && !now.Before(due) {
				s.flush() // a steady trickle never lets the read time out
			}
		}
		if (err == nil || errors.Is(err, os.ErrDeadlineExceeded)) && mid.slow(now, l.cfg.MinRate, l.cfg.MinRateWindow) {
			l.stats.Reject("connections", "too_slow", 1)
			if len(lb.held()) > 0 {
				l.stats.Reject("lines", "truncated", 1)
			}
			return
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil && now.Before(idleAt):
			s.flush() // the batch timer or the MinRate window, not the idle timeout
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
