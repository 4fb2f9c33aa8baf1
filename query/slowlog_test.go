package query

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/tsdb"
)

// slowEngine returns an engine over a store holding one series of a sample
// every 10 s over the hour before now, which keeps every query as slow.
func slowEngine(t *testing.T, now time.Time, keep int, logs *bytes.Buffer) *Engine {
	t.Helper()
	db := openTestDB(t, now)
	vs := make([]float64, 360)
	for i := range vs {
		vs[i] = float64(i)
	}
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "slow_metric", "host", "a"), now.Add(-time.Hour), 10*time.Second, vs...))
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, nil))
	}
	return NewEngine(db, Options{Now: func() time.Time { return now }, SlowQueryThreshold: time.Nanosecond, SlowQueries: keep, Logger: log})
}

func TestEngine_SlowQueries_Recorded(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	e := slowEngine(t, now, 0, &logs)
	ctx := context.Background()
	if _, err := e.Range(ctx, `rate(slow_metric[5m])`, now.Add(-time.Hour), now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Instant(ctx, `slow_metric[30m]`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Instant(ctx, `sum(`, now); err == nil {
		t.Fatal("a bad query gave no error")
	}
	got := e.SlowQueries()
	if len(got) != 3 {
		t.Fatalf("%d slow queries, want 3: %+v", len(got), got)
	}
	bad, vec, rng := got[0], got[1], got[2] // newest first
	if rng.Query != `rate(slow_metric[5m])` || rng.Instant || !rng.Start.Equal(now.Add(-time.Hour)) || !rng.End.Equal(now) ||
		rng.Step != time.Minute || rng.Samples < 360 || rng.Err != "" || !rng.At.Equal(now) || rng.Duration <= 0 {
		t.Errorf("range query: %+v", rng)
	}
	if vec.Query != `slow_metric[30m]` || !vec.Instant || !vec.End.Equal(now) || vec.Step != 0 || vec.Samples != 179 {
		t.Errorf("range vector at an instant: %+v (want 179 samples read: (now-30m, now])", vec)
	}
	if bad.Query != `sum(` || bad.Err == "" || bad.Samples != 0 {
		t.Errorf("failed query: %+v", bad)
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"slow query\""); n != 3 {
		t.Errorf("%d slow-query warnings, want one per query:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `query=rate(slow_metric[5m])`) || !strings.Contains(logs.String(), "step=1m0s") {
		t.Errorf("the warning lacks the query or its step:\n%s", logs.String())
	}
}

func TestEngine_SlowQueries_Bounded(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	e := slowEngine(t, now, 3, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5 {
				if _, err := e.Instant(ctx, fmt.Sprintf("slow_metric + %d", g*10+i), now); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := e.SlowQueries(); len(got) != 3 {
		t.Fatalf("%d slow queries kept, want the last 3", len(got))
	}
	// One goroutine: the order is the order of the queries.
	for i := range 5 {
		if _, err := e.Instant(ctx, fmt.Sprintf("slow_metric * %d", i), now); err != nil {
			t.Fatal(err)
		}
	}
	got := e.SlowQueries()
	for i, want := range []string{"slow_metric * 4", "slow_metric * 3", "slow_metric * 2"} {
		if got[i].Query != want {
			t.Errorf("slow query %d is %q, want %q", i, got[i].Query, want)
		}
	}
}

func TestEngine_SlowQueries_Off(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	db := openTestDB(t, now)
	cfg := DefaultConfig()
	cfg.SlowQueryThreshold = 0
	e := NewEngine(db, cfg.Options(nil, func() time.Time { return now }))
	if _, err := e.Instant(context.Background(), "1+1", now); err != nil {
		t.Fatal(err)
	}
	if got := e.SlowQueries(); len(got) != 0 {
		t.Errorf("query.slow_query_threshold 0 kept %d queries", len(got))
	}
	cfg.SlowQueryThreshold = -time.Second
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "query.slow_query_threshold") {
		t.Errorf("a negative threshold: %v", err)
	}
	if DefaultConfig().SlowQueryThreshold != time.Second {
		t.Errorf("default threshold %s, want 1s", DefaultConfig().SlowQueryThreshold)
	}
}

func TestSlowLog_LongQueryCut(t *testing.T) {
	q := strings.Repeat("é", maxSlowQueryText) // two bytes each
	c := cut(q, maxSlowQueryText)
	if len(c) > maxSlowQueryText+len("…") || !strings.HasSuffix(c, "…") || !strings.HasPrefix(q, strings.TrimSuffix(c, "…")) {
		t.Errorf("cut to %d bytes: %q…", len(c), c[:16])
	}
	if cut("up", 10) != "up" {
		t.Error("a short query was changed")
	}
}
