package promrw

import (
	"context"
	"errors"

	"outpost/collectors"
	"outpost/tsdb"
)

// outcome sums what happened to one request.
type outcome struct {
	samples  int   // samples received (written or not)
	written  int   // samples the Writer accepted
	dropped  int   // samples not written: of rejected series, or refused by the store
	badLines int   // import lines rejected whole (their samples uncounted)
	first    error // the first rejection: a series, a line, or the store's reason
	overload bool  // the Writer said ErrOverloaded
	unavail  bool  // the Writer said ErrUnavailable (the WAL cannot append)
	canceled bool  // the request's context ended during a Write
	internal error // any other Writer error
	body     error // the body failed midway (import): too large, bad gzip, client gone
	imported bool  // an import request: answers say how far it got
	lines    int   // import: lines 1 to lines are written (or were rejected)
}

// stopped reports whether the request must stop: no further batch can be
// written.
func (o *outcome) stopped() bool {
	return o.overload || o.unavail || o.canceled || o.internal != nil
}

// sink writes a request's points batch by batch and sums the outcome.
type sink struct {
	h   *Handler
	ctx context.Context
	st  *collectors.Stats
	b   *batch
	o   outcome

	// done is how many import lines were taken whole into batches (added,
	// or rejected); once those batches are written, they are written.
	done int

	// The series being added: the arenas' lengths before it, and its
	// points so far.
	nl, nk, ns int
	added      int
}

// newSink returns a sink with a pooled batch; release gives it back.
func (h *Handler) newSink(ctx context.Context, st *collectors.Stats) *sink {
	return &sink{h: h, ctx: ctx, st: st, b: h.getBatch()}
}

// release gives the batch back.
func (s *sink) release() { s.h.putBatch(s.b) }

// flush writes the batch, if it holds points, and empties it. It reports
// false when the request must stop.
func (s *sink) flush() bool {
	if len(s.b.pts) > 0 && !s.o.stopped() {
		s.fold(len(s.b.pts), s.h.w.Write(s.ctx, s.b.pts))
	}
	if !s.o.stopped() {
		s.o.lines = s.done
	}
	ls, key, copied := s.b.ls, s.b.key, s.b.copied
	s.b.reset()
	s.b.ls, s.b.key, s.b.copied = ls, key, copied // for again
	return !s.o.stopped()
}

// fold folds the Writer's answer for a batch of n points into the outcome.
func (s *sink) fold(n int, err error) {
	var pe *tsdb.PartialWriteError
	switch {
	case err == nil:
		s.o.written += n
		s.st.Samples.Add(uint64(n))
	case errors.Is(err, tsdb.ErrOverloaded):
		s.st.Reject("requests", "overloaded", 1)
		s.o.overload = true
	case errors.Is(err, tsdb.ErrUnavailable):
		s.st.Reject("requests", "unavailable", 1)
		s.o.unavail = true
	case errors.As(err, &pe):
		dropped := min(max(pe.Dropped, 0), n)
		s.o.written += n - dropped
		s.o.dropped += dropped
		s.st.Samples.Add(uint64(n - dropped))
		if dropped > 0 {
			s.st.Reject("samples", collectors.DropReason(pe.First), uint64(dropped))
		}
		if s.o.first == nil {
			s.o.first = pe.First
			if pe.First == nil {
				s.o.first = pe
			}
		}
	case s.ctx.Err() != nil:
		s.o.canceled = true // the client went away: nothing to log
	default:
		s.o.internal = err
	}
}

// reject counts n samples dropped for reason (the series' labels, say)
// and keeps err when it is the request's first problem.
func (s *sink) reject(reason string, n int, err error) {
	if n > 0 {
		s.st.Reject("samples", reason, uint64(n))
		s.o.dropped += n
	}
	if s.o.first == nil {
		s.o.first = err
	}
}

// rejectLine counts an import line rejected whole for reason.
func (s *sink) rejectLine(reason string, err error) {
	s.st.Reject("lines", reason, 1)
	s.o.badLines++
	if s.o.first == nil {
		s.o.first = err
	}
}

// begin starts a series whose normalized labels are ls and key
// prefix+raw; add gives its points, end closes it. (Methods rather than a
// callback: a closure per series was two allocations per series.)
func (s *sink) begin(ls tsdb.Labels, prefix string, raw []byte, copyStrings bool) {
	b := s.b
	s.nl, s.nk, s.ns = len(b.labels), len(b.keys), len(b.strs)
	if inArena(b.labels, ls) {
		s.nl -= len(ls)
	}
	b.setSeries(ls, prefix, raw, copyStrings)
	s.added = 0
}

// add adds one point of the current series, writing the batch first when
// it is full. It reports false when the request must stop.
func (s *sink) add(t int64, v float64) bool {
	if s.b.full() {
		if !s.flush() {
			return false
		}
		s.b.again()
	}
	s.b.add(t, v)
	s.added++
	return true
}

// end closes the current series. It reports false when the request must
// stop.
func (s *sink) end() bool {
	b := s.b
	s.o.samples += s.added
	if s.added == 0 && len(b.labels) >= s.nl { // nothing refers to the series: take it back
		b.labels, b.keys, b.strs = b.labels[:s.nl], b.keys[:s.nk], b.strs[:s.ns]
	}
	return !s.o.stopped()
}
