package graphite

import (
	"bytes"
	"context"
	"time"
	"unsafe"

	"outpost/collectors"
	"outpost/tsdb"
)

// What the streams (the TCP connections and the UDP socket) charge to
// graphite.max_inflight_bytes, and how they take it. A stream reserves
// before it allocates: a big read buffer before it reads into it, room in
// its batch before a point, the bound of a line's labels
// before they are built (see Parser.mappingBound). A connection reading
// into its small buffer with no batch (see lineBuf) holds nothing of it.
const (
	pointBytes = int64(unsafe.Sizeof(tsdb.Point{})) // 64 on 64-bit platforms
	labelBytes = int64(unsafe.Sizeof(tsdb.Label{})) // 32
	// grantBytes is the least a stream takes from the budget at a time, so
	// that a steady sender asks it once per few hundred lines, not per line.
	// A connection keeps one grant with its big read buffer, so it can
	// always go on by writing its own batch.
	grantBytes = 64 << 10
	// minBatchCap is the first capacity of a batch; it doubles up to
	// graphite.batch_size, each step charged before it is allocated.
	minBatchCap = 64
	// budgetWait bounds how long a TCP connection waits for the budget,
	// not reading its socket meanwhile (the sender slows down through TCP),
	// before it is closed and what it had read is counted as rejected.
	budgetWait = 10 * time.Second
	// holdCheck is how often a stream that holds some of the budget comes
	// back from a read that waits for data, to write its batch and give
	// the budget back when others wait for it: a connection that went
	// silent holding a batch, or its read buffer, keeps them at most this
	// long once the budget is contended.
	holdCheck = 100 * time.Millisecond
	// maxScratchElems is the most path elements a decoder's scratch keeps
	// between lines; a longer path's scratch is dropped after use.
	maxScratchElems = 256
)

// DefaultMaxInflightBytes is the default of graphite.max_inflight_bytes,
// what the connections of the listener and its UDP socket may hold at once:
// read buffers, batches of points and their labels. 32 MiB holds about 20
// batches of 10,000 points at once, or 250 connections reading; see the
// package comment for what happens past it.
const DefaultMaxInflightBytes = 32 << 20

// minInflightBytes is the least graphite.max_inflight_bytes may be with
// lines of at most maxLine bytes: what one connection needs to take in one
// such line (its read buffer grown to the line, the labels of a line as
// dense as ";a=b;c=d..." (a 32-byte label per 4 bytes of line, plus the
// strings), a grant for the batch), and as much again for the UDP socket.
func minInflightBytes(maxLine int) int64 {
	return 2 * (int64(maxLine+1) + 10*int64(maxLine) + 2*grantBytes)
}

// account is what one stream holds of the listener's budget (held) and
// what it uses of that (used): its big read buffer, if it has one (see
// lineBuf), its batch's array and the labels of the batch's points. used never exceeds
// held; what is held but not used is headroom reserved for the next line.
// An account belongs to its stream's goroutine.
type account struct {
	b      *collectors.Budget
	held   int64
	used   int64
	waited time.Duration // time spent waiting for the budget, until serveConn excuses it
}

// reserve makes sure the account holds n bytes more than it uses, taking
// what is missing from the budget, at least a grant at a time when that
// fits. With wait it waits in turn for the bytes, at most budgetWait and
// until ctx is done; without, it only takes what is free now. It reports
// whether the bytes are there.
func (a *account) reserve(ctx context.Context, n int64, wait bool) bool {
	if a.used+n <= a.held {
		return true // the common case, inlined
	}
	return a.reserveMore(ctx, a.used+n-a.held, wait)
}

// reserveMore takes need bytes, or more, from the budget (see reserve).
func (a *account) reserveMore(ctx context.Context, need int64, wait bool) bool {
	if g := max(need, grantBytes); a.b.TryAcquire(g) {
		a.held += g
		return true
	}
	if need < grantBytes && a.b.TryAcquire(need) {
		a.held += need
		return true
	}
	if !wait || ctx == nil {
		return false
	}
	// A full grant when it fits the budget: after a wait, the next few
	// hundred lines should not wait again.
	g := max(need, min(grantBytes, a.b.Max()))
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, budgetWait)
	err := a.b.Acquire(wctx, g)
	cancel()
	a.waited += time.Since(start)
	if err != nil {
		return false
	}
	a.held += g
	return true
}

// charge records n bytes used, which reserve made room for.
func (a *account) charge(n int64) {
	a.used += n
	if a.used > a.held {
		panic("graphite: budget charge without a reservation")
	}
}

// uncharge records n bytes no longer used.
func (a *account) uncharge(n int64) { a.used -= n }

// trim gives back to the budget what the account holds beyond what it uses
// or keep, whichever is more.
func (a *account) trim(keep int64) {
	if extra := a.held - max(a.used, keep); extra > 0 {
		a.b.Release(extra)
		a.held -= extra
	}
}

// labelsBytes is what a point's labels are charged: their array and their
// strings. Labels shared with the series cache or with other points are
// charged to each point that holds them: an upper bound of what the batch
// keeps alive, which stays true when the cache lets them go.
func labelsBytes(ls tsdb.Labels) int64 {
	n := labelBytes * int64(len(ls))
	for _, l := range ls {
		n += int64(len(l.Name) + len(l.Value))
	}
	return n
}

// mappingBound bounds what resolving path allocates: the copy of the path,
// the label array (the metric name, graphite.tags, a template's tags and
// tag parts, one label per ";"), and with templates the elements' scratch
// and the joined measurement, field, metric name and label values (each at
// most the path's elements joined with the separator). The series cache's
// own copy of the path is the cache's, bounded by cacheBytes.
func (p *Parser) mappingBound(path []byte) int64 {
	l := int64(len(path))
	labels := int64(p.fixedLabels + bytes.Count(path, []byte{';'}))
	n := l + labelBytes*labels
	if len(p.ts.list) > 0 {
		elems := int64(bytes.Count(path, []byte{'.'}) + 1)
		joined := l + elems*int64(p.maxSep)
		n += 16*elems + 4*joined
	}
	return n
}

// overBudget counts n lines dropped because the budget had no room for
// them.
func (l *Listener) overBudget(n int) {
	if n > 0 {
		l.stats.Reject("lines", "over_budget", uint64(n))
	}
}

// countLines returns how many lines b holds, a last one without "\n"
// included.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// getBuf returns a read buffer of size bytes, pooled when it is the usual
// readBufSize. The caller has charged it to the budget.
func (l *Listener) getBuf(size int) []byte {
	if size == readBufSize {
		if b, ok := l.bufs.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, size)
}

// putBuf returns a read buffer that is no longer used to the pool.
func (l *Listener) putBuf(b []byte) {
	if len(b) == readBufSize {
		l.bufs.Put(&b)
	}
}

// Inflight returns the state of graphite.max_inflight_bytes: its size, the
// bytes held now, the most ever held at once, and how many reservations
// waited.
func (l *Listener) Inflight() collectors.BudgetUsage { return l.inflight.Usage() }
