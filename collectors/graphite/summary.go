package graphite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"outpost/collectors"
)

// summaryLoop logs, at most once per l.summaryEvery (a minute), what was rejected since
// the last summary, with the first example, so that bad senders show up in
// the log without a line per bad input. NaN values are left out: collectd
// sends them as a matter of course.
func (l *Listener) summaryLoop(ctx context.Context) {
	t := time.NewTicker(l.summaryEvery)
	defer t.Stop()
	last := rejectCounts(l.stats)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := rejectCounts(l.stats)
		var parts []string
		for k, n := range cur {
			if d := n - last[k]; d > 0 && !strings.HasSuffix(k, "/nan") {
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
		l.log.Warn("graphite input rejected", "rejected", strings.Join(parts, " "), "example", example, "period", l.summaryEvery.String())
	}
}

// rejectCounts snapshots the rejection counters as "what/reason" -> n.
func rejectCounts(s *collectors.Stats) map[string]uint64 {
	m := make(map[string]uint64)
	for _, r := range s.Rejections() {
		m[r.What+"/"+r.Reason] = r.N
	}
	return m
}

// noteError records an error of the listener itself (accept, UDP read) for
// the next summary.
func (l *Listener) noteError(op string, err error) {
	l.noteExample(op, err)
}
