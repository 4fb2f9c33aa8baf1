package promrw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// openDB opens a real store in a temp dir.
func openDB(t testing.TB, tune func(*tsdb.Config)) *tsdb.DB {
	t.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	if tune != nil {
		tune(&cfg)
	}
	db, err := tsdb.Open(cfg, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// stored reads every series of db back: labels text -> samples, the
// values' bits kept (fmtSample).
func stored(t testing.TB, db *tsdb.DB) map[string][]string {
	t.Helper()
	ss, err := db.Select(context.Background(), tsdb.MinTime, tsdb.MaxTime, tsdb.MustNewMatcher(tsdb.MatchRegexp, tsdb.MetricName, ".+"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for ss.Next() {
		s := ss.At()
		it := s.Iterator()
		for it.Next() {
			ts, v := it.At()
			out[s.Labels.String()] = append(out[s.Labels.String()], fmtSample(ts, v))
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fmtSample writes a sample with its value's bits, so a staleness marker
// differs from another NaN.
func fmtSample(ts int64, v float64) string {
	if math.IsNaN(v) {
		return fmt.Sprintf("%d:NaN(%#x)", ts, math.Float64bits(v))
	}
	return fmt.Sprintf("%d:%g", ts, v)
}

// testServer mounts h the way main's route table does, on a real listener.
func testServer(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/write", h.Write)
	mux.HandleFunc("POST /api/v1/import", h.Import)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reply is an HTTP answer.
type reply struct {
	status int
	body   string
	header http.Header
}

// rwHeaders are the headers Prometheus sends with a remote write request.
var rwHeaders = map[string]string{
	"Content-Encoding":                  "snappy",
	"Content-Type":                      "application/x-protobuf",
	"X-Prometheus-Remote-Write-Version": "0.1.0",
	"User-Agent":                        "Prometheus/2.42.0",
}

func do(t testing.TB, url string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, string(b), resp.Header}
}

// want checks the status and that the body holds each of parts.
func (r reply) want(t testing.TB, status int, parts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %q", r.status, status, r.body)
	}
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Fatalf("body %q does not hold %q", r.body, p)
		}
	}
	if status != http.StatusNoContent && r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("Content-Type %q, want plain text", r.header.Get("Content-Type"))
	}
}

// rejections returns st's rejections as "what:reason" -> n.
func rejections(st *collectors.Stats) map[string]uint64 {
	out := make(map[string]uint64)
	for _, r := range st.Rejections() {
		out[r.What+":"+r.Reason] = r.N
	}
	return out
}

func TestHandler_Write_Stores(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{}, Options{})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	req := encodeRequest(
		series{labels: ls("job", "node", "__name__", "up", "instance", "h:9100", "empty", ""),
			samples: []tsdb.Sample{{T: now - 30000, V: 1}, {T: now - 15000, V: 0}, {T: now, V: staleNaN}}},
		series{labels: ls("__name__", "go_goroutines", "job", "node"), samples: []tsdb.Sample{{T: now, V: 42}, {T: now - 1000, V: math.NaN()}}, exemplars: 1},
		series{labels: ls("__name__", "only_metadata")},
	)
	req = appendBytesField(req, fieldMetadata, appendBytesField(nil, 4, []byte("help text")))
	do(t, srv.URL+"/api/v1/write", bytes.NewReader(compress(req)), rwHeaders).want(t, http.StatusNoContent)

	got := stored(t, db)
	want := map[string][]string{
		`up{instance="h:9100", job="node"}`: {fmtSample(now-30000, 1), fmtSample(now-15000, 0), fmtSample(now, staleNaN)},
		`go_goroutines{job="node"}`:         {fmtSample(now-1000, math.NaN()), fmtSample(now, 42)},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored\n%v\nwant\n%v", got, want)
	}
	if n := h.rwStats.Samples.Load(); n != 5 {
		t.Errorf("samples counted %d, want 5", n)
	}
	if r := rejections(h.rwStats); r["exemplars:unsupported"] != 1 || len(r) != 1 {
		t.Errorf("rejections %v, want one exemplar", r)
	}
	if u := h.Usage(); u.Used != 0 || u.Peak == 0 {
		t.Errorf("budget after the request: %+v, want all given back", u)
	}
}

func TestHandler_Write_PartialWrite(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{}, Options{})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	req := encodeRequest(
		series{labels: ls("__name__", "good", "a", "1"), samples: []tsdb.Sample{{T: now, V: 1}}},
		series{labels: ls("__name__", "dup", "a", "1", "a", "2"), samples: []tsdb.Sample{{T: now, V: 1}, {T: now + 1, V: 2}}},
		series{labels: ls("a", "no name"), samples: []tsdb.Sample{{T: now, V: 1}}},
		series{labels: ls("__name__", "old"), samples: []tsdb.Sample{{T: now - 400*24*3600*1000, V: 1}, {T: now, V: 3}}},
		series{labels: ls("__name__", "hist"), samples: []tsdb.Sample{{T: now, V: 4}}, histograms: 2},
	)
	r := do(t, srv.URL+"/api/v1/write", bytes.NewReader(compress(req)), rwHeaders)
	r.want(t, http.StatusBadRequest, `series 1 dup{a="1", a="2"}: invalid labels: label name "a" given twice`,
		"wrote 3 samples, dropped 6 samples")
	got := stored(t, db)
	if keys, want := sortedKeys(got), []string{`good{a="1"}`, `hist{}`, `old{}`}; !slices.Equal(keys, want) {
		t.Fatalf("stored %v, want %v", keys, want)
	}
	want := map[string]uint64{"samples:invalid_series": 3, "samples:out_of_bounds": 1, "samples:histogram": 2}
	if r := rejections(h.rwStats); fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("rejections %v, want %v", r, want)
	}
}

func TestHandler_Write_Refusals(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{MaxDecodedBytes: 64 << 10}, Options{MaxBodyBytes: 32 << 10})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	good := compress(encodeRequest(series{labels: ls("__name__", "m"), samples: []tsdb.Sample{{T: now, V: 1}}}))
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range rwHeaders {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	url := srv.URL + "/api/v1/write"
	do(t, url, bytes.NewReader(good), with("Content-Encoding", "gzip")).want(t, http.StatusUnsupportedMediaType, `Content-Encoding "gzip"`)
	do(t, url, bytes.NewReader(good), with("Content-Type", "application/json")).want(t, http.StatusUnsupportedMediaType, `Content-Type "application/json"`)
	do(t, url, bytes.NewReader(good), with("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")).
		want(t, http.StatusUnsupportedMediaType, "only remote write 1.0")
	do(t, url, bytes.NewReader(good), with("X-Prometheus-Remote-Write-Version", "2.0.0")).want(t, http.StatusUnsupportedMediaType, "only remote write 1.0")
	do(t, url, strings.NewReader("not snappy at all"), rwHeaders).want(t, http.StatusBadRequest, "bad request body: snappy")
	do(t, url, bytes.NewReader(compress([]byte{0x0a, 0x05, 0x01})), rwHeaders).
		want(t, http.StatusBadRequest, "bad request body: write request: field 1 at byte 0", "runs past the end")
	// The snappy header announces more than max_decoded_bytes: refused
	// before anything is decompressed.
	big := compress(make([]byte, 65<<10))
	do(t, url, bytes.NewReader(big), rwHeaders).want(t, http.StatusRequestEntityTooLarge, "after snappy decompression, the limit is 65536")
	// Over the wire limit: by Content-Length, and by what arrives without one.
	noise := make([]byte, 40<<10)
	for i := range noise {
		noise[i] = byte(i * 7919 >> 3)
	}
	do(t, url, bytes.NewReader(noise), rwHeaders).want(t, http.StatusRequestEntityTooLarge, "the limit is 32768")
	do(t, url, io.MultiReader(bytes.NewReader(noise)), rwHeaders).want(t, http.StatusRequestEntityTooLarge, "over 32768 bytes")
	// Nothing of these was written; the next good request is.
	if got := stored(t, db); len(got) != 0 {
		t.Fatalf("refused requests stored %v", got)
	}
	do(t, url, bytes.NewReader(good), map[string]string{}).want(t, http.StatusNoContent) // headers are optional
	want := map[string]uint64{"requests:bad_body": 2, "requests:too_large": 3}
	if r := rejections(h.rwStats); fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("rejections %v, want %v", r, want)
	}
	if u := h.Usage(); u.Used != 0 {
		t.Errorf("budget after the requests: %+v, want all given back", u)
	}
}

func TestHandler_Write_ChunkedBodyGrows(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{}, Options{BatchPoints: 100})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	var ss []series
	for i := range 2000 {
		pad := fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i)))) // incompressible
		ss = append(ss, series{labels: ls("__name__", "m", "i", fmt.Sprint(i), "pad", pad),
			samples: []tsdb.Sample{{T: now, V: float64(i)}, {T: now - 1, V: -float64(i)}}})
	}
	body := compress(encodeRequest(ss...))
	if len(body) < 2*firstRead {
		t.Fatalf("body of %d bytes does not make the buffer grow", len(body))
	}
	// No Content-Length: the buffer starts at 64 KiB and doubles.
	do(t, srv.URL+"/api/v1/write", io.MultiReader(bytes.NewReader(body)), rwHeaders).want(t, http.StatusNoContent)
	got := stored(t, db)
	if len(got) != 2000 {
		t.Fatalf("stored %d series, want 2000", len(got))
	}
	for k, v := range got {
		if len(v) != 2 {
			t.Fatalf("%s: %v, want 2 samples", k, v)
		}
	}
	if n := h.rwStats.Samples.Load(); n != 4000 {
		t.Fatalf("samples counted %d, want 4000", n)
	}
}

func TestHandler_Write_KeysNeverMix(t *testing.T) {
	// The same label bytes under different orders, and the same series
	// from import: keys differ by format, labels decide the series.
	db := openDB(t, nil)
	h := New(db, Config{}, Options{})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	for i, order := range [][]tsdb.Label{ls("__name__", "m", "a", "1"), ls("a", "1", "__name__", "m")} {
		body := compress(encodeRequest(series{labels: order, samples: []tsdb.Sample{{T: now + int64(i), V: 1}}}))
		do(t, srv.URL+"/api/v1/write", bytes.NewReader(body), rwHeaders).want(t, http.StatusNoContent)
	}
	line := fmt.Sprintf(`{"metric":{"__name__":"m","a":"1"},"values":[2],"timestamps":[%d]}`, now+2)
	do(t, srv.URL+"/api/v1/import", strings.NewReader(line), nil).want(t, http.StatusNoContent)
	got := stored(t, db)
	if len(got) != 1 || len(got[`m{a="1"}`]) != 3 {
		t.Fatalf("stored %v, want one series of 3 samples", got)
	}
}

func TestRefuse_Shapes(t *testing.T) {
	h := New(nil, Config{}, Options{})
	for _, tc := range []struct {
		status int
		want   string
	}{
		{401, "authorization failed: no token\n"},
		{403, "forbidden: no token\n"},
	} {
		rec := httptest.NewRecorder()
		h.Refuse(rec, httptest.NewRequest("POST", "/api/v1/write", nil), tc.status, "no token")
		if rec.Code != tc.status || rec.Body.String() != tc.want || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%d: %d %q %v", tc.status, rec.Code, rec.Body, rec.Header())
		}
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
