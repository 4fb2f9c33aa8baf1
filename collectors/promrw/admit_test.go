package promrw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/tsdb"
)

// writerFunc is a collectors.Writer made of a function: the tests wrap the
// real store with it to make it fail.
type writerFunc func(ctx context.Context, pts []tsdb.Point) error

func (f writerFunc) Write(ctx context.Context, pts []tsdb.Point) error { return f(ctx, pts) }

func TestHandler_Write_StoreFailures(t *testing.T) {
	db := openDB(t, nil)
	now := time.Now().UnixMilli()
	body := compress(encodeRequest(series{labels: ls("__name__", "m"), samples: []tsdb.Sample{{T: now, V: 1}}}))
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
		text       string
		reason     string
	}{
		{"overloaded", tsdb.ErrOverloaded, 503, "1", "outpost is overloaded, retry later", "requests:overloaded"},
		{"unavailable", fmt.Errorf("append: %w", tsdb.ErrUnavailable), 503, "5", "cannot store writes for now", "requests:unavailable"},
		{"internal", errors.New("disk on fire"), 500, "", "internal error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := New(writerFunc(func(context.Context, []tsdb.Point) error { return tc.err }), Config{}, Options{})
			srv := testServer(t, h)
			r := do(t, srv.URL+"/api/v1/write", bytes.NewReader(body), rwHeaders)
			r.want(t, tc.status, tc.text)
			if got := r.header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if tc.reason != "" && rejections(h.rwStats)[tc.reason] != 1 {
				t.Errorf("rejections %v, want %s", rejections(h.rwStats), tc.reason)
			}
			r = do(t, srv.URL+"/api/v1/import", strings.NewReader(`{"metric":{"__name__":"m"},"values":[1],"timestamps":[1]}`), nil)
			r.want(t, tc.status, tc.text, "(no line written; wrote 0 samples)")
		})
	}
	// A store that recovers: the retry writes everything.
	fails := true
	h := New(writerFunc(func(ctx context.Context, pts []tsdb.Point) error {
		if fails {
			return tsdb.ErrOverloaded
		}
		return db.Write(ctx, pts)
	}), Config{}, Options{})
	srv := testServer(t, h)
	do(t, srv.URL+"/api/v1/write", bytes.NewReader(body), rwHeaders).want(t, 503)
	fails = false
	do(t, srv.URL+"/api/v1/write", bytes.NewReader(body), rwHeaders).want(t, 204)
	if got := stored(t, db); len(got[`m{}`]) != 1 {
		t.Fatalf("stored %v", got)
	}
}

func TestHandler_Admission(t *testing.T) {
	// A budget with room for one request: while a write waits in the
	// store, the next is answered 503 at once, its body unread, and the
	// budget comes back once the first is done.
	db := openDB(t, nil)
	cfg := Config{MaxDecodedBytes: 64 << 10, ImportMaxLineBytes: 4 << 10}
	cfg.MaxInflightBytes = MaxRequestBytes(cfg.MaxDecodedBytes)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	h := New(writerFunc(func(ctx context.Context, pts []tsdb.Point) error {
		entered <- struct{}{}
		<-release
		return db.Write(ctx, pts)
	}), cfg, Options{})
	srv := testServer(t, h)
	t.Cleanup(open) // before srv.Close: a failure must not leave the first request waiting
	now := time.Now().UnixMilli()
	body := compress(encodeRequest(series{labels: ls("__name__", "m"), samples: []tsdb.Sample{{T: now, V: 1}}}))
	first := make(chan reply, 1)
	go func() { first <- do(t, srv.URL+"/api/v1/write", bytes.NewReader(body), rwHeaders) }()
	<-entered
	if u := h.Usage(); u.Used < int64(batchReserve) {
		t.Fatalf("a request in the store holds %d bytes of the budget, want at least %d", u.Used, batchReserve)
	}
	for path, hd := range map[string]map[string]string{"/api/v1/write": rwHeaders, "/api/v1/import": nil} {
		r := do(t, srv.URL+path, bytes.NewReader(body), hd)
		r.want(t, http.StatusServiceUnavailable, "overloaded")
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q", path, r.header.Get("Retry-After"))
		}
	}
	open()
	(<-first).want(t, http.StatusNoContent)
	if u := h.Usage(); u.Used != 0 || u.Peak > cfg.MaxInflightBytes {
		t.Fatalf("budget %+v after the requests", u)
	}
	if rejections(h.rwStats)["requests:overloaded"] != 1 || rejections(h.imStats)["requests:overloaded"] != 1 {
		t.Fatalf("rejections %v %v", rejections(h.rwStats), rejections(h.imStats))
	}
}

func TestHandler_Write_BatchesAcrossSeries(t *testing.T) {
	// Batches of 7 points, series of 1 to 20 samples: batches end in the
	// middle of series, and every batch's labels are still right when the
	// store reads them (they point into the request's buffer).
	db := openDB(t, nil)
	var calls int
	h := New(writerFunc(func(ctx context.Context, pts []tsdb.Point) error {
		calls++
		if len(pts) > 7 {
			return fmt.Errorf("batch of %d points", len(pts))
		}
		for _, p := range pts {
			if p.Key == nil || !strings.HasPrefix(string(p.Key), remoteWriteKeyPrefix) {
				return fmt.Errorf("point without the remote write key: %q", p.Key)
			}
		}
		return db.Write(ctx, pts)
	}), Config{}, Options{BatchPoints: 7})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	want := 0
	for round := range 3 {
		var ss []series
		for i := range 20 {
			var smp []tsdb.Sample
			for j := range i + 1 {
				smp = append(smp, tsdb.Sample{T: now - int64(j)*1000 - int64(round), V: float64(i*100 + j)})
			}
			want += len(smp)
			ss = append(ss, series{labels: ls("__name__", fmt.Sprintf("m%d", i), "round", fmt.Sprint(round)), samples: smp})
		}
		do(t, srv.URL+"/api/v1/write", bytes.NewReader(compress(encodeRequest(ss...))), rwHeaders).want(t, 204)
	}
	got := stored(t, db)
	n := 0
	for k, v := range got {
		var i, round int
		if _, err := fmt.Sscanf(k, `m%d{round="%d"}`, &i, &round); err != nil || len(v) != i+1 {
			t.Fatalf("series %s holds %d samples (%v)", k, len(v), err)
		}
		n += len(v)
	}
	if n != want || len(got) != 60 || calls < want/7 {
		t.Fatalf("stored %d samples in %d series with %d writes, want %d in 60", n, len(got), calls, want)
	}
}
