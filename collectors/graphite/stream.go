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
	readBufSize       = 64 << 10              // initial read buffer of a connection
	udpBufSize        = 64 << 10              // largest UDP payload
	minFlushPause     = 5 * time.Millisecond  // read deadlines closer than this are pushed out
	summaryEvery      = time.Minute           // at most one summary log line per period
)

// stream is the state of one TCP connection or of the UDP socket: the
// decoder with its label cache, the batch of points not yet written, and
// the line count for error positions. It is used by one goroutine.
type stream struct {
	l      *Listener
	ctx    context.Context // Run's context
	dec    *decoder
	pts    []tsdb.Point // the batch
	first  time.Time    // when the oldest point of the batch arrived
	lineNo int
	remote string
}

// newStream returns the state for one connection (or the UDP socket).
func (l *Listener) newStream(ctx context.Context, remote string) *stream {
	return &stream{l: l, ctx: ctx, dec: newDecoder(l.parser, l.cache), remote: remote}
}

// line parses one complete line, counts what it rejects, and writes the
// batch when it is full. now (ms) stamps lines without a timestamp.
func (s *stream) line(b []byte, now int64) {
	s.lineNo++
	before := len(s.pts)
	var err error
	s.pts, err = s.dec.parse(s.pts, b, now)
	if err != nil {
		s.reject(err)
		return
	}
	if before == 0 && len(s.pts) > 0 {
		s.first = time.Now()
	}
	if len(s.pts) >= s.l.cfg.BatchSize {
		s.flush()
	}
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
