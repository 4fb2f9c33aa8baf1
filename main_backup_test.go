package main

// End-to-end tests of POST /api/v1/admin/tsdb/snapshot, outpost backup and
// outpost restore: a backup taken during continuous ingest (and forced
// flushes) restores into a store that answers like the source did at the
// snapshot moment.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runCLI runs the outpost binary with args and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, outpostBinary(t), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run outpost %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// getBody GETs base+path and returns the status and body.
func getBody(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestBackup_DuringIngestRestoresSameAnswers writes continuously (each
// series a sequence of timestamps, so any consistent copy holds a prefix of
// each), forces flushes meanwhile, takes `outpost backup`, restores it into
// a new directory, starts a second outpost there, and compares answers up
// to the snapshot moment byte for byte.
func TestBackup_DuringIngestRestoresSameAnswers(t *testing.T) {
	src := startServer(t, t.TempDir())
	defer src.stop()
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Hour).UnixMilli()
	// Two days ago, flushed to its day file before ingest starts.
	var old strings.Builder
	for i := range 300 {
		fmt.Fprintf(&old, "old,host=h%d v=%d %d\n", i%3, i, base-48*3600*1000+int64(i)*10000)
	}
	ctx := context.Background()
	if code, body, err := post(ctx, http.DefaultClient, src.base, "precision=ms", old.String()); err != nil || code != 204 {
		t.Fatalf("write old: %d %s %v", code, body, err)
	}
	forceFlush(t, src.base)

	const writers = 4
	var stop atomic.Bool
	var acked [writers]atomic.Int64 // per writer: samples acknowledged
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := int64(0); !stop.Load(); i++ {
				line := fmt.Sprintf("ing,writer=w%d a=%d,b=%d.25 %d\n", w, i, i*int64(w), base+i*1000)
				code, body, err := post(ctx, http.DefaultClient, src.base, "precision=ms", line)
				if err != nil || code != 204 {
					t.Errorf("write: %d %s %v", code, body, err)
					return
				}
				acked[w].Store(i + 1)
			}
		})
	}
	wg.Go(func() { // flushes racing the snapshot's copy
		for !stop.Load() {
			forceFlush(t, src.base)
			time.Sleep(20 * time.Millisecond)
		}
	})
	time.Sleep(700 * time.Millisecond)
	var before [writers]int64
	for w := range writers {
		before[w] = acked[w].Load()
	}
	dir := filepath.Join(t.TempDir(), "backup")
	code, out, errs := runCLI(t, "backup", dir, "-url", src.base)
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("backup: %s", strings.TrimSpace(out))
	for _, f := range []string{"index.db", "alerting.db", "MANIFEST.sha256"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("backup lacks %s: %v", f, err)
		}
	}

	// Into a non-empty directory: refused, exit 1, nothing changed.
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "keep.txt"), []byte("x"), 0o644)
	if code, _, errs := runCLI(t, "restore", dir, "-data", busy); code != 1 || !strings.Contains(errs, "not empty") {
		t.Errorf("restore into a non-empty dir: exit %d, %q; want 1 and \"not empty\"", code, errs)
	}
	if ents, _ := os.ReadDir(busy); len(ents) != 1 {
		t.Errorf("restore changed the non-empty dir: %d entries", len(ents))
	}

	data := filepath.Join(t.TempDir(), "restored")
	if code, out, errs := runCLI(t, "restore", dir, "-data", data); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errs)
	} else {
		t.Logf("restore: %s", strings.TrimSpace(out))
	}
	dst := startServer(t, data)
	defer dst.stop()

	// Each writer's series is a prefix in the copy, holding at least every
	// write acknowledged before backup started.
	got := dst.export(`{__name__="ing_a"}`)
	want := src.export(`{__name__="ing_a"}`)
	cut := int64(1<<62 - 1)
	for w := range writers {
		key := fmt.Sprintf("ing_a,writer=w%d", w)
		n := int64(len(got[key]))
		if n < before[w] {
			t.Errorf("%s: %d samples restored, %d were acknowledged before the backup", key, n, before[w])
		}
		for i := range n {
			ts := base + i*1000
			if v, ok := got[key][ts]; !ok || v != want[key][ts] {
				t.Fatalf("%s: restored copy is not a prefix: at %d got %v (present %v), source %v", key, ts, v, ok, want[key][ts])
			}
		}
		cut = min(cut, base+(n-1)*1000)
		t.Logf("%s: %d acknowledged before backup, %d restored, %d in source", key, before[w], n, len(want[key]))
	}
	// Answers up to the snapshot moment (the earliest last sample of the
	// writers' series): byte for byte.
	secs := func(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) }
	start, end := secs(base-49*3600*1000), secs(cut)
	queries := []string{
		"/api/v1/query?" + url.Values{"query": {`sum by (writer) (ing_a)`}, "time": {end}}.Encode(),
		"/api/v1/query?" + url.Values{"query": {`count_over_time(ing_b[3d])`}, "time": {end}}.Encode(),
		"/api/v1/query?" + url.Values{"query": {`sum(count_over_time(old_v[3d]))`}, "time": {end}}.Encode(),
		"/api/v1/query_range?" + url.Values{"query": {`ing_b`}, "start": {secs(base)}, "end": {end}, "step": {"1"}}.Encode(),
		"/api/v1/query_range?" + url.Values{"query": {`old_v`}, "start": {start}, "end": {end}, "step": {"600"}}.Encode(),
		"/api/v1/series?" + url.Values{"match[]": {`{__name__=~"ing_.*|old_v"}`}, "start": {start}, "end": {end}}.Encode(),
		"/api/v1/labels?" + url.Values{"start": {start}, "end": {end}}.Encode(),
		"/api/v1/export?" + url.Values{"match[]": {`{__name__=~"ing_.*|old_v"}`}, "start": {start}, "end": {end}}.Encode(),
	}
	for _, q := range queries {
		c1, b1 := getBody(t, src.base+q)
		c2, b2 := getBody(t, dst.base+q)
		if c1 != 200 || c1 != c2 || b1 != b2 {
			t.Errorf("%s:\nsource   %d %.400s\nrestored %d %.400s", q, c1, b1, c2, b2)
		} else {
			t.Logf("same %d bytes: %.100s", len(b1), q)
		}
	}
}

// forceFlush asks the server to flush its head to day files.
func forceFlush(t *testing.T, base string) {
	resp, err := http.Post(base+"/internal/force_flush", "", nil)
	if err != nil {
		t.Errorf("force_flush: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("force_flush: %s", resp.Status)
	}
}

// TestBackup_SnapshotAPI checks Prometheus' answer shape, skip_head and the
// refusals of the snapshot routes.
func TestBackup_SnapshotAPI(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	defer s.stop()
	if code, body, err := post(context.Background(), http.DefaultClient, s.base, "precision=s", fmt.Sprintf("m v=1 %d\n", time.Now().Unix())); err != nil || code != 204 {
		t.Fatalf("write: %d %s %v", code, body, err)
	}
	resp, err := http.Post(s.base+"/api/v1/admin/tsdb/snapshot?skip_head=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, `{"status":"success","data":{"name":"`) {
		t.Fatalf("snapshot: %d %s", resp.StatusCode, body)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), `{"status":"success","data":{"name":"`), `"}}`)
	if segs, _ := filepath.Glob(filepath.Join(dataDir, "snapshots", name, "wal", "*.seg")); len(segs) != 0 {
		t.Errorf("skip_head=true copied WAL segments %v", segs)
	}
	for _, c := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", "/api/v1/admin/tsdb/snapshot?skip_head=maybe", 400, `"errorType":"bad_data"`},
		{"GET", "/api/v1/admin/tsdb/snapshot/..%2F..%2Fetc", 400, `invalid snapshot name`},
		{"GET", "/api/v1/admin/tsdb/snapshot/20260101T000000Z-0123456789abcdef", 404, `"errorType":"not_found"`},
		{"DELETE", "/api/v1/admin/tsdb/snapshot/" + name, 204, ""},
		{"DELETE", "/api/v1/admin/tsdb/snapshot/" + name, 404, "not found"},
	} {
		req, _ := http.NewRequest(c.method, s.base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s: %d %s; want %d containing %q", c.method, c.path, resp.StatusCode, b, c.code, c.want)
		}
	}
}
