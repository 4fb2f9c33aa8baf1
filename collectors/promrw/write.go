package promrw

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"

	"outpost/collectors"
	"outpost/tsdb"
)

// overloadWait is how long one request's batches may wait in all for a
// store write slot before the request is answered 503 (tsdb.WithWriteWait).
const overloadWait = time.Second

// Write serves POST /api/v1/write: a Prometheus remote write 1.0 request,
// a snappy-compressed (block format) protobuf WriteRequest. See doc.go for
// the answers.
func (h *Handler) Write(w http.ResponseWriter, r *http.Request) {
	if err := checkWriteHeaders(r.Header); err != nil {
		h.fail(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	limit := min(h.opts.MaxBodyBytes, int64(snappy.MaxEncodedLen(int(h.cfg.MaxDecodedBytes))))
	if r.ContentLength > limit {
		h.failBody(w, h.rwStats, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, limit))
		return
	}
	// Admission before allocation: what the body and a batch will take is
	// reserved before a byte is read, and refused at once when it does not
	// fit.
	res := reservation{b: h.inflight}
	defer res.release()
	first := r.ContentLength
	if first < 0 {
		first = min(firstRead, limit)
	}
	if !res.take(int64(batchReserve) + first) {
		h.rwStats.Reject("requests", "overloaded", 1)
		h.respond(w, outcome{overload: true})
		return
	}
	body, err := h.readBody(r.Body, r.ContentLength, limit, &res)
	defer func() { h.putBuf(body) }()
	if err != nil {
		h.failBody(w, h.rwStats, err)
		return
	}
	dec, err := h.decompress(body, &res)
	if err != nil {
		h.failBody(w, h.rwStats, err)
		return
	}
	defer h.putBuf(dec) // after every Write: label strings point into dec
	h.putBuf(body)
	res.give(int64(len(body)))
	body = nil
	h.rwStats.Bytes.Add(uint64(len(dec)))
	if err := checkRequest(dec); err != nil {
		h.failBody(w, h.rwStats, fmt.Errorf("%w: %w", ErrBadBody, err))
		return
	}
	ctx := tsdb.WithWriteWait(r.Context(), overloadWait)
	if r.Header.Get(forwardedHeader) != "" {
		ctx = context.WithValue(ctx, forwardedKey{}, true) // stored, not forwarded again
	}
	h.respond(w, h.writeRequest(ctx, dec))
}

// checkWriteHeaders refuses what is not remote write 1.0: a
// Content-Encoding other than snappy, a Content-Type other than
// application/x-protobuf (with no proto parameter, or 1.0's
// prometheus.WriteRequest), a version header other than 0.1.x. Missing
// headers are taken as 1.0's.
func checkWriteHeaders(hd http.Header) error {
	if enc := hd.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		return fmt.Errorf("%w: Content-Encoding %q (remote write is snappy-compressed)", ErrUnsupportedMedia, enc)
	}
	if ct := hd.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			return fmt.Errorf("%w: Content-Type %q (remote write is application/x-protobuf)", ErrUnsupportedMedia, ct)
		}
		if p, ok := params["proto"]; ok && p != "prometheus.WriteRequest" {
			return fmt.Errorf("%w: Content-Type %q: only remote write 1.0 (prometheus.WriteRequest) is supported", ErrUnsupportedMedia, ct)
		}
	}
	if v := hd.Get("X-Prometheus-Remote-Write-Version"); v != "" && !strings.HasPrefix(v, "0.1.") {
		return fmt.Errorf("%w: X-Prometheus-Remote-Write-Version %q: only remote write 1.0 (0.1.0) is supported", ErrUnsupportedMedia, v)
	}
	return nil
}

// decompress checks the decompressed length in the snappy header against
// promrw.max_decoded_bytes, reserves it, and decompresses body into a
// pooled buffer.
func (h *Handler) decompress(body []byte, res *reservation) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %w", ErrBadBody, err)
	}
	if int64(n) > h.cfg.MaxDecodedBytes {
		return nil, fmt.Errorf("%w: %d bytes after snappy decompression, the limit is %d (promrw.max_decoded_bytes)",
			ErrTooLarge, n, h.cfg.MaxDecodedBytes)
	}
	if !res.take(int64(n)) {
		return nil, errOverloaded
	}
	dec := h.getBuf(n)
	out, err := snappy.Decode(dec, body)
	if err != nil {
		h.putBuf(dec)
		return nil, fmt.Errorf("%w: snappy: %w", ErrBadBody, err)
	}
	return out, nil
}

// checkRequest walks the whole request once before anything is written,
// so that a malformed one is refused whole, as Prometheus refuses it.
func checkRequest(b []byte) error {
	req := NewRequest(b)
	var scratch tsdb.Labels
	for ts, ok := req.Next(); ok; ts, ok = req.Next() {
		var err error
		if scratch, _, err = ts.Labels(scratch[:0]); err == nil {
			_, _, err = ts.Samples(func(int64, float64) bool { return true })
		}
		if err != nil {
			return fmt.Errorf("timeseries %d: %w", ts.Index, err)
		}
	}
	return req.Err()
}

// writeRequest writes the series of a decoded request that checkRequest
// passed.
func (h *Handler) writeRequest(ctx context.Context, dec []byte) outcome {
	s := h.newSink(ctx, h.rwStats)
	defer s.release()
	req := NewRequest(dec)
	for ts, ok := req.Next(); ok; ts, ok = req.Next() {
		if !h.writeSeries(s, ts) {
			break
		}
	}
	s.flush() // metadata (types, help texts) is passed over: outpost keeps none
	return s.o
}

// writeSeries adds one series to the sink. It reports false when the
// request must stop.
func (h *Handler) writeSeries(s *sink, ts TimeSeries) bool {
	b := s.b
	start := len(b.labels)
	all, raw, _ := ts.Labels(b.labels) // checkRequest passed: no error
	ls, err := Normalize(all[start:])
	b.labels = all[:start+len(ls)]
	if err != nil {
		b.labels = b.labels[:start]
		n, _, hist := countSamples(ts)
		if n+hist > 0 {
			s.reject("invalid_series", n+hist, seriesError("series "+strconv.Itoa(ts.Index), ls, err))
		}
		return true
	}
	s.begin(ls, remoteWriteKeyPrefix, raw, false)
	exemplars, hist, _ := ts.Samples(s.add)
	ok := s.end()
	if exemplars > 0 {
		s.st.Reject("exemplars", "unsupported", uint64(exemplars))
	}
	if hist > 0 {
		s.reject("histogram", hist, seriesError("series "+strconv.Itoa(ts.Index), ls,
			fmt.Errorf("%w: %d histogram samples dropped", ErrHistogram, hist)))
	}
	return ok
}

// countSamples counts the samples, exemplars and histograms of ts.
func countSamples(ts TimeSeries) (samples, exemplars, histograms int) {
	exemplars, histograms, _ = ts.Samples(func(int64, float64) bool { samples++; return true })
	return samples, exemplars, histograms
}

// failBody answers a body that could not be read or decoded.
func (h *Handler) failBody(w http.ResponseWriter, st *collectors.Stats, err error) {
	switch {
	case errors.Is(err, errOverloaded):
		st.Reject("requests", "overloaded", 1)
		h.respond(w, outcome{overload: true})
	case errors.Is(err, ErrTooLarge):
		st.Reject("requests", "too_large", 1)
		h.fail(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, ErrUnsupportedMedia):
		h.fail(w, http.StatusUnsupportedMediaType, err.Error())
	default:
		st.Reject("requests", "bad_body", 1)
		h.fail(w, http.StatusBadRequest, err.Error())
	}
}
