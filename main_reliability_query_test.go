package main

// End-to-end check of bounded reads (issue 8, point 2): a query over
// 200,000 series and 30 days, three at once, against the real binary with
// its default limits. It must be answered or refused with a clear 422
// while the process stays under 1 GiB and ingest keeps answering 204.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// queryAnswer is one API answer: status, error type and message, and the
// number of series of a success.
type queryAnswer struct {
	code      int
	errorType string
	err       string
	series    int
	took      time.Duration
}

func queryRange(ctx context.Context, base, q string, start, end time.Time, step string) queryAnswer {
	t0 := time.Now()
	form := url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step}}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/query_range", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return queryAnswer{err: err.Error(), took: time.Since(t0)}
	}
	defer resp.Body.Close()
	var env struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	derr := json.NewDecoder(resp.Body).Decode(&env)
	a := queryAnswer{code: resp.StatusCode, errorType: env.ErrorType, err: env.Error, series: len(env.Data.Result), took: time.Since(t0)}
	if derr != nil && a.err == "" {
		a.err = "decode: " + derr.Error()
	}
	return a
}

// TestReliability_QueryBounded writes 200,000 series of one sample each
// over the last 30 days, then runs `{__name__=~"card.*"}` over 30 days at a
// 100 s step three at once, three rounds, while a writer posts every 50 ms.
// Each answer must be a 422 naming the limit and how to raise it (or an
// answer), the peak RSS sampled every 100 ms at most 1 GiB, and every
// write 204. An aggregation over the same series (answered by streaming
// batches) and an export of them all follow under the same bound. Then
// outpost restarts with the sample limit out of the way (1e10; the 1e9 of
// before let the query reach 7.9 GiB) and the memory limit alone must
// hold.
func TestReliability_QueryBounded(t *testing.T) {
	soak(t)
	const series = 200_000
	dir := t.TempDir()
	s := startServer(t, dir)
	running := true
	t.Cleanup(func() {
		if running {
			s.stop()
		}
	})
	rss := watchRSS(t, s.cmd.Process.Pid)
	now := time.Now().Truncate(time.Second)
	loadCardinality(t, s, series, now)
	t.Logf("%d series written: peak RSS %s", series, mib(rss.mark()))

	w := startLiveWriter(t, s.base)
	start := now.Add(-30 * 24 * time.Hour)
	threeAtOnce(t, s, rss, 3, start, now)

	// The same series, aggregated: streamed through in batches, answered.
	rss.mark()
	a := queryRange(t.Context(), s.base, `count({__name__=~"card.*"})`, start, now, "6h")
	peak := rss.mark()
	t.Logf("count over %d series: HTTP %d in %s, peak RSS %s %.160s", series, a.code, a.took.Round(time.Millisecond), mib(peak), a.err)
	if a.code != http.StatusOK || a.series != 1 {
		t.Errorf("count: HTTP %d %s %q, %d series; want one series", a.code, a.errorType, a.err, a.series)
	}
	checkRSS(t, "count", peak)

	// Every series exported, streamed.
	rss.mark()
	lines, took := exportLines(t, s.base, `{__name__=~"card.*"}`)
	peak = rss.mark()
	t.Logf("export of %d series: %d lines in %s, peak RSS %s", series, lines, took.Round(time.Millisecond), mib(peak))
	if lines != series {
		t.Errorf("export: %d lines, want %d", lines, series)
	}
	checkRSS(t, "export", peak)
	w.stop(t)
	t.Logf("VmHWM (the peak of the whole run, the load included): %s", mib(procStatusBytes(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid), "VmHWM:")))

	s.stop()
	running = false
	rss.close()
	s = startServerWith(t, dir, serverConfig{Extra: "query:\n  max_samples: 10000000000\n"})
	t.Cleanup(s.stop)
	rss = watchRSS(t, s.cmd.Process.Pid)
	w = startLiveWriter(t, s.base)
	answers := threeAtOnce(t, s, rss, 3, start, now)
	for _, a := range answers {
		if !strings.Contains(a.err, "raise query.max_memory_per_query") {
			t.Errorf("with max_samples 1e10: HTTP %d %q, want the per-query memory limit", a.code, a.err)
		}
	}
	w.stop(t)
}

// checkRSS fails the test when peak is over 1 GiB.
func checkRSS(t *testing.T, what string, peak int64) {
	t.Helper()
	if peak > 1<<30 {
		t.Errorf("%s: peak RSS %s, over 1 GiB", what, mib(peak))
	}
}

// threeAtOnce runs rounds rounds of three `{__name__=~"card.*"}` range
// queries at once over [start, end] at a 100 s step and checks each
// answer and the peak RSS of each round. It returns the last round's
// answers.
func threeAtOnce(t *testing.T, s *server, rss *rssWatcher, rounds int, start, end time.Time) []queryAnswer {
	t.Helper()
	var peaks []int64
	var answers []queryAnswer
	for round := range rounds {
		rss.mark()
		answers = make([]queryAnswer, 3)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() { answers[i] = queryRange(t.Context(), s.base, `{__name__=~"card.*"}`, start, end, "100s") })
		}
		wg.Wait()
		peak := rss.mark()
		peaks = append(peaks, peak)
		for i, a := range answers {
			t.Logf("round %d query %d: HTTP %d %s in %s: %.200s", round, i, a.code, a.errorType, a.took.Round(time.Millisecond), a.err)
			switch {
			case a.code == http.StatusOK && a.series > 0:
			case a.code == http.StatusUnprocessableEntity && a.errorType == "execution" &&
				(strings.Contains(a.err, "raise query.max_memory") || strings.Contains(a.err, "raise query.max_samples")):
			default:
				t.Errorf("round %d query %d: HTTP %d %s %q: want 422 execution naming the limit, or an answer", round, i, a.code, a.errorType, a.err)
			}
		}
		checkRSS(t, fmt.Sprintf("round %d", round), peak)
	}
	sorted := slices.Clone(peaks)
	slices.Sort(sorted)
	t.Logf("three queries at once: peak RSS median %s (rounds: %v MiB)", mib(sorted[len(sorted)/2]), mapMiB(peaks))
	return answers
}

// liveWriter posts 100 samples every 50 ms until stopped and counts the
// answers that are not 204.
type liveWriter struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	writes  atomic.Int64
	slowest atomic.Int64 // nanoseconds
	mu      sync.Mutex   // guards bad
	bad     []string
}

func startLiveWriter(t *testing.T, base string) *liveWriter {
	ctx, cancel := context.WithCancel(t.Context())
	w := &liveWriter{cancel: cancel}
	w.wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		for i := 0; ctx.Err() == nil; i++ {
			var b strings.Builder
			ts := time.Now().UnixMilli()
			for h := range 100 {
				fmt.Fprintf(&b, "live,host=h%d v=%d %d\n", h, i, ts)
			}
			t0 := time.Now()
			code, body, err := post(ctx, client, base, "db=rel&precision=ms", b.String())
			if ctx.Err() != nil {
				return
			}
			if d := int64(time.Since(t0)); d > w.slowest.Load() {
				w.slowest.Store(d)
			}
			if err != nil || code != http.StatusNoContent {
				w.mu.Lock()
				w.bad = append(w.bad, fmt.Sprintf("HTTP %d %q %v", code, body, err))
				w.mu.Unlock()
			}
			w.writes.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Cleanup(func() { cancel(); w.wg.Wait() })
	return w
}

// stop ends the writer, once it has sent at least five writes, and checks
// every write was answered 204.
func (w *liveWriter) stop(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); w.writes.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	w.cancel()
	w.wg.Wait()
	t.Logf("ingest meanwhile: %d writes of 100 samples, %d not 204, slowest %s", w.writes.Load(), len(w.bad),
		time.Duration(w.slowest.Load()).Round(time.Millisecond))
	if len(w.bad) > 0 {
		t.Errorf("%d writes were not answered 204, the first: %s", len(w.bad), w.bad[0])
	}
	if w.writes.Load() < 5 {
		t.Errorf("only %d writes were sent meanwhile", w.writes.Load())
	}
}

func mapMiB(ns []int64) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n >> 20
	}
	return out
}

// loadCardinality writes n series card_v{id=...} of one sample each, spread
// over the 700 hours before now, in posts of 10,000 lines; a post refused
// for overload is sent again after its Retry-After.
func loadCardinality(t *testing.T, s *server, n int, now time.Time) {
	t.Helper()
	client := &http.Client{Timeout: time.Minute}
	for first := 0; first < n; {
		var b strings.Builder
		last := min(first+10_000, n)
		for i := first; i < last; i++ {
			ts := now.Add(-time.Duration(i%700)*time.Hour - 30*time.Minute).Unix()
			fmt.Fprintf(&b, "card,id=%06d v=%d %d\n", i, i, ts)
		}
		code, body, err := post(t.Context(), client, s.base, "db=rel&precision=s", b.String())
		switch {
		case err == nil && code == http.StatusNoContent:
			first = last
		case err == nil && (code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests):
			time.Sleep(time.Second)
		default:
			t.Fatalf("load series %d-%d: HTTP %d %q %v", first, last, code, body, err)
		}
	}
}

// exportLines reads /api/v1/export for match to the end and counts its
// lines, failing on an error line.
func exportLines(t *testing.T, base, match string) (int, time.Duration) {
	t.Helper()
	t0 := time.Now()
	resp, err := http.PostForm(base+"/api/v1/export", url.Values{"match[]": {match}})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export: HTTP %d %s", resp.StatusCode, b)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if i := strings.Index(string(b), `{"error"`); i >= 0 {
		t.Fatalf("export: %.300s", b[i:])
	}
	return strings.Count(string(b), "\n"), time.Since(t0)
}
