package query

import (
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

func TestEngine_Instant_ResultTypes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(time.Hour))
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "c1", "job", "a"), t0, time.Minute, 0, 10, 20, 30, 40, 50, 60))
	e := NewEngine(db, Options{})
	at := t0.Add(5 * time.Minute)
	f := func(q, want string) {
		t.Helper()
		v, err := e.Instant(t.Context(), q, at)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := string(appendValueJSON(nil, v)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
	f(`1+1`, `{"resultType":"scalar","result":[1767225900,"2"]}`)
	f(`time() - 60`, `{"resultType":"scalar","result":[1767225900,"1767225840"]}`)
	f(`"s"`, `{"resultType":"string","result":[1767225900,"s"]}`)
	f(`c1`, `{"resultType":"vector","result":[{"metric":{"__name__":"c1","job":"a"},"value":[1767225900,"50"]}]}`)
	f(`rate(c1[5m])`, `{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1767225900,"0.16666666666666666"]}]}`)
	f(`c1[2m]`, `{"resultType":"matrix","result":[{"metric":{"__name__":"c1","job":"a"},"values":[[1767225840,"40"],[1767225900,"50"]]}]}`)
	f(`nothing`, `{"resultType":"vector","result":[]}`)
}

func TestEngine_Range_SortedMatrix(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(time.Hour))
	for _, j := range []string{"c", "a", "b"} {
		writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "m", "job", j), t0, time.Minute, 1, 2, 3))
	}
	e := NewEngine(db, Options{})
	v, err := e.Range(t.Context(), `topk(3, m)`, t0, t0.Add(2*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, s := range v.(Matrix) {
		jobs = append(jobs, s.Labels.Get("job"))
		if len(s.Points) != 3 {
			t.Errorf("%s: %d points, want 3", s.Labels, len(s.Points))
		}
	}
	if strings.Join(jobs, ",") != "a,b,c" {
		t.Errorf("series order %v, want sorted by labels", jobs)
	}
}

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		key string
		mod func(*Config)
	}{
		{"query.timeout", func(c *Config) { c.Timeout = 0 }},
		{"query.max_samples", func(c *Config) { c.MaxSamples = -1 }},
		{"query.max_points_per_series", func(c *Config) { c.MaxPointsPerSeries = 0 }},
		{"query.max_concurrent", func(c *Config) { c.MaxConcurrent = 0 }},
		{"query.lookback_delta", func(c *Config) { c.LookbackDelta = -time.Second }},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.key+":") {
			t.Errorf("%s: Validate() = %v, want an error naming the key", c.key, err)
		}
	}
}

func TestEngine_InstantVector(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(time.Hour))
	writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "disk", "host", "a"), t0, time.Minute, 91, 95))
	e := NewEngine(db, Options{})
	v, err := e.InstantVector(t.Context(), `disk > 90`, t0.Add(time.Minute))
	if err != nil || len(v) != 1 || v[0].V != 95 || v[0].Labels.Get("host") != "a" {
		t.Errorf("disk > 90 = %v, %v", v, err)
	}
	v, err = e.InstantVector(t.Context(), `1 + 1`, t0)
	if err != nil || len(v) != 1 || v[0].V != 2 || len(v[0].Labels) != 0 {
		t.Errorf("1 + 1 = %v, %v", v, err)
	}
	if _, err := e.InstantVector(t.Context(), `disk[5m]`, t0); err == nil {
		t.Error("a range vector must be an error")
	}
}
