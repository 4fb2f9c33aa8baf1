package query

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEngine_Range_MemoryLimit(t *testing.T) {
	db, t0 := loadManySeries(t, 50, 360)
	end := t0.Add(time.Hour)
	// `m` at 1 s holds 50 series × 3,601 points: 1.4 MiB.
	e := NewEngine(db, Options{MaxMemoryPerQuery: 1 << 20})
	f := func(name, q string, wantErr bool) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := e.Range(t.Context(), q, t0, end, time.Second)
			if wantErr != (err != nil) {
				t.Fatalf("err = %v, want error %v", err, wantErr)
			}
			if used := e.mem.used.Load(); used != 0 {
				t.Errorf("%d bytes still accounted after the query", used)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrMemoryLimit) {
				t.Fatalf("err = %v, want ErrMemoryLimit", err)
			}
			if typ, code := classify(err); typ != errorExecution || code != 422 {
				t.Errorf("classify = %s %d, want execution 422", typ, code)
			}
			if !strings.Contains(err.Error(), "query.max_memory_per_query (1.0 MiB)") {
				t.Errorf("message does not name the limit: %v", err)
			}
		})
	}
	f("every series held", `m`, true)
	f("a rollup of every series held", `rate(m[5m])`, true)
	f("streamed into one group", `sum(rate(m[5m]))`, false)
	f("streamed into groups", `count by (i) (m)`, true) // 50 groups of two arrays
	f("a subquery's input held", `max_over_time(m[1m:1s])`, true)
	f("both sides of a binary operator held", `sum(m) / count(m)`, false)
}

func TestEngine_Range_GlobalMemoryLimit(t *testing.T) {
	db, t0 := loadManySeries(t, 10, 360)
	e := NewEngine(db, Options{MaxMemoryPerQuery: 1 << 20, MaxMemory: 2 << 20})
	// 10 series × 361 points: about 30 KiB.
	other := e.mem.newQuery(2 << 20)
	if err := other.Reserve(2<<20 - 10<<10); err != nil {
		t.Fatal(err)
	}
	_, err := e.Range(t.Context(), `m`, t0, t0.Add(time.Hour), 10*time.Second)
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "query.max_memory (2.0 MiB)") {
		t.Fatalf("err = %v, want ErrMemoryLimit naming query.max_memory", err)
	}
	other.close()
	if _, err := e.Range(t.Context(), `m`, t0, t0.Add(time.Hour), 10*time.Second); err != nil {
		t.Fatalf("with the other query done: %v", err)
	}
	if used := e.mem.used.Load(); used != 0 {
		t.Errorf("%d bytes still accounted after the queries", used)
	}
}

func TestAPI_QueryRange_MemoryLimit(t *testing.T) {
	db, t0 := loadManySeries(t, 50, 360)
	mux := http.NewServeMux()
	NewAPI(NewEngine(db, Options{MaxMemoryPerQuery: 1 << 20}), db, APIOptions{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/api/v1/query_range", url.Values{"query": {"m"},
		"start": {strconv.FormatInt(t0.Unix(), 10)}, "end": {strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)}, "step": {"1s"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"status":"error","errorType":"execution","error":"m: 50 series of 3601 points: the query needs more than query.max_memory_per_query (1.0 MiB)`
	if resp.StatusCode != 422 || !strings.HasPrefix(string(b), want) {
		t.Fatalf("got %d %s\nwant 422 %s...", resp.StatusCode, b, want)
	}
}

func TestConfig_Validate_Memory(t *testing.T) {
	f := func(key string, mod func(*Config)) {
		t.Helper()
		cfg := DefaultConfig()
		mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), key+":") {
			t.Errorf("%s: Validate() = %v, want an error naming the key", key, err)
		}
	}
	f("query.max_memory_per_query", func(c *Config) { c.MaxMemoryPerQuery = 1000 })
	f("query.max_memory", func(c *Config) { c.MaxMemory = c.MaxMemoryPerQuery - 1 })
}
