package main

// End-to-end test of POST /api/v1/admin/tsdb/delete_series: delete during
// ingest, then read back through every API, after SIGKILL and restart and
// after a flush of the head.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// promData GETs a Prometheus API path and decodes its data.
func promData(t *testing.T, base, path string, data any) {
	t.Helper()
	code, body, _ := do(t, "GET", base+path, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Status != "success" {
		t.Fatalf("GET %s: %v %s", path, err, body)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		t.Fatalf("GET %s: data %v: %s", path, err, env.Data)
	}
}

func TestDelete_DuringIngest_GoneEverywhere(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	defer func() { s.kill() }()
	const keep, gone, goneSamples = 4, 3, 300
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second).UnixMilli()
	// The series to delete: 300 samples each, an hour and a half ago.
	var lp strings.Builder
	for g := range gone {
		for i := range goneSamples {
			fmt.Fprintf(&lp, "gone,host=g%d v=%d %d\n", g, i, base+int64(i)*1000)
		}
	}
	if code, body, _ := do(t, "POST", s.base+"/write?db=d&precision=ms", lp.String()); code != http.StatusNoContent {
		t.Fatalf("write gone: %d %s", code, body)
	}
	// The others are written continuously while the delete runs.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var acked atomic.Int64 // samples per kept series acknowledged
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(0); i < 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var b strings.Builder
			for k := range keep {
				fmt.Fprintf(&b, "keep,host=k%d v=%d %d\n", k, i, base+i*1000)
			}
			if code, body, err := post(ctx, http.DefaultClient, s.base, "db=d&precision=ms", b.String()); err != nil || code != http.StatusNoContent {
				t.Errorf("write keep %d: %d %s %v", i, code, body, err)
				return
			}
			acked.Store(i + 1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for acked.Load() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	code, body, _ := do(t, "POST", s.base+"/api/v1/admin/tsdb/delete_series?"+url.Values{"match[]": {`gone_v{host=~"g.*"}`}}.Encode(), "")
	if code != http.StatusNoContent || body != "" {
		t.Fatalf("delete_series: %d %q", code, body)
	}
	for acked.Load() < 150 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	n := acked.Load()

	var st struct {
		HeadStats struct {
			ChunkCount int   `json:"chunkCount"`
			MinTime    int64 `json:"minTime"`
			MaxTime    int64 `json:"maxTime"`
		} `json:"headStats"`
	}
	promData(t, s.base, "/api/v1/status/tsdb", &st)
	// The head still holds the deleted samples (tombstones hide them).
	maxT := base + max(n, goneSamples)*1000 - 1000
	if h := st.HeadStats; h.ChunkCount < keep+gone || h.MinTime != base || h.MaxTime != maxT {
		t.Errorf("headStats %+v, want chunkCount >= %d, minTime %d, maxTime %d", h, keep+gone, base, maxT)
	}

	check := func(stage string) {
		t.Helper()
		q := url.Values{"query": {`count_over_time({__name__=~"gone_v|keep_v"}[3h])`}, "time": {fmt.Sprint(time.Now().Unix())}}
		var inst struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		promData(t, s.base, "/api/v1/query?"+q.Encode(), &inst)
		if len(inst.Result) != keep {
			t.Fatalf("%s: query: %d series, want %d: %+v", stage, len(inst.Result), keep, inst.Result)
		}
		for _, r := range inst.Result {
			if r.Metric["__name__"] != "" || !strings.HasPrefix(r.Metric["host"], "k") || r.Value[1] != fmt.Sprint(n) {
				t.Fatalf("%s: query: %v = %v, want host k* = %d", stage, r.Metric, r.Value, n)
			}
		}
		var rng struct {
			Result []json.RawMessage `json:"result"`
		}
		q = url.Values{"query": {"gone_v"}, "start": {fmt.Sprint(base / 1000)}, "end": {fmt.Sprint(base/1000 + goneSamples)}, "step": {"1"}}
		promData(t, s.base, "/api/v1/query_range?"+q.Encode(), &rng)
		if len(rng.Result) != 0 {
			t.Fatalf("%s: query_range gone_v: %s", stage, rng.Result)
		}
		var series []map[string]string
		promData(t, s.base, "/api/v1/series?match[]=gone_v", &series)
		if len(series) != 0 {
			t.Fatalf("%s: series gone_v: %v", stage, series)
		}
		var hosts []string
		promData(t, s.base, "/api/v1/label/host/values", &hosts)
		if strings.Join(hosts, ",") != "k0,k1,k2,k3" {
			t.Fatalf("%s: host values %v", stage, hosts)
		}
		if got := s.export(`gone_v`); len(got) != 0 {
			t.Fatalf("%s: export gone_v: %d series", stage, len(got))
		}
		got := s.export(`keep_v`)
		if len(got) != keep {
			t.Fatalf("%s: export keep_v: %d series", stage, len(got))
		}
		for k, m := range got {
			if int64(len(m)) != n {
				t.Fatalf("%s: export %s: %d samples, want %d", stage, k, len(m), n)
			}
		}
	}
	check("after delete")
	s.kill()
	s = startServer(t, dir)
	check("after SIGKILL and restart")
	if code, body, _ := do(t, "POST", s.base+"/internal/force_flush", ""); code != http.StatusNoContent {
		t.Fatalf("force_flush: %d %s", code, body)
	}
	check("after force_flush")
	s.stop()
	s = startServer(t, dir)
	check("after flush and restart")
}

func TestDelete_RefusedAndBadInput(t *testing.T) {
	s := startServerWith(t, t.TempDir(), serverConfig{
		Extra: "auth:\n  tokens:\n    - token: r-secret\n      role: read\n    - token: a-secret\n      role: admin\n",
	})
	defer s.stop()
	path := "/api/v1/admin/tsdb/delete_series"
	for _, tc := range []struct {
		name, query, token string
		code               int
		body               string
	}{
		{"no token", "match[]=x", "", 401, `"errorType":"unauthorized"`},
		{"read token", "match[]=x", "r-secret", 403, `"errorType":"forbidden"`},
		{"no match[]", "", "a-secret", 400, `match[]`},
		{"bad selector", "match[]=" + url.QueryEscape("x{"), "a-secret", 400, `"errorType":"bad_data"`},
		{"not a selector", "match[]=" + url.QueryEscape("rate(x[1m])"), "a-secret", 400, `not a series selector`},
		{"bad start", "match[]=x&start=yesterday", "a-secret", 400, `\"start\"`},
		{"bad end", "match[]=x&end=1e400", "a-secret", 400, `\"end\"`},
		{"admin", "match[]=x&start=2026-01-01T00:00:00Z", "a-secret", 204, ``},
	} {
		var hdr []string
		if tc.token != "" {
			hdr = []string{"Authorization", "Bearer " + tc.token}
		}
		code, body, _ := do(t, "POST", s.base+path+"?"+tc.query, "", hdr...)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s, want %d containing %s", tc.name, code, body, tc.code, tc.body)
		}
	}
}
