package graphite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"
)

// lineBuf splits a byte stream into lines. It holds the incomplete line at
// the end of what was read, and skips a line longer than max up to its
// newline.
//
// A connection reads into its own small buffer of parkBufSize bytes, which
// costs nothing of graphite.max_inflight_bytes: a silent connection, or one
// that trickles, holds no more. When a read fills it (the sender has more
// to send) or one incomplete line fills it, the connection takes a buffer
// of readBufSize (at most max+1) from the budget and moves what it holds
// into it (enlarge); a line longer than that makes it double, up to max+1,
// each step taken from the budget first. Once reads bring less than the
// small buffer holds, what is held moves back into it (shrink) when it
// fits, and the big buffer is given back.
type lineBuf struct {
	buf      []byte
	small    []byte // the buffer that costs no budget, kept for the connection's life
	big      bool   // buf is a buffer taken from the budget, not small
	n        int    // bytes held: the start of an incomplete line
	skipping bool   // inside a line longer than max
	max      int    // longest accepted line, "\r" and "\n" excluded
}

// parkBufSize is the read buffer a connection keeps for its life: what a
// silent or trickling connection costs besides its goroutine.
const parkBufSize = 1 << 10

// newLineBuf returns a buffer for lines of at most max bytes, reading into
// its small buffer.
func newLineBuf(max int) *lineBuf {
	small := make([]byte, min(parkBufSize, max+1))
	return &lineBuf{buf: small, small: small, max: max}
}

// space returns the free part of the buffer to read into. It is empty
// when the buffer is full: then it must grow (see growSize) before a read.
func (lb *lineBuf) space() []byte { return lb.buf[lb.n:] }

// full reports whether the buffer holds one incomplete line that fills it.
func (lb *lineBuf) full() bool { return lb.n == len(lb.buf) }

// growSize returns the size of the next buffer: readBufSize (at most max+1)
// for the small one, else twice the current size, at most max+1.
func (lb *lineBuf) growSize() int {
	if !lb.big {
		return min(readBufSize, lb.max+1)
	}
	return min(2*len(lb.buf), lb.max+1)
}

// enlarge makes nb, of growSize bytes, the buffer, moving what is held
// into it. It returns the buffer it replaces when that was a big one.
func (lb *lineBuf) enlarge(nb []byte) (old []byte) {
	copy(nb, lb.buf[:lb.n])
	if lb.big {
		old = lb.buf
	}
	lb.buf, lb.big = nb, true
	return old
}

// shrink moves what is held back into the small buffer, which must have
// room for it, and returns the big buffer it replaces.
func (lb *lineBuf) shrink() (old []byte) {
	if !lb.big {
		return nil
	}
	old = lb.buf
	copy(lb.small, lb.buf[:lb.n])
	lb.buf, lb.big = lb.small, false
	return old
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
// the listener evicts it or shuts down, or it waited budgetWait for
// graphite.max_inflight_bytes in vain. A last line without "\n" is parsed
// when the sender closes cleanly, and counted as "truncated" otherwise.
func (l *Listener) serveConn(ctx context.Context, sl *slot) {
	c := sl.conn
	s := l.newStream(ctx, c.RemoteAddr().String())
	s.waitCtx = sl.ctx
	lb := newLineBuf(l.cfg.MaxLineBytes)
	defer func() {
		s.flush()
		s.release(lb)
	}()
	var nowMs int64
	line := func(b []byte) { s.line(b, nowMs) }
	tooLong := func() { l.stats.Reject("lines", "too_long", 1) }
	lastData := time.Now()
	var mid midLine
	var n, space int // the last read, and the room it had
	for {
		if !s.prepare(lb, n, space) {
			l.overBudget(1) // the incomplete line that could not grow
			l.closedOverBudget(sl)
			return
		}
		idleAt := lastData.Add(l.cfg.IdleTimeout)
		c.SetReadDeadline(s.readDeadline(idleAt, &mid))
		buf := lb.space()
		var err error
		n, err = c.Read(buf)
		space = len(buf)
		now := time.Now()
		if n > 0 {
			lastData = now
			sl.delivered(n, now)
			nowMs = l.now().UnixMilli()
			l.stats.Bytes.Add(uint64(n))
			lb.commit(n, line, tooLong)
			if s.acct.waited > 0 {
				// Waiting for the budget is the listener's doing, not the
				// sender's: it neither makes the connection idle nor slow.
				now = time.Now()
				sl.excuse(s.acct.waited, now)
				mid.restart(now)
				lastData, s.acct.waited = now, 0
			}
			if s.broken {
				if lb.inLine() {
					l.overBudget(1)
				}
				l.closedOverBudget(sl)
				return
			}
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
			// The batch timer, the MinRate window or holdCheck, not the
			// idle timeout.
			if due, ok := s.flushDue(); ok && !now.Before(due) {
				s.flush()
			}
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

// prepare readies the connection for its next read, the last one having
// brought n bytes into space bytes of room: it writes the batch when others
// wait for the budget, gives back what is no longer needed (settle) and
// grows the read buffer when a line fills it, or when the sender sends in
// bulk and the budget has room. It reports false when a line could not
// grow in time: the connection must close.
func (s *stream) prepare(lb *lineBuf, n, space int) bool {
	if len(s.pts) > 0 && s.l.inflight.Contended() {
		s.flush() // others wait for the budget: give back what the batch holds
	}
	filled := n > 0 && n == space // the sender has more to send
	if !filled {
		s.settle(lb, n)
	}
	switch {
	case lb.full(): // one incomplete line fills the buffer
		return s.growLine(lb, true)
	case filled && !lb.big && lb.growSize() > len(lb.buf):
		s.growLine(lb, false) // without room, read on in the small buffer
	}
	return true
}

// readDeadline returns when the next read must return: at idleAt, at the
// end of the MinRate window, when the batch is due, and, while the stream
// holds some of the budget, within holdCheck.
func (s *stream) readDeadline(idleAt time.Time, mid *midLine) time.Time {
	cfg := &s.l.cfg
	deadline := idleAt
	if at, ok := mid.due(cfg.MinRateWindow); ok && cfg.MinRate > 0 && at.Before(deadline) {
		deadline = at
	}
	if due, ok := s.flushDue(); ok && due.Before(deadline) {
		deadline = later(due, time.Now().Add(minFlushPause))
	}
	if at := time.Now().Add(holdCheck); s.acct.held > 0 && at.Before(deadline) {
		deadline = at // come back to give the budget back if others wait
	}
	return deadline
}

// settle gives back, between reads, what a connection no longer needs,
// unless its last read of n bytes was a bulk one (at least the small
// buffer's size): an empty batch's array, the big read buffer when what is
// held fits the small one, and the budget held beyond what is used (and,
// while the big buffer is kept, one grant for the batch). A silent
// connection thus holds nothing of the budget, and a trickling one only
// its batch.
func (s *stream) settle(lb *lineBuf, n int) {
	if n >= len(lb.small) {
		return
	}
	if len(s.pts) == 0 && s.pts != nil {
		s.dropBatch()
	}
	if lb.big && lb.n <= len(lb.small) {
		s.acct.uncharge(int64(len(lb.buf)))
		s.l.putBuf(lb.shrink())
		s.floor = 0
	}
	s.acct.trim(s.floor)
}

// release gives back everything the connection held, when it ends.
func (s *stream) release(lb *lineBuf) {
	s.dropBatch()
	if lb.big {
		s.acct.uncharge(int64(len(lb.buf)))
		lb.n = 0
		s.l.putBuf(lb.shrink())
	}
	s.floor = 0
	s.acct.trim(0)
}

// growLine gives the connection a bigger read buffer (see lineBuf),
// taking the difference from the budget first: from what the stream holds,
// else from the budget, and when it must (an incomplete line fills the
// buffer), else after writing its batch, else waiting (bounded). The first
// step, from the small buffer, takes a grant for the batch as well, which
// the stream keeps while it reads in bulk, so that it can always go on by
// writing its own batch. It reports false when the budget had no room.
func (s *stream) growLine(lb *lineBuf, must bool) bool {
	size := lb.growSize()
	extra := int64(size)
	if lb.big {
		extra -= int64(len(lb.buf))
	}
	need := extra
	if !lb.big {
		need += grantBytes
	}
	ok := s.acct.reserve(s.waitCtx, need, false)
	if !ok && must && len(s.pts) > 0 {
		s.flush()
		ok = s.acct.reserve(s.waitCtx, need, false)
	}
	if !ok && (!must || !s.acct.reserve(s.waitCtx, need, true)) {
		return false
	}
	s.acct.charge(extra)
	s.l.putBuf(lb.enlarge(s.l.getBuf(size)))
	s.floor = int64(size) + grantBytes
	return true
}

// closedOverBudget counts a connection closed because the budget did not
// make room in time; one evicted or shut down meanwhile is counted as such
// already.
func (l *Listener) closedOverBudget(sl *slot) {
	if sl.ctx.Err() == nil {
		l.stats.Reject("connections", "over_budget", 1)
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
