package graphite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// Write retries and the final flush at shutdown.
const (
	writeRetries      = 5                     // attempts after ErrOverloaded before the batch is dropped
	firstRetryPause   = 50 * time.Millisecond // doubled after each attempt
	shutdownFlushTime = 10 * time.Second      // bound on the last write after ctx is cancelled
	readBufSize       = 64 << 10              // read buffer of a connection that reads in bulk (see lineBuf)
	udpBufSize        = 64 << 10              // largest UDP payload
	minFlushPause     = 5 * time.Millisecond  // read deadlines closer than this are pushed out
	summaryEvery      = time.Minute           // at most one summary log line per period
)

// stream is the state of one TCP connection or of the UDP socket: the
// decoder with its label cache, the batch of points not yet written, what
// it holds of graphite.max_inflight_bytes, and the line count for error
// positions. It is used by one goroutine.
type stream struct {
	l      *Listener
	ctx    context.Context // Run's context
	dec    *decoder
	pts    []tsdb.Point // the batch; its capacity is charged to acct
	first  time.Time    // when the oldest point of the batch arrived
	lineNo int
	remote string

	acct    account
	waitCtx context.Context // the connection's context, for waits; nil: never wait (UDP)
	wait    bool            // the line being parsed may wait for the budget
	labels  int64           // what the labels of the batch's points are charged
	floor   int64           // what the stream keeps of the budget after a write
	broken  bool            // a wait for the budget failed: every later line is dropped and counted
}

// newStream returns the state for one connection (or the UDP socket).
func (l *Listener) newStream(ctx context.Context, remote string) *stream {
	s := &stream{l: l, ctx: ctx, dec: newDecoder(l.parser, l.cache), remote: remote, acct: account{b: l.inflight}}
	s.dec.reserve = func(n int64) bool { return s.acct.reserve(s.waitCtx, n, s.wait) }
	return s
}

// line parses one complete line, counts what it rejects, and writes the
// batch when it is full. now (ms) stamps lines without a timestamp. When
// the budget has no room for the line, the stream writes its own batch to
// make some and, on a TCP connection, then waits for the budget (bounded);
// if that fails too, the line is dropped and counted, and so is every later
// line of a TCP connection, which is then closed.
func (s *stream) line(b []byte, now int64) {
	s.lineNo++
	if s.broken {
		s.l.overBudget(1)
		return
	}
	switch err := s.parse(b, now, false); {
	case err == nil:
	case err == errOverBudget: // returned as is, never wrapped
		s.lineOverBudget(b, now)
	default:
		s.reject(err)
	}
}

// lineOverBudget is line when the budget had no room for b: it writes the
// batch and tries again, then, on a TCP connection, waits.
func (s *stream) lineOverBudget(b []byte, now int64) {
	err := errOverBudget
	if len(s.pts) > 0 {
		s.flush()
		err = s.parse(b, now, false)
	}
	if err == errOverBudget && s.waitCtx != nil {
		if err = s.parse(b, now, true); err == errOverBudget {
			s.broken = true
		}
	}
	switch {
	case err == nil:
	case err == errOverBudget:
		s.l.overBudget(1)
	default:
		s.reject(err)
	}
}

// parse adds the point of line b to the batch, taking from the budget
// (waiting if wait) the batch's next capacity step, the bound of the line's
// mapping when its path is not cached, and its labels, each before it is
// allocated. It returns errOverBudget, having added nothing, when the
// budget has no room.
func (s *stream) parse(b []byte, now int64, wait bool) error {
	if len(s.pts) == cap(s.pts) {
		c := min(max(2*cap(s.pts), minBatchCap), s.l.cfg.BatchSize)
		grow := int64(c-cap(s.pts)) * pointBytes
		if !s.acct.reserve(s.waitCtx, grow, wait) {
			return errOverBudget
		}
		s.acct.charge(grow)
		pts := make([]tsdb.Point, len(s.pts), c)
		copy(pts, s.pts)
		s.pts = pts
	}
	s.wait = wait
	before := len(s.pts)
	pts, err := s.dec.parse(s.pts, b, now)
	if err != nil {
		return err
	}
	if len(pts) == before {
		return nil // a blank line
	}
	n := labelsBytes(pts[before].Labels)
	if !s.acct.reserve(s.waitCtx, n, wait) {
		clear(pts[before:])
		return errOverBudget
	}
	s.acct.charge(n)
	s.labels += n
	s.pts = pts
	if before == 0 {
		s.first = time.Now()
	}
	if len(s.pts) >= s.l.cfg.BatchSize {
		s.flush()
	}
	return nil
}

// reject counts a line the decoder refused.
func (s *stream) reject(err error) {
	if errors.Is(err, ErrNaN) {
		s.l.stats.Reject("samples", "nan", 1)
		return
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Line = s.lineNo
	}
	s.l.stats.Reject("lines", "parse", 1)
	s.l.noteExample(s.remote, err)
}

// flushDue reports the time the batch must be written by, and whether
// there is a batch at all.
func (s *stream) flushDue() (time.Time, bool) {
	if len(s.pts) == 0 {
		return time.Time{}, false
	}
	return s.first.Add(s.l.cfg.BatchTimeout), true
}

// flush writes the batch. After Run's context is cancelled it still writes,
// with a detached context bounded by shutdownFlushTime, so that stopping
// the listener flushes what it accepted.
func (s *stream) flush() {
	if len(s.pts) == 0 {
		return
	}
	ctx := s.ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), shutdownFlushTime)
		defer cancel()
	}
	s.l.write(ctx, s.pts)
	clear(s.pts) // let evicted label sets be collected
	s.pts = s.pts[:0]
	s.acct.uncharge(s.labels)
	s.labels = 0
	if s.l.inflight.Contended() {
		s.dropBatch() // others wait for the budget: the array goes back too
	}
	s.acct.trim(s.floor)
}

// dropBatch gives back the empty batch's array.
func (s *stream) dropBatch() {
	s.acct.uncharge(int64(cap(s.pts)) * pointBytes)
	s.pts = nil
}

// write stores pts (collectors.Store: retried while the store is
// overloaded, counted by reason) and keeps the store's refusal, if any, as
// the example of the next summary line.
func (l *Listener) write(ctx context.Context, pts []tsdb.Point) {
	if err := collectors.Store(ctx, l.w, l.stats, pts, collectors.Retry{Tries: writeRetries + 1, Pause: firstRetryPause}); err != nil {
		l.noteExample("store", err)
	}
}

// noteExample keeps the first rejected input since the last summary, for
// the summary line. Later ones cost nothing but a pointer load.
func (l *Listener) noteExample(from string, err error) {
	if l.example.Load() != nil {
		return
	}
	msg := fmt.Sprintf("%s: %v", from, err)
	l.example.CompareAndSwap(nil, &msg)
}
