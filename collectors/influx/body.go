package influx

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// openBody checks a request's Content-Length and Content-Encoding and
// returns the reader of its body: the bytes on the wire capped at
// MaxBodyBytes (limitBody), inflated when the body is gzipped. The caller caps
// the bytes after decompression (lineReader) and calls done when it has
// finished reading. The body itself is read later, window by window, so a
// gzip bomb costs one window, never MaxBodyBytes.
func (h *Handler) openBody(w http.ResponseWriter, r *http.Request) (src io.Reader, gz bool, done func(), err error) {
	limit := h.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, false, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	src = &limitBody{r: r.Body, left: limit, limit: limit}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return src, false, func() {}, nil
	case "gzip", "x-gzip":
		zr, err := h.gzipReader(src)
		if err != nil {
			return nil, false, nil, readError(err, limit, true)
		}
		return zr, true, func() { h.gzips.Put(zr) }, nil
	default:
		return nil, false, nil, fmt.Errorf("%w %q (use gzip or identity)", ErrUnsupportedEncoding, enc)
	}
}

// readError classifies an error of reading the body; gz tells whether it
// was sent gzipped.
func readError(err error, limit int64, gz bool) error {
	var mbe *http.MaxBytesError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: the limit is %d bytes", ErrBodyTooLarge, limit)
	case gz && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return fmt.Errorf("%w: %w", ErrInvalidGzip, err)
	}
	return fmt.Errorf("read request body: %w", err)
}

// failBody answers a body that could not be read.
func (h *Handler) failBody(w http.ResponseWriter, v api, err error) {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		h.stats.Reject("requests", "too_large", 1)
		h.fail(w, v, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, ErrUnsupportedEncoding):
		h.fail(w, v, http.StatusUnsupportedMediaType, err.Error())
	default: // invalid gzip, or the client broke off the upload
		h.stats.Reject("requests", "bad_body", 1)
		h.fail(w, v, http.StatusBadRequest, err.Error())
	}
}

// limitBody reads at most limit bytes of a body and then fails with an
// *http.MaxBytesError, as http.MaxBytesReader does, but without telling
// the server the request was too large: that would make it close the
// connection at once, and a client still sending the rest of its body
// would see a reset instead of its 413. answerEarly drops what is left
// and closes the connection only past its own bounds.
type limitBody struct {
	r           io.Reader
	left, limit int64
}

func (l *limitBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 && err != nil {
			return 0, err // io.EOF: the body was exactly the limit
		}
		return 0, &http.MaxBytesError{Limit: l.limit}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
