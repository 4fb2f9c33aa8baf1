package promrw

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"

	"outpost/tsdb"
)

// ImportRequestBytes is what one import request reserves of
// promrw.max_inflight_bytes with lines of at most maxLine bytes: its line
// window, the values and timestamps of one line, a line's unescaped
// strings and one batch of points.
func ImportRequestBytes(maxLine int) int64 {
	return int64(maxLine + 16*MaxLineSamples + maxMetricBytes + batchReserve + gzipReserve)
}

// gzipReserve is what a gzip reader holds (its window and tables).
const gzipReserve = 64 << 10

// Import serves POST /api/v1/import: VictoriaMetrics' JSON lines, as
// /api/v1/export writes them, plain or gzipped (Content-Encoding: gzip).
// The body is read line by line as it arrives and written batch by batch,
// so a request holds one line window and one batch however long it is.
// See doc.go for the answers.
func (h *Handler) Import(w http.ResponseWriter, r *http.Request) {
	gz := false
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz = true
	default:
		h.fail(w, http.StatusUnsupportedMediaType,
			fmt.Sprintf("%s: Content-Encoding %q (use gzip or identity)", ErrUnsupportedMedia, enc))
		return
	}
	res := reservation{b: h.inflight}
	defer res.release()
	if !res.take(ImportRequestBytes(h.cfg.ImportMaxLineBytes)) {
		h.imStats.Reject("requests", "overloaded", 1)
		h.respond(w, outcome{overload: true})
		return
	}
	var src io.Reader = &limitedBody{r: r.Body, limit: h.opts.MaxBodyBytes}
	if gz {
		zr, err := gzip.NewReader(src)
		if err != nil {
			h.failBody(w, h.imStats, readError(gzipError{err}, h.opts.MaxBodyBytes))
			return
		}
		defer zr.Close()
		src = gzipReader{zr}
	}
	cr := &countingReader{r: src}
	br := h.getReader()
	defer h.putReader(br)
	br.Reset(cr)
	o := h.importLines(tsdb.WithWriteWait(r.Context(), overloadWait), br)
	h.imStats.Bytes.Add(uint64(cr.n))
	h.respond(w, o)
}

// importLines reads and writes the lines of a body until its end, or
// until the store or the body fails.
func (h *Handler) importLines(ctx context.Context, br *bufio.Reader) outcome {
	s := h.newSink(ctx, h.imStats)
	defer s.release()
	s.o.imported = true
	l, _ := h.lines.Get().(*ImportLine)
	if l == nil {
		l = new(ImportLine)
	}
	defer h.lines.Put(l)
	for n := 1; ; n++ {
		line, long, err := readLine(br)
		if err != nil {
			s.o.body = readError(err, h.opts.MaxBodyBytes)
			break
		}
		if line == nil && !long {
			break // the end of the body
		}
		if !h.importLine(s, l, n, line, long) {
			break
		}
		s.done = n
	}
	s.flush()
	return s.o
}

// importLine writes one line (without its '\n'). It reports false when
// the request must stop.
func (h *Handler) importLine(s *sink, l *ImportLine, n int, line []byte, long bool) bool {
	if long {
		s.rejectLine("too_long", &LineError{Line: n, Text: lineText(line),
			Err: fmt.Errorf("longer than %d bytes (promrw.import_max_line_bytes)", h.cfg.ImportMaxLineBytes)})
		return true
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return true
	}
	if err := ParseImportLine(line, l); err != nil {
		s.rejectLine("parse", &LineError{Line: n, Text: lineText(line), Err: err})
		return true
	}
	ls, err := Normalize(l.Labels)
	if err != nil {
		s.reject("invalid_series", len(l.Values), seriesError(fmt.Sprintf("line %d", n), ls, err))
		return true
	}
	s.begin(ls, importKeyPrefix, l.Metric, true)
	for i, v := range l.Values {
		if !s.add(l.Timestamps[i], v) {
			break
		}
	}
	return s.end()
}

// readLine returns the next line of br without its '\n', or nil at the end
// of the body. A line longer than br's buffer is read past and returned
// with long set, holding only its start. The line is valid until the next
// call.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	line, err = br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		start := lineText(line) // copied: the window moves on
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, true, err
		}
		return []byte(start), true, nil
	}
	switch {
	case err == io.EOF && len(line) == 0:
		return nil, false, nil
	case err != nil && err != io.EOF:
		return nil, false, err
	}
	return bytes.TrimSuffix(line, []byte{'\n'}), false, nil
}

// gzipReader marks the errors of reading a gzipped body as gzip's.
type gzipReader struct{ r io.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError{err}
	}
	return n, err
}

// gzipError is an error of reading a gzipped body: the stream is broken,
// or the body under it failed (the latter keeps its own type for
// errors.As).
type gzipError struct{ err error }

func (e gzipError) Error() string { return "gzip: " + strings.TrimPrefix(e.err.Error(), "gzip: ") }
func (e gzipError) Unwrap() error { return e.err }

// limitedBody reads at most limit bytes of a body and then fails with an
// *http.MaxBytesError, as the server's own limit does.
type limitedBody struct {
	r     io.Reader
	n     int64 // bytes read
	limit int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 && err != nil {
			return 0, err
		}
		return 0, &http.MaxBytesError{Limit: l.limit}
	}
	if int64(len(p)) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
