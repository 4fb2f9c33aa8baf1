package influx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// readBody reads the request body into buf with a hard limit on both the
// bytes on the wire (http.MaxBytesReader, which also makes the server close
// the connection) and the bytes after gzip decompression, so a gzip bomb
// costs at most MaxBodyBytes of memory and is answered 413.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	limit := h.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	gz := false
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
	case "gzip", "x-gzip":
		zr, err := h.gzipReader(src)
		if err != nil {
			return readError(err, limit, true)
		}
		defer h.gzips.Put(zr)
		src, gz = zr, true
	default:
		return fmt.Errorf("%w %q (use gzip or identity)", ErrUnsupportedEncoding, enc)
	}
	_, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		return readError(err, limit, gz)
	}
	if int64(buf.Len()) > limit {
		return fmt.Errorf("%w: over %d bytes after decompression", ErrBodyTooLarge, limit)
	}
	return nil
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
