package query

import (
	"testing"
	"time"

	"outpost/tsdb"
)

// TestEngine_InstantLookbackLeftOpen: an instant query sees the samples
// of (t - 5m, t]; a sample exactly 5 minutes old is not returned, whatever
// the series' interval (as in Prometheus 3 and VictoriaMetrics).
func TestEngine_InstantLookbackLeftOpen(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(2*time.Hour))
	// Dense (1 m) and sparse (10 m) series, each ending at t0+30m.
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "dense"), t0, time.Minute, make([]float64, 31)...))
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "sparse"), t0, 10*time.Minute, 1, 2, 3, 4))
	e := NewEngine(db, Options{})
	last := t0.Add(30 * time.Minute)
	for _, q := range []string{"dense", "sparse"} {
		for _, c := range []struct {
			at   time.Duration
			want int
		}{{0, 1}, {5*time.Minute - time.Millisecond, 1}, {5 * time.Minute, 0}, {5*time.Minute + time.Second, 0}} {
			v, err := e.Instant(t.Context(), q, last.Add(c.at))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(v.(Vector)); got != c.want {
				t.Errorf("%s at last sample + %s: %d series, want %d", q, c.at, got, c.want)
			}
		}
	}
}

// TestEngine_MaxStalenessInterval: query.max_staleness_interval caps the
// implicit window, which otherwise widens to a sparse series' interval.
func TestEngine_MaxStalenessInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(2*time.Hour))
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "sparse"), t0, 10*time.Minute, 1, 2, 3, 4, 5, 6))
	points := func(cfg Config) int {
		e := NewEngine(db, cfg.Options(nil, nil))
		v, err := e.Range(t.Context(), "sparse", t0, t0.Add(50*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range v.(Matrix) {
			n += len(s.Points)
		}
		return n
	}
	cfg := DefaultConfig()
	if n := points(cfg); n != 51 {
		t.Errorf("without a cap: %d points, want 51 (the window widens to the 10m interval)", n)
	}
	cfg.MaxStalenessInterval = 5 * time.Minute
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Each sample is seen at its own step and the 4 after it, (t-5m, t];
	// the last only at the range's last step.
	if n := points(cfg); n != 5*5+1 {
		t.Errorf("query.max_staleness_interval 5m: %d points, want 26", n)
	}
	cfg.LookbackDelta = 2 * time.Minute // query.lookback_delta takes precedence
	if n := points(cfg); n != 5*2+1 {
		t.Errorf("query.lookback_delta 2m with max_staleness_interval 5m: %d points, want 11", n)
	}
	cfg.MaxStalenessInterval = -time.Second
	if err := cfg.Validate(); err == nil {
		t.Error("a negative query.max_staleness_interval is accepted")
	}
}
