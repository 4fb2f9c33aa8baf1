package influx

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
	"unsafe"

	"outpost/tsdb"
)

// What one write request may hold while its body is parsed. A request
// reserves RequestBytes of influx.max_inflight_bytes before it reads a byte
// of its body, so the write path as a whole never holds more than that
// budget, whatever the bodies unpack to (issue 8: 60 gzip bodies of 64 KB
// that unpack to 63 MiB each took 5.7 GiB when bodies were read whole).
const (
	// maxBatchBytes ends a batch once its points, label arrays, series keys
	// and strings take this much, even short of BatchPoints: a batch of
	// Telegraf's points (4 labels) stops near 4,000 points, one of lpload's
	// cpu lines (13 labels) near 1,500.
	maxBatchBytes = 1 << 20
	// maxLineMapped rejects a line whose points would take more than this:
	// fields × tags grows quadratically, and one 256 KiB line of 20,000
	// tags and 20,000 fields would otherwise map to 12 GiB of labels.
	maxLineMapped = 512 << 10
	// maxCacheBytes stops caching a body's tag sets and metric names (their
	// strings, templates and map entries) once they take this much.
	maxCacheBytes = 512 << 10
	// minWindow is the smallest read window (see windowBytes).
	minWindow = 64 << 10

	pointBytes = int(unsafe.Sizeof(tsdb.Point{})) // 64 on 64-bit platforms
	labelBytes = int(unsafe.Sizeof(tsdb.Label{})) // 32
	// cacheEntryBytes is what one cached tag set or name costs besides its
	// strings and labels: the map entry and the slice header.
	cacheEntryBytes = 64
)

// overloadWait is how long one request's batches may wait in all for a
// store write slot before the request is answered 503 (tsdb.WithWriteWait).
const overloadWait = time.Second

// Bounds on reading and dropping what is left of a body after an early
// answer (answerEarly).
const (
	maxDropBytes = 1 << 20
	dropWait     = time.Second
)

// answerEarly sends an answer before the request's body was read to its
// end: refused at admission, or stopped midway (413, the store overloaded).
// The answer leaves at once, whatever the client is still sending (HTTP/1
// full duplex; net/http alone would first read up to 256 KiB of the body,
// and a client pausing mid-body would wait for its 503). Then the rest of
// the body, up to maxDropBytes within dropWait, is read and dropped: so a
// client that reads its answer only once it has sent its body gets it
// rather than a reset connection.
//
// The connection is closed after such an answer in every case: a client
// that got its answer before it finished sending cannot tell what the
// server read, and Go's client (Telegraf's) would otherwise reuse the
// connection and see EOF on its next request.
func answerEarly(w http.ResponseWriter, r *http.Request, answer func()) {
	closeAfter(w)
	rc := http.NewResponseController(w)
	if rc.EnableFullDuplex() != nil { // not HTTP/1: the body need not be read
		closeAfter(w)
		answer()
		return
	}
	answer()
	if rc.Flush() != nil || rc.SetReadDeadline(time.Now().Add(dropWait)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, r.Body, maxDropBytes) // what is left unread closes the connection
}

// closeAfter makes the server close the connection after the answer.
func closeAfter(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

// windowBytes is the read window of a request body: whole lines are parsed
// from it as the body arrives, and a line longer than maxLine is dropped
// without being held. Twice the longest line, so that a window holds at
// least one line after the part of a line carried over from the last.
func windowBytes(maxLine int) int {
	return max(minWindow, 2*maxLine)
}

// RequestBytes is what one write request reserves of
// influx.max_inflight_bytes before reading its body, with lines of at most
// maxLine bytes: its read window, two batches of parsed points (the one
// being written and the one being parsed, each at most maxBatchBytes plus
// one line's maxLineMapped) and the body's caches. With the default
// max_line_bytes (256 KiB) that is 4 MiB.
func RequestBytes(maxLine int) int64 {
	return int64(windowBytes(maxLine) + 2*(maxBatchBytes+maxLineMapped) + maxCacheBytes)
}

// budget is a count of bytes that requests reserve and give back; a
// reservation that does not fit is refused at once, never waited for, so
// an overloaded server answers in microseconds. It is safe for concurrent
// use.
type budget struct {
	max  int64
	used atomic.Int64
}

// tryAcquire reserves n bytes and reports whether they fit.
func (b *budget) tryAcquire(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives back n bytes reserved by tryAcquire.
func (b *budget) release(n int64) { b.used.Add(-n) }
