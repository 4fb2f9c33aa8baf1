package influx

import (
	"context"
	"errors"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// udpBatch is the points of some datagrams, waiting to be written. Their
// label arrays are slices of labels, copied out of the Parser's arena.
type udpBatch struct {
	pts    []tsdb.Point
	labels []tsdb.Label
	first  time.Time // when the first point arrived
}

// add copies pts into the batch. Growing labels leaves the earlier points
// on the old array, which nothing changes any more.
func (b *udpBatch) add(pts []tsdb.Point) {
	if len(b.pts) == 0 {
		b.first = time.Now()
	}
	for _, p := range pts {
		start := len(b.labels)
		b.labels = append(b.labels, p.Labels...)
		end := len(b.labels)
		b.pts = append(b.pts, tsdb.Point{Labels: b.labels[start:end:end], T: p.T, V: p.V})
	}
}

// full reports whether the batch has n points or maxBatchBytes of points
// and labels, and must be handed to the writer.
func (b *udpBatch) full(n int) bool {
	return len(b.pts) >= n || len(b.pts)*pointBytes+len(b.labels)*labelBytes >= maxBatchBytes
}

// reset empties the batch, dropping its references to label strings.
func (b *udpBatch) reset() {
	clear(b.pts)
	clear(b.labels)
	b.pts, b.labels = b.pts[:0], b.labels[:0]
}

// writeLoop writes the batches the reader hands over, in order, and gives
// each back emptied. It returns when the reader has closed full.
func (l *UDPListener) writeLoop(ctx context.Context, full <-chan *udpBatch, free chan<- *udpBatch) {
	for b := range full {
		l.write(ctx, b.pts)
		b.reset()
		free <- b // never blocks: free has room for every batch
	}
}

// write stores pts, retrying with growing pauses while the store refuses
// writes for now (collectors.Retryable), and counts what was written and
// what was dropped, by reason.
// After ctx is cancelled it still writes, with a detached context bounded by
// udpShutdownFlush, so that stopping the listener keeps what it received.
func (l *UDPListener) write(ctx context.Context, pts []tsdb.Point) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), udpShutdownFlush)
		defer cancel()
	}
	err := collectors.Store(ctx, l.w, l.stats, pts, collectors.Retry{Tries: udpWriteRetries + 1, Pause: udpFirstPause})
	var pwe *tsdb.PartialWriteError
	if err != nil && (!errors.As(err, &pwe) || pwe.Dropped > 0) {
		l.noteReject(err)
	}
}

// noteReject logs err at most once per udpLogEvery, with the number of
// rejections not logged since; the others are only counted. It is safe for
// concurrent use (the reader and the writer both call it).
func (l *UDPListener) noteReject(err error) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(udpLogEvery) || !l.lastLog.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	l.log.Warn("line protocol over udp rejected", "err", err, "suppressed", l.suppressed.Swap(0),
		"period", udpLogEvery.String())
}
