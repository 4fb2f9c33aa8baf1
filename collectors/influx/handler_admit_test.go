package influx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// TestHandler_Write_Admission checks that a request that does not fit the
// in-flight budget is answered 503 with Retry-After at once, without its
// body being read, while the requests that hold the budget go on.
func TestHandler_Write_Admission(t *testing.T) {
	h, w := newTestHandler(Options{MaxInflightBytes: 1}) // room for one request
	srv := testServer(t, h)
	// The first request sends a line, then stalls mid-body.
	pr, pw := io.Pipe()
	first := make(chan reply, 1)
	go func() { first <- do(t, "POST", srv.URL+"/write?db=a", pr, nil) }()
	if _, err := pw.Write([]byte("a f=1 0\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.inflight.used.Load() == h.reserve })

	for _, c := range []struct{ url, body string }{
		{"/write", `{"error":"outpost is overloaded, retry later"}`},
		{"/api/v2/write?bucket=d", `{"code":"unavailable","message":"outpost is overloaded, retry later"}`},
	} {
		start := time.Now()
		// The refused request's body never ends: only an answer that does
		// not wait for it comes back.
		r := do(t, "POST", srv.URL+c.url, io.MultiReader(strings.NewReader("b f=1 0\n"), blockReader{t.Context()}), nil)
		r.want(t, http.StatusServiceUnavailable, c.body)
		if got := r.header.Get("Retry-After"); got != "1" {
			t.Fatalf("Retry-After %q, want 1", got)
		}
		if took := time.Since(start); took > time.Second || !r.close {
			t.Fatalf("refusal took %s, connection closed %v", took, r.close)
		}
	}
	// A small body that arrives at once is read and dropped, so the
	// sender gets its answer, and the connection is closed after it (a
	// client answered early must not reuse it).
	r := do(t, "POST", srv.URL+"/write", strings.NewReader("b f=2 0\n"), nil)
	r.want(t, http.StatusServiceUnavailable, `{"error":"outpost is overloaded, retry later"}`)
	if !r.close {
		t.Fatal("connection kept after an early answer")
	}
	if _, err := pw.Write([]byte("c f=3 0\n")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	(<-first).want(t, http.StatusNoContent, "")
	if got, want := w.points(), []string{`a_f{db="a"} 1 0`, `c_f{db="a"} 3 0`}; !slices.Equal(got, want) {
		t.Fatalf("written %q, want %q", got, want)
	}
	// The budget is back: the next request is served.
	do(t, "POST", srv.URL+"/write", strings.NewReader("d f=4 0"), nil).want(t, http.StatusNoContent, "")
	if used := h.inflight.used.Load(); used != 0 {
		t.Fatalf("%d bytes still reserved", used)
	}
	want := []collectors.Rejection{{What: "requests", Reason: "overloaded", N: 3}}
	if rej := h.stats.Rejections(); !slices.Equal(rej, want) {
		t.Fatalf("rejections %v, want %v", rej, want)
	}
}

// blockReader blocks until ctx ends.
type blockReader struct{ ctx context.Context }

func (b blockReader) Read([]byte) (int, error) {
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHandler_Write_Unavailable(t *testing.T) {
	h, w := newTestHandler(Options{})
	w.fail = func([]tsdb.Point) error { return fmt.Errorf("write to WAL: %w", tsdb.ErrUnavailable) }
	srv := testServer(t, h)
	for _, c := range []struct{ url, body string }{
		{"/write", `{"error":"outpost cannot store writes for now, retry later"}`},
		{"/api/v2/write?bucket=d", `{"code":"unavailable","message":"outpost cannot store writes for now, retry later"}`},
	} {
		r := do(t, "POST", srv.URL+c.url, strings.NewReader("m f=1 0"), nil)
		r.want(t, http.StatusServiceUnavailable, c.body)
		if got := r.header.Get("Retry-After"); got != "5" {
			t.Fatalf("Retry-After %q, want 5", got)
		}
	}
	want := []collectors.Rejection{{What: "requests", Reason: "unavailable", N: 2}}
	if rej := h.stats.Rejections(); !slices.Equal(rej, want) {
		t.Fatalf("rejections %v, want %v", rej, want)
	}
}

// TestHandler_Write_WaitIsPerRequest checks that the batches of one request
// share one bounded wait for the store (tsdb.WithWriteWait).
func TestHandler_Write_WaitIsPerRequest(t *testing.T) {
	var ctxs []context.Context
	h, _ := newTestHandler(Options{BatchPoints: 1})
	h.w = writerFunc(func(ctx context.Context, pts []tsdb.Point) error {
		ctxs = append(ctxs, ctx)
		return nil
	})
	srv := testServer(t, h)
	do(t, "POST", srv.URL+"/write", strings.NewReader("a f=1 0\nb f=1 0\nc f=1 0\n"), nil).want(t, http.StatusNoContent, "")
	if len(ctxs) != 3 || ctxs[0] != ctxs[1] || ctxs[1] != ctxs[2] {
		t.Fatalf("%d Writes, with different contexts: the wait would not be shared", len(ctxs))
	}
}

// writerFunc adapts a function to collectors.Writer.
type writerFunc func(context.Context, []tsdb.Point) error

func (f writerFunc) Write(ctx context.Context, pts []tsdb.Point) error { return f(ctx, pts) }

// TestHandler_Write_StreamsBody checks that a body is parsed as it arrives:
// a gzip body of 32 MiB of lines is written whole while the request
// allocates less than half of that (its window and batches; a whole-body
// read allocated more than the body), and a gzip bomb of newlines costs
// nothing but its window.
func TestHandler_Write_StreamsBody(t *testing.T) {
	cw := &countWriter{} // udp_bench_test.go
	h := New(cw, Options{MaxBodyBytes: 64 << 20, Now: time.Now})
	srv := testServer(t, h)
	size := 32 << 20
	if raceEnabled { // slow, and the allocations are not checked
		size = 4 << 20
	}
	var lines bytes.Buffer
	for i := 0; lines.Len() < size; i++ {
		fmt.Fprintf(&lines, "cpu,host=h%d,cpu=cpu%d usage_user=%d,usage_idle=9 %d\n", i%50, i%4, i%100, 1700000000000000000+int64(i)*1e9)
	}
	samples := int64(bytes.Count(lines.Bytes(), []byte{'\n'}) * 2)
	for _, c := range []struct {
		name    string
		body    []byte
		samples int64
	}{
		{"lines", gz(t, lines.Bytes()), samples},
		{"newlines", gz(t, bytes.Repeat([]byte{'\n'}, size)), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			post := func() {
				do(t, "POST", srv.URL+"/write", bytes.NewReader(c.body), map[string]string{"Content-Encoding": "gzip"}).
					want(t, http.StatusNoContent, "")
			}
			// With the collector off, the pools keep what the first request
			// grew, so the second one shows what a request allocates (plus
			// its arenas again when it runs on another P than the first).
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			post()
			cw.n.Store(0)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			post()
			runtime.ReadMemStats(&after)
			if got := cw.n.Load(); got != c.samples {
				t.Fatalf("%d samples written, want %d", got, c.samples)
			}
			// The server, the client and the test share this process: the
			// bound is loose, but half the body.
			alloc := after.TotalAlloc - before.TotalAlloc
			if alloc > uint64(size/2) && !raceEnabled {
				t.Fatalf("the request allocated %.1f MiB", float64(alloc)/(1<<20))
			}
		})
	}
}

// TestHandler_Write_BodyErrorsMidStream checks the answer to a body that
// fails after some of its batches were written: the error (the rest of
// the body read and dropped), then the connection closed.
func TestHandler_Write_BodyErrorsMidStream(t *testing.T) {
	h, w := newTestHandler(Options{MaxBodyBytes: 1 << 20, BatchPoints: 100})
	srv := testServer(t, h)
	big := bytes.Repeat([]byte("m f=1 0\n"), 300_000) // 2.4 MB: over the limit after decompression
	r := do(t, "POST", srv.URL+"/write", bytes.NewReader(gz(t, big)), map[string]string{"Content-Encoding": "gzip"})
	r.want(t, http.StatusRequestEntityTooLarge, `{"error":"request body too large: over 1048576 bytes after decompression"}`)
	if !r.close { // the rest was read and dropped, then the connection closed
		t.Fatal("connection kept after an early answer")
	}
	if n := len(w.points()); n == 0 || n > (1<<20)/8 {
		t.Fatalf("%d points written before the limit", n)
	}
}
