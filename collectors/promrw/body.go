package promrw

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"outpost/collectors"
)

// reservation is what one request holds of the in-flight budget; release
// gives all of it back.
type reservation struct {
	b *collectors.Budget
	n int64
}

// take reserves n more bytes if they fit now, and reports whether they did.
// It never waits: a request that does not fit is answered 503 at once.
func (r *reservation) take(n int64) bool {
	if n <= 0 {
		return true
	}
	if !r.b.TryAcquire(n) {
		return false
	}
	r.n += n
	return true
}

// give gives n of the reserved bytes back early.
func (r *reservation) give(n int64) {
	n = min(n, r.n)
	if n > 0 {
		r.b.Release(n)
		r.n -= n
	}
}

// release gives back everything still reserved.
func (r *reservation) release() { r.give(r.n) }

// errOverloaded stops reading a body whose next part does not fit the
// in-flight budget (503).
var errOverloaded = errors.New("no room in the in-flight budget")

// firstRead is how much of a body of unknown length is read at first; the
// buffer doubles from there, reserving as it grows.
const firstRead = 64 << 10

// readBody reads a whole remote write body of at most limit bytes into a
// pooled buffer; length is its Content-Length (-1 when unknown), whose
// bytes the caller has reserved (firstRead when unknown). A body of unknown
// length grows its buffer by doubling, reserving each growth first. The
// error wraps ErrTooLarge, errOverloaded or ErrBadBody.
func (h *Handler) readBody(body io.Reader, length, limit int64, res *reservation) ([]byte, error) {
	size := length
	if size < 0 {
		size = min(firstRead, limit)
	}
	buf := h.getBuf(int(size))
	n := 0
	for {
		m, err := io.ReadFull(body, buf[n:])
		n += m
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return buf[:n], nil
		case err != nil:
			return buf[:n], readError(err, limit)
		}
		var one [1]byte
		m, err = io.ReadFull(body, one[:])
		switch {
		case err == io.EOF:
			return buf[:n], nil
		case err != nil:
			return buf[:n], readError(err, limit)
		case int64(n) >= limit:
			return buf[:n], fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
		}
		grown := min(2*int64(len(buf))+1, limit)
		if !res.take(grown) {
			return buf[:n], errOverloaded
		}
		nb := h.getBuf(int(grown))
		copy(nb, buf[:n])
		nb[n] = one[0]
		n += m
		h.putBuf(buf)
		res.give(int64(len(buf)))
		buf = nb
	}
}

// readError classifies an error of reading a body.
func readError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: over %d bytes", ErrTooLarge, min(limit, mbe.Limit))
	}
	return fmt.Errorf("%w: read: %w", ErrBadBody, err)
}
