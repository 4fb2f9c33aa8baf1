package query

import (
	"context"
	"errors"
	"testing"
	"time"

	"outpost/tsdb"
)

// loadManySeries writes n series × points samples at 10 s.
func loadManySeries(t *testing.T, n, points int) (*tsdb.DB, time.Time) {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(time.Duration(points)*10*time.Second))
	var pts []tsdb.Point
	for i := range n {
		ls := tsdb.FromStrings("__name__", "m", "i", string(rune('a'+i%26))+string(rune('a'+i/26)))
		for j := range points {
			pts = append(pts, tsdb.Point{Labels: ls, T: t0.Add(time.Duration(j) * 10 * time.Second).UnixMilli(), V: float64(j)})
		}
	}
	writePoints(t, db, pts)
	return db, t0
}

func TestEngine_Range_TooManySamples(t *testing.T) {
	db, t0 := loadManySeries(t, 50, 360)
	e := NewEngine(db, Options{MaxSamples: 5000})
	_, err := e.Range(t.Context(), `sum(rate(m[5m]))`, t0, t0.Add(time.Hour), time.Minute)
	if !errors.Is(err, ErrTooManySamples) {
		t.Fatalf("got %v, want ErrTooManySamples", err)
	}
	if typ, code := classify(err); typ != errorExecution || code != 422 {
		t.Errorf("classify = %s %d, want execution 422", typ, code)
	}
	// The same query fits a larger budget.
	e = NewEngine(db, Options{MaxSamples: 1_000_000})
	v, err := e.Range(t.Context(), `sum(rate(m[5m]))`, t0, t0.Add(time.Hour), time.Minute)
	if err != nil || len(v.(Matrix)) != 1 {
		t.Fatalf("got %v, %v; want one series", v, err)
	}
}

func TestEngine_Range_TooManyPoints(t *testing.T) {
	db, t0 := loadManySeries(t, 1, 10)
	e := NewEngine(db, Options{MaxPointsPerSeries: 100})
	_, err := e.Range(t.Context(), `m`, t0, t0.Add(time.Hour), time.Second)
	if !errors.Is(err, ErrTooManyPoints) {
		t.Fatalf("got %v, want ErrTooManyPoints", err)
	}
}

func TestEngine_Range_Timeout(t *testing.T) {
	db, t0 := loadManySeries(t, 200, 2000)
	e := NewEngine(db, Options{Timeout: 2 * time.Millisecond})
	start := time.Now()
	_, err := e.Range(t.Context(), `max_over_time(rate(m[5m])[1h:10s])`, t0, t0.Add(5*time.Hour), 10*time.Second)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if typ, code := classify(err); typ != errorTimeout || code != 503 {
		t.Errorf("classify = %s %d, want timeout 503", typ, code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the query took %s to stop", d)
	}
}

func TestEngine_Instant_Canceled(t *testing.T) {
	db, t0 := loadManySeries(t, 200, 2000)
	e := NewEngine(db, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(time.Millisecond)
		cancel()
	}()
	start := time.Now()
	_, err := e.Range(ctx, `max_over_time(rate(m[5m])[1h:10s])`, t0, t0.Add(5*time.Hour), 10*time.Second)
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v, want ErrCanceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the query took %s to stop", d)
	}
}

func TestEngine_MaxConcurrent_Wait(t *testing.T) {
	db, t0 := loadManySeries(t, 1, 10)
	e := NewEngine(db, Options{MaxConcurrent: 1, Timeout: 50 * time.Millisecond})
	e.sem <- struct{}{} // the only slot is taken
	_, err := e.Instant(t.Context(), `m`, t0)
	<-e.sem
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout while waiting for a slot", err)
	}
	if _, err := e.Instant(t.Context(), `m`, t0); err != nil {
		t.Fatalf("with a free slot: %v", err)
	}
}
