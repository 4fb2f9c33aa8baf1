package collectd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// worker parses queued datagrams and writes their points in batches. Each
// worker owns its Parser, mapper and batch; only the Listener's Stats,
// auth file and lastErr are shared.
type worker struct {
	l     *Listener
	p     *Parser
	m     *mapper
	pts   []tsdb.Point // the batch being filled
	drops drops        // samples dropped while naming, reported per packet
	nowMs int64        // receive time of the datagram being parsed
	emit  func(*ValueList)
}

func newWorker(l *Listener) *worker {
	w := &worker{
		l:     l,
		p:     NewParser(l.level, l.auth),
		m:     newMapper(l.types),
		pts:   make([]tsdb.Point, 0, l.cfg.BatchSize),
		drops: make(drops),
	}
	w.emit = w.add // bound once, so parsing a packet does not allocate a closure
	return w
}

// run handles datagrams until the queue is closed and drained, flushing the
// batch when it is full and at every FlushInterval tick.
func (w *worker) run(ctx context.Context) {
	tick := time.NewTicker(w.l.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case d, ok := <-w.l.queue:
			if !ok {
				w.flush(ctx)
				return
			}
			w.handle(*d)
			w.l.done(d)
			if len(w.pts) >= w.l.cfg.BatchSize {
				w.flush(ctx)
			}
		case <-tick.C:
			w.flush(ctx)
		}
	}
}

func (w *worker) add(vl *ValueList) {
	w.pts = w.m.appendPoints(w.pts, vl, w.nowMs, w.drops)
}

// handle parses one datagram into the batch and counts what it refused.
func (w *worker) handle(pkt []byte) {
	st := w.l.stats
	w.nowMs = w.l.now().UnixMilli()
	res, err := w.p.Parse(pkt, w.emit)
	if err != nil {
		st.Reject("packets", Reason(err), 1)
	}
	if res.Ignored > 0 {
		reason := "unsigned"
		if w.l.level == Encrypt {
			reason = "unencrypted"
		}
		st.Reject("packets", reason, 1)
	}
	if res.Notifications > 0 {
		st.Reject("notifications", "not_stored", uint64(res.Notifications))
	}
	for reason, n := range w.drops {
		st.Reject("samples", reason, n)
	}
	clear(w.drops)
}

// flush writes the batch, if any. Writes outlive ctx's cancellation (by at
// most writeTimeout) so that the last batches are stored at shutdown.
func (w *worker) flush(ctx context.Context) {
	if len(w.pts) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	w.l.write(wctx, w.pts)
	clear(w.pts) // drop references to label sets the cache may have let go
	w.pts = w.pts[:0]
}

// write stores pts (collectors.Store: retried briefly while the store is
// overloaded, counted by reason) and keeps a store failure for the next
// summary line.
func (l *Listener) write(ctx context.Context, pts []tsdb.Point) {
	err := collectors.Store(ctx, l.w, l.stats, pts, collectors.Retry{Tries: overloadTries, Pause: overloadPause})
	var pwe *tsdb.PartialWriteError
	if err != nil && !errors.As(err, &pwe) && !errors.Is(err, tsdb.ErrOverloaded) {
		l.noteErr(fmt.Errorf("write %d collectd samples: %w", len(pts), err))
	}
}

// summarize logs, at most once per summaryEvery, what was rejected since
// the last line, so that bad senders are visible without a line per packet.
func (l *Listener) summarize(ctx context.Context) {
	tick := time.NewTicker(summaryEvery)
	defer tick.Stop()
	last := map[string]uint64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if attrs := l.summary(last); attrs != nil {
				l.log.Warn("rejected collectd data in the last minute", attrs...)
			}
		}
	}
}

// summary returns the log attributes of the rejections since last (which
// it updates) and of the last unexpected error, or nil when there are none.
func (l *Listener) summary(last map[string]uint64) []any {
	var attrs []any
	for _, r := range l.stats.Rejections() {
		key := r.What + "_" + r.Reason
		if d := r.N - last[key]; d > 0 && r.What != "notifications" {
			attrs = append(attrs, key, d)
		}
		last[key] = r.N
	}
	l.errMu.Lock()
	if l.lastErr != nil {
		attrs = append(attrs, "err", l.lastErr)
		l.lastErr = nil
	}
	l.errMu.Unlock()
	return attrs
}
