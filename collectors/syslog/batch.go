package syslog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	store "outpost/tsdb/events"
)

// summaryEvery is the period of the rejection summary in the log.
const summaryEvery = time.Minute

// batchLoop appends queued events in batches of at most BatchSize, each
// BatchDelay after its first event at the latest, until the queue is
// closed and drained. The appends outlive ctx (its values, not its
// cancellation), so the last batches are stored at shutdown.
func (l *Listener) batchLoop(ctx context.Context) {
	actx := context.WithoutCancel(ctx)
	batch := make([]store.Event, 0, l.opts.BatchSize)
	var held int64
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			l.append(actx, batch)
		}
		l.queued.Release(held)
		batch, held = batch[:0], 0
	}
	for {
		select {
		case q, ok := <-l.queue:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(l.opts.BatchDelay)
			}
			batch = append(batch, q.ev)
			held += q.size
			if len(batch) >= l.opts.BatchSize {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// append stores one batch; a failure drops it, counted (lines,
// "store_error") and shown in the next summary.
func (l *Listener) append(ctx context.Context, batch []store.Event) {
	res, err := l.st.Append(ctx, batch)
	if err != nil {
		l.stats.Reject("lines", "store_error", uint64(len(batch)))
		l.noteExample("", fmt.Errorf("append %d syslog events: %w", len(batch), err))
		return
	}
	l.stats.Samples.Add(uint64(res.Stored))
}

// summaryLoop logs, at most once a minute, what was refused since the
// last summary, with the first example, so that a bad sender shows in
// the log without a line per bad input.
func (l *Listener) summaryLoop(ctx context.Context) {
	t := time.NewTicker(summaryEvery)
	defer t.Stop()
	last := map[string]uint64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var parts []string
		cur := map[string]uint64{}
		for _, r := range l.stats.Rejections() {
			k := r.What + "/" + r.Reason
			cur[k] = r.N
			if d := r.N - last[k]; d > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", k, d))
			}
		}
		last = cur
		ex := l.example.Swap(nil)
		if len(parts) == 0 && ex == nil {
			continue
		}
		slices.Sort(parts)
		example := ""
		if ex != nil {
			example = *ex
		}
		l.log.Warn("syslog input rejected", "rejected", strings.Join(parts, " "), "example", example, "period", summaryEvery.String())
	}
}
