package influx

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// recWriter is the test's collectors.Writer: it records a deep copy of every
// call (the contract lets Write not retain pts) and answers with fail, when
// set.
type recWriter struct {
	mu    sync.Mutex
	calls [][]tsdb.Point
	fail  func(pts []tsdb.Point) error
}

func (w *recWriter) Write(_ context.Context, pts []tsdb.Point) error {
	cp := make([]tsdb.Point, len(pts))
	for i, p := range pts {
		cp[i] = tsdb.Point{Labels: p.Labels.Copy(), T: p.T, V: p.V}
	}
	w.mu.Lock()
	w.calls = append(w.calls, cp)
	w.mu.Unlock()
	if w.fail != nil {
		return w.fail(pts)
	}
	return nil
}

// points returns every point written so far, formatted by fmtPoint.
func (w *recWriter) points() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.calls {
		for _, p := range c {
			out = append(out, fmtPoint(p))
		}
	}
	return out
}

var _ collectors.Writer = (*recWriter)(nil)

// testServer mounts h the way main's route table does, on a real listener.
func testServer(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", h.Write)
	mux.HandleFunc("POST /api/v2/write", h.WriteV2)
	mux.HandleFunc("GET /ping", h.Ping)
	mux.HandleFunc("HEAD /ping", h.Ping)
	mux.HandleFunc("GET /health", h.Health)
	mux.HandleFunc("GET /query", h.Query)
	mux.HandleFunc("POST /query", h.Query)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// newTestHandler returns a handler over a recWriter with a fixed clock.
func newTestHandler(opts Options) (*Handler, *recWriter) {
	w := &recWriter{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Stats == nil {
		opts.Stats = collectors.NewStats("influx")
	}
	return New(w, opts), w
}

// reply is what a test request got back.
type reply struct {
	status int
	header http.Header
	body   string
	close  bool // the server said Connection: close
}

// do sends one request and checks what every response must carry.
func do(t *testing.T, method, url string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Influxdb-Version"); got != InfluxDBVersion {
		t.Errorf("%s %s: X-Influxdb-Version %q, want %q", method, url, got, InfluxDBVersion)
	}
	if len(b) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q for a body", method, url, ct)
		}
		if !json.Valid(b) {
			t.Errorf("%s %s: body is not JSON: %s", method, url, b)
		}
	}
	return reply{resp.StatusCode, resp.Header, strings.TrimSuffix(string(b), "\n"), resp.Close}
}

// gz compresses b.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (r reply) want(t *testing.T, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

func TestHandler_Write_Success(t *testing.T) {
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	body := "cpu,host=a usage=1.5,n=2i 1700000000000000000\nmem,host=a used=10\n"
	t.Run("v1", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write?db=telegraf&rp=autogen&u=x&p=y", strings.NewReader(body), nil).
			want(t, http.StatusNoContent, "")
	})
	t.Run("v2", func(t *testing.T) {
		do(t, "POST", srv.URL+"/api/v2/write?org=o&bucket=b&precision=s", strings.NewReader("m f=1 1700000000"), nil).
			want(t, http.StatusNoContent, "")
	})
	t.Run("v1 gzip, no db", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write", bytes.NewReader(gz(t, []byte("g v=3 1000000"))),
			map[string]string{"Content-Encoding": "gzip"}).want(t, http.StatusNoContent, "")
	})
	want := []string{
		`cpu_usage{db="telegraf",host="a"} 1.5 1700000000000`, `cpu_n{db="telegraf",host="a"} 2 1700000000000`,
		`mem_used{db="telegraf",host="a"} 10 1700000000123`,
		`m_f{db="b"} 1 1700000000000`,
		`g_v{} 3 1`,
	}
	if got := w.points(); !slices.Equal(got, want) {
		t.Fatalf("written %q\nwant %q", got, want)
	}
	if n := h.stats.Samples.Load(); n != 5 {
		t.Fatalf("Stats.Samples = %d, want 5", n)
	}
	if n := h.stats.Bytes.Load(); n != uint64(len(body)+len("m f=1 1700000000")+len("g v=3 1000000")) {
		t.Fatalf("Stats.Bytes = %d", n)
	}
}

func TestHandler_Write_Precision(t *testing.T) {
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	for _, c := range []struct{ api, prec, ts string }{
		{"/write", "n", "1700000000000000000"}, {"/write", "u", "1700000000000000"},
		{"/write", "ms", "1700000000000"}, {"/write", "s", "1700000000"}, {"/write", "m", "28333333"},
		{"/write", "h", "472222"}, {"/api/v2/write", "us", "1700000000000000"}, {"/api/v2/write", "s", "1700000000"},
	} {
		do(t, "POST", srv.URL+c.api+"?bucket=d&precision="+c.prec, strings.NewReader("m f=1 "+c.ts), nil).
			want(t, http.StatusNoContent, "")
	}
	want := []string{`m_f{} 1 1700000000000`, `m_f{} 1 1700000000000`, `m_f{} 1 1700000000000`,
		`m_f{} 1 1700000000000`, `m_f{} 1 1699999980000`, `m_f{} 1 1699999200000`,
		`m_f{db="d"} 1 1700000000000`, `m_f{db="d"} 1 1700000000000`}
	if got := w.points(); !slices.Equal(got, want) {
		t.Fatalf("written %q\nwant %q", got, want)
	}
	do(t, "POST", srv.URL+"/write?precision=x", strings.NewReader("m f=1"), nil).
		want(t, http.StatusBadRequest, `{"error":"invalid precision \"x\" (use n, ns, u, us, µs, ms, s, m or h)"}`)
	do(t, "POST", srv.URL+"/api/v2/write?precision=h", strings.NewReader("m f=1"), nil).
		want(t, http.StatusBadRequest, `{"code":"invalid","message":"invalid precision \"h\"; valid precision units are ns, us, ms, and s"}`)
	// InfluxDB 2.x's answer to a write without bucket (its
	// write_handler_test "missing bucket returns 404"); nothing is written.
	n := len(w.points())
	do(t, "POST", srv.URL+"/api/v2/write?org=x", strings.NewReader("m f=1"), nil).
		want(t, http.StatusNotFound, `{"code":"not found","message":"bucket not found"}`)
	if got := len(w.points()); got != n {
		t.Fatalf("a write without bucket stored %d points", got-n)
	}
}

func TestHandler_Write_PartialWrite(t *testing.T) {
	h, w := newTestHandler(Options{MaxLineBytes: 1024})
	srv := testServer(t, h)
	body := "a f=1 0\ncpu,host=a usage=\nb f=2 0\n" + strings.Repeat("x", 1100) + " f=1 0\n"
	msg := `unable to parse 'cpu,host=a usage=' (line 2, column 18): field value has unrecognized type`
	t.Run("v1", func(t *testing.T) {
		r := do(t, "POST", srv.URL+"/write?db=d", strings.NewReader(body), nil)
		r.want(t, http.StatusBadRequest, `{"error":"partial write: `+jsonEsc(msg)+` dropped=2"}`)
		if got := r.header.Get("X-Influxdb-Error"); got != "partial write: "+msg+" dropped=2" {
			t.Fatalf("X-Influxdb-Error %q", got)
		}
	})
	t.Run("v2", func(t *testing.T) {
		do(t, "POST", srv.URL+"/api/v2/write?bucket=d", strings.NewReader(body), nil).want(t,
			http.StatusUnprocessableEntity, `{"code":"unprocessable entity","message":"partial write: `+jsonEsc(msg)+` dropped=2"}`)
	})
	if got, want := w.points(), []string{`a_f{db="d"} 1 0`, `b_f{db="d"} 2 0`, `a_f{db="d"} 1 0`, `b_f{db="d"} 2 0`}; !slices.Equal(got, want) {
		t.Fatalf("written %q, want %q", got, want)
	}
	rej := h.stats.Rejections()
	want := []collectors.Rejection{{What: "lines", Reason: "parse", N: 2}, {What: "lines", Reason: "too_long", N: 2}}
	if !slices.Equal(rej, want) {
		t.Fatalf("rejections %v, want %v", rej, want)
	}
}

// jsonEsc escapes s as encoding/json does inside a string.
func jsonEsc(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestHandler_Write_AllLinesBad(t *testing.T) {
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	// InfluxDB 1.6.7 answers this exact request with
	// {"error":"unable to parse 'cpu,host=a usage=': missing field value"}.
	msg := `unable to parse 'cpu,host=a usage=' (line 1, column 18): expected field value, found end of input`
	do(t, "POST", srv.URL+"/write?db=d", strings.NewReader("cpu,host=a usage="), nil).
		want(t, http.StatusBadRequest, `{"error":"`+jsonEsc(msg)+`"}`)
	do(t, "POST", srv.URL+"/api/v2/write?bucket=d", strings.NewReader("cpu,host=a usage="), nil).
		want(t, http.StatusBadRequest, `{"code":"invalid","message":"`+jsonEsc(msg)+`"}`)
	if got := w.points(); len(got) != 0 {
		t.Fatalf("written %q", got)
	}
}

func TestHandler_Write_EmptyBody(t *testing.T) {
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	do(t, "POST", srv.URL+"/write?db=d", nil, nil).want(t, http.StatusNoContent, "")
	do(t, "POST", srv.URL+"/write?db=d", strings.NewReader("\n\n"), nil).want(t, http.StatusNoContent, "")
	do(t, "POST", srv.URL+"/write?db=d", bytes.NewReader(gz(t, nil)), map[string]string{"Content-Encoding": "gzip"}).
		want(t, http.StatusNoContent, "")
	do(t, "POST", srv.URL+"/api/v2/write?bucket=d", nil, nil).
		want(t, http.StatusBadRequest, `{"code":"invalid","message":"writing requires points"}`)
	if len(w.calls) != 0 {
		t.Fatalf("Writer called %d times for empty bodies", len(w.calls))
	}
	// A body of comments only parses to nothing: 204, nothing written.
	do(t, "POST", srv.URL+"/write?db=d", strings.NewReader("# just a comment\n"), nil).want(t, http.StatusNoContent, "")
}

func TestHandler_Write_BodyLimits(t *testing.T) {
	h, w := newTestHandler(Options{MaxBodyBytes: 64 << 10})
	srv := testServer(t, h)
	big := bytes.Repeat([]byte("m f=1 0\n"), 10_000) // 80,000 bytes
	t.Run("content length", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write", bytes.NewReader(big), nil).want(t, http.StatusRequestEntityTooLarge,
			`{"error":"request body too large: 80000 bytes, the limit is 65536"}`)
	})
	t.Run("chunked", func(t *testing.T) {
		r := do(t, "POST", srv.URL+"/write", io.MultiReader(bytes.NewReader(big)), nil) // no Content-Length
		r.want(t, http.StatusRequestEntityTooLarge, `{"error":"request body too large: the limit is 65536 bytes"}`)
	})
	t.Run("v2", func(t *testing.T) {
		do(t, "POST", srv.URL+"/api/v2/write?bucket=d", bytes.NewReader(big), nil).want(t, http.StatusRequestEntityTooLarge,
			`{"code":"request too large","message":"request body too large: 80000 bytes, the limit is 65536"}`)
	})
	t.Run("gzip bomb", func(t *testing.T) {
		// 16 MiB of newlines compress to 16 KiB, well under the limit;
		// decompression stops once it passes 64 KiB.
		bomb := gz(t, bytes.Repeat([]byte("\n"), 16<<20))
		if len(bomb) > 32<<10 {
			t.Fatalf("bomb is %d bytes compressed", len(bomb))
		}
		do(t, "POST", srv.URL+"/write", bytes.NewReader(bomb), map[string]string{"Content-Encoding": "gzip"}).
			want(t, http.StatusRequestEntityTooLarge, `{"error":"request body too large: over 65536 bytes after decompression"}`)
	})
	t.Run("just under", func(t *testing.T) {
		ok := bytes.Repeat([]byte("m f=1 0\n"), 8192) // exactly 65536 bytes
		do(t, "POST", srv.URL+"/write", bytes.NewReader(gz(t, ok)), map[string]string{"Content-Encoding": "gzip"}).
			want(t, http.StatusNoContent, "")
	})
	if n := len(w.points()); n != 8192 {
		t.Fatalf("%d points written, want 8192 (only the last request)", n)
	}
}

func TestHandler_Write_BadEncoding(t *testing.T) {
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	t.Run("invalid gzip", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write", strings.NewReader("m f=1 1700000000"), map[string]string{"Content-Encoding": "gzip"}).
			want(t, http.StatusBadRequest, `{"error":"invalid gzip body: gzip: invalid header"}`)
	})
	t.Run("truncated gzip", func(t *testing.T) {
		z := gz(t, []byte("m f=1 0\n"))
		r := do(t, "POST", srv.URL+"/api/v2/write?bucket=d", bytes.NewReader(z[:len(z)-6]), map[string]string{"Content-Encoding": "gzip"})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"code":"invalid","message":"invalid gzip body`) {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("unknown encoding", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write", strings.NewReader("m f=1 0"), map[string]string{"Content-Encoding": "br"}).
			want(t, http.StatusUnsupportedMediaType, `{"error":"unsupported content encoding \"br\" (use gzip or identity)"}`)
	})
	if len(w.calls) != 0 {
		t.Fatalf("Writer called for bad bodies")
	}
}

func TestHandler_Write_Batches(t *testing.T) {
	h, w := newTestHandler(Options{BatchPoints: 3})
	srv := testServer(t, h)
	var body strings.Builder
	for i := range 5 {
		fmt.Fprintf(&body, "m,i=%d a=1,b=2 0\n", i)
	}
	do(t, "POST", srv.URL+"/write", strings.NewReader(body.String()), nil).want(t, http.StatusNoContent, "")
	var sizes []int
	for _, c := range w.calls {
		sizes = append(sizes, len(c))
	}
	// A line is never split: batches close after the line that reaches 3.
	if !slices.Equal(sizes, []int{4, 4, 2}) {
		t.Fatalf("batch sizes %v, want [4 4 2]", sizes)
	}
	if n := len(w.points()); n != 10 {
		t.Fatalf("%d points, want 10", n)
	}
}

func TestHandler_Write_Overloaded(t *testing.T) {
	h, w := newTestHandler(Options{BatchPoints: 1})
	w.fail = func(pts []tsdb.Point) error {
		if len(w.calls) >= 2 {
			return fmt.Errorf("write: %w", tsdb.ErrOverloaded)
		}
		return nil
	}
	srv := testServer(t, h)
	body := "a f=1 0\nb f=1 0\nc f=1 0\nd f=1 0\n"
	for _, c := range []struct{ url, body string }{
		{"/write", `{"error":"outpost is overloaded, retry later"}`},
		{"/api/v2/write?bucket=d", `{"code":"unavailable","message":"outpost is overloaded, retry later"}`},
	} {
		w.calls = nil
		r := do(t, "POST", srv.URL+c.url, strings.NewReader(body), nil)
		r.want(t, http.StatusServiceUnavailable, c.body)
		if got := r.header.Get("Retry-After"); got != "1" {
			t.Fatalf("Retry-After %q, want 1", got)
		}
		if len(w.calls) != 2 { // stops at the overloaded batch
			t.Fatalf("%d Writer calls, want 2", len(w.calls))
		}
	}
}

func TestHandler_Write_WriterPartial(t *testing.T) {
	h, w := newTestHandler(Options{})
	w.fail = func(pts []tsdb.Point) error {
		return &tsdb.PartialWriteError{Dropped: 2, First: fmt.Errorf("series %s: %w", pts[0].Labels, tsdb.ErrTooManySeries)}
	}
	srv := testServer(t, h)
	msg := `partial write: series m_a{db=\"d\"}: too many series dropped=2`
	do(t, "POST", srv.URL+"/write?db=d", strings.NewReader("m a=1,b=2,c=3 0"), nil).
		want(t, http.StatusBadRequest, `{"error":"`+msg+`"}`)
	do(t, "POST", srv.URL+"/api/v2/write?bucket=d", strings.NewReader("m a=1,b=2,c=3 0"), nil).
		want(t, http.StatusUnprocessableEntity, `{"code":"unprocessable entity","message":"`+msg+`"}`)
	// A parse error comes first in the message; dropped counts both.
	do(t, "POST", srv.URL+"/write?db=d", strings.NewReader("bad\nm a=1,b=2,c=3 0"), nil).want(t, http.StatusBadRequest,
		`{"error":"partial write: unable to parse 'bad' (line 1, column 4): expected tag key or field but found '\\n' instead dropped=3"}`)
	if n := h.stats.Samples.Load(); n != 3 {
		t.Fatalf("Stats.Samples = %d, want 3 (1 per request)", n)
	}
	want := []collectors.Rejection{{What: "lines", Reason: "parse", N: 1}, {What: "samples", Reason: "too_many_series", N: 6}}
	if rej := h.stats.Rejections(); !slices.Equal(rej, want) {
		t.Fatalf("rejections %v, want %v", rej, want)
	}
	w.fail = func([]tsdb.Point) error {
		return &tsdb.PartialWriteError{Dropped: 1, First: fmt.Errorf("series x: %w", tsdb.ErrOutOfBounds)}
	}
	do(t, "POST", srv.URL+"/write", strings.NewReader("m a=1 0"), nil).
		want(t, http.StatusBadRequest, `{"error":"partial write: series x: timestamp out of bounds dropped=1"}`)
}

// countHandler counts log records.
type countHandler struct {
	mu sync.Mutex
	n  int
}

func (c *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (c *countHandler) Handle(context.Context, slog.Record) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return nil
}
func (c *countHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countHandler) WithGroup(string) slog.Handler      { return c }

func TestHandler_Write_InternalError(t *testing.T) {
	logs := &countHandler{}
	h, w := newTestHandler(Options{Logger: slog.New(logs)})
	w.fail = func([]tsdb.Point) error { return errors.New("disk on fire /var/lib/secret") }
	srv := testServer(t, h)
	for range 3 {
		do(t, "POST", srv.URL+"/write", strings.NewReader("m a=1 0"), nil).
			want(t, http.StatusInternalServerError, `{"error":"internal error"}`)
	}
	do(t, "POST", srv.URL+"/api/v2/write?bucket=d", strings.NewReader("m a=1 0"), nil).
		want(t, http.StatusInternalServerError, `{"code":"internal error","message":"internal error"}`)
	if logs.n != 1 {
		t.Fatalf("%d log records for 4 failures in 10 s, want 1", logs.n)
	}
}

func TestHandler_Write_ReusesNothingAcrossRequests(t *testing.T) {
	// Pooled parsers and buffers must not leak one request's labels into
	// the next: different db values and tag sets, interleaved.
	h, w := newTestHandler(Options{})
	srv := testServer(t, h)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				body := fmt.Sprintf("m,c=%d,j=%d f=%d 0\n", i, j, i*100+j)
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/write?db=db%d", srv.URL, i), strings.NewReader(body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	got := w.points()
	if len(got) != 160 {
		t.Fatalf("%d points, want 160", len(got))
	}
	for _, p := range got {
		var c, j, db, v int
		if _, err := fmt.Sscanf(p, `m_f{c="%d",db="db%d",j="%d"} %d 0`, &c, &db, &j, &v); err != nil || c != db || v != c*100+j {
			t.Fatalf("mixed-up point %s", p)
		}
	}
}
