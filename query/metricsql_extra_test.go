package query

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// metricsqlFuncs are the function tables of the pinned metricsql parser
// (v0.87.3: aggrFuncs, transformFuncs, rollupFuncs), by kind.
var metricsqlFuncs = map[string][]string{
	"aggr": strings.Fields(`any avg bottomk bottomk_avg bottomk_max bottomk_median bottomk_last bottomk_min
		count count_values distinct geomean group histogram limitk mad max median min mode outliers_iqr
		outliers_mad outliersk quantile quantiles share stddev stdvar sum sum2 topk topk_avg topk_max
		topk_median topk_last topk_min zscore`),
	"transform": strings.Fields(`abs absent acos acosh asin asinh atan atanh bitmap_and bitmap_or bitmap_xor
		buckets_limit ceil clamp clamp_max clamp_min cos cosh day_of_month day_of_week day_of_year
		days_in_month deg drop_common_labels drop_empty_series end exp floor histogram_avg
		histogram_fraction histogram_quantile histogram_quantiles histogram_share histogram_stddev
		histogram_stdvar hour interpolate keep_last_value keep_next_value label_copy label_del
		label_graphite_group label_join label_keep label_lowercase label_map label_match label_mismatch
		label_move label_replace label_set label_transform label_uppercase label_value labels_equal
		limit_offset ln log2 log10 minute month now pi prometheus_buckets rad rand rand_exponential
		rand_normal range_avg range_first range_last range_linear_regression range_mad range_max range_min
		range_normalize range_quantile range_stddev range_stdvar range_sum range_trim_outliers
		range_trim_spikes range_trim_zscore range_zscore remove_resets round running_avg running_max
		running_min running_sum scalar sgn sin sinh smooth_exponential sort sort_by_label
		sort_by_label_desc sort_by_label_numeric sort_by_label_numeric_desc sort_desc sqrt start step tan
		tanh time timezone_offset union vector year`),
	"rollup": strings.Fields(`absent_over_time aggr_over_time ascent_over_time avg_over_time changes
		changes_prometheus count_eq_over_time count_gt_over_time count_le_over_time count_ne_over_time
		count_over_time count_values_over_time decreases_over_time default_rollup delta delta_prometheus
		deriv deriv_fast descent_over_time distinct_over_time duration_over_time first_over_time
		geomean_over_time histogram_over_time hoeffding_bound_lower hoeffding_bound_upper holt_winters
		idelta ideriv increase increase_prometheus increase_pure increases_over_time integrate irate lag
		last_over_time lifetime mad_over_time max_over_time median_over_time min_over_time mode_over_time
		outlier_iqr_over_time predict_linear present_over_time quantile_over_time quantiles_over_time
		range_over_time rate rate_prometheus rate_over_sum resets rollup rollup_candlestick rollup_delta
		rollup_deriv rollup_increase rollup_rate rollup_scrape_interval scrape_interval share_gt_over_time
		share_le_over_time share_eq_over_time stale_samples_over_time stddev_over_time stdvar_over_time
		sum_eq_over_time sum_gt_over_time sum_le_over_time sum_over_time sum2_over_time tfirst_over_time
		timestamp timestamp_with_name tlast_change_over_time tlast_over_time tmax_over_time
		tmin_over_time zscore_over_time`),
}

// TestEngine_KnowsEveryMetricsQLFunction checks that every function the
// parser knows has an implementation.
func TestEngine_KnowsEveryMetricsQLFunction(t *testing.T) {
	transforms := newTransformSpecs()
	for kind, names := range metricsqlFuncs {
		for _, name := range names {
			var parsed, ours bool
			switch kind {
			case "aggr":
				parsed, ours = metricsql.IsAggrFunc(name), aggrSpecs[name] != nil
			case "transform":
				parsed, ours = metricsql.IsTransformFunc(name), transforms[name] != nil || rollupSpecs[name] != nil
			case "rollup":
				parsed, ours = metricsql.IsRollupFunc(name), rollupSpecs[name] != nil
			}
			if !parsed {
				t.Errorf("%s %s: not in the pinned metricsql's tables; update metricsqlFuncs", kind, name)
			}
			if !ours {
				t.Errorf("%s %s: the parser knows it, the engine does not", kind, name)
			}
		}
	}
}

// extraDB holds small data for the tests below: gauges g{i="0".."3"} at
// 1 m from t0 for 30 m, g{i="3"} far from the others.
func extraDB(t *testing.T) (*Engine, time.Time) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := openTestDB(t, t0.Add(time.Hour))
	for i := range 4 {
		vs := make([]float64, 30)
		for j := range vs {
			vs[j] = float64(10 + i + j%3)
			if i == 3 {
				vs[j] += 100
			}
		}
		writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "g", "i", fmt.Sprint(i)), t0, time.Minute, vs...))
	}
	return NewEngine(db, Options{}), t0
}

func rangeOf(t *testing.T, e *Engine, q string, start time.Time, n int) Matrix {
	t.Helper()
	v, err := e.Range(t.Context(), q, start, start.Add(time.Duration(n-1)*time.Minute), time.Minute)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v.(Matrix)
}

func TestEngine_RandShape(t *testing.T) {
	e, t0 := extraDB(t)
	for _, q := range []string{`rand()`, `rand(1)`, `rand_normal()`, `rand_exponential(7)`} {
		m := rangeOf(t, e, q, t0, 20)
		if len(m) != 1 || len(m[0].Points) != 20 || len(m[0].Labels) != 0 {
			t.Fatalf("%s: %d series, want one label-less series of 20 points: %v", q, len(m), m)
		}
		for _, p := range m[0].Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) || (q != `rand_normal()` && p.V < 0) || (strings.HasPrefix(q, "rand(") && p.V >= 1) {
				t.Errorf("%s: value %v out of its range", q, p.V)
			}
		}
	}
	a, b := rangeOf(t, e, `rand(42)`, t0, 5), rangeOf(t, e, `rand(42)`, t0, 5)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("rand(42) twice differs: %v vs %v", a, b)
	}
}

func TestEngine_RangeTrimAndRegression(t *testing.T) {
	e, t0 := extraDB(t)
	count := func(q string) int {
		n := 0
		for _, s := range rangeOf(t, e, q, t0, 30) {
			n += len(s.Points)
		}
		return n
	}
	if n := count(`range_trim_spikes(0.5, timestamp(g{i="0"}))`); n >= 30 || n == 0 {
		t.Errorf("range_trim_spikes(0.5) kept %d of 30 points", n)
	}
	if n := count(`range_trim_zscore(0.5, g{i="0"})`); n >= 30 || n == 0 {
		t.Errorf("range_trim_zscore(0.5) kept %d of 30 points", n)
	}
	if n := count(`range_trim_outliers(100, g{i="0"})`); n != 30 {
		t.Errorf("range_trim_outliers(100) kept %d of 30 points", n)
	}
	m := rangeOf(t, e, `range_linear_regression(timestamp(g{i="0"}))`, t0, 30)
	if len(m) != 1 || m[0].Labels.Get("__name__") != "" {
		t.Fatalf("range_linear_regression: %v", m)
	}
	for _, p := range m[0].Points {
		if want := float64(p.T) / 1000; math.Abs(p.V-want) > 1e-6 {
			t.Errorf("regression of time at %d = %v, want %v", p.T, p.V, want)
		}
	}
}

func TestEngine_OutliersAndLabels(t *testing.T) {
	e, t0 := extraDB(t)
	at := t0.Add(10 * time.Minute)
	for q, want := range map[string]string{
		`outliersk(1, g)`:    `g{i="3"}`,
		`outliers_iqr(g)`:    `g{i="3"}`,
		`outliers_mad(3, g)`: `g{i="3"}`,
		`labels_equal(label_set(g, "j", "2"), "i", "j")`:                       `g{i="2", j="2"}`,
		`label_graphite_group(label_set(g{i="1"}, "__name__", "a.b.c"), 2, 0)`: `c.a{i="1"}`,
		`outlier_iqr_over_time(g{i="3"}[5m])`:                                  ``,
	} {
		v, err := e.Instant(t.Context(), q, at)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, s := range v.(Vector) {
			got = append(got, s.Labels.String())
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s = %v, want %s", q, got, want)
		}
	}
}

func TestEngine_HistogramOverTimeAndCountValues(t *testing.T) {
	e, t0 := extraDB(t)
	at := t0.Add(9 * time.Minute)
	v, err := e.Instant(t.Context(), `histogram_over_time(g{i="0"}[3m])`, at)
	if err != nil {
		t.Fatal(err)
	}
	// Values 10, 11, 12 in the window: three buckets of one each.
	got := map[string]float64{}
	for _, s := range v.(Vector) {
		got[s.Labels.Get("vmrange")] = s.V
	}
	want := map[string]float64{"8.799e+00...1.000e+01": 1, "1.000e+01...1.136e+01": 1, "1.136e+01...1.292e+01": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("histogram_over_time = %v, want %v", got, want)
	}
	v, err = e.Instant(t.Context(), `count_values_over_time("val", g{i="1"}[6m])`, at)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]float64{}
	for _, s := range v.(Vector) {
		got[s.Labels.Get("val")] = s.V
	}
	if want := map[string]float64{"11": 2, "12": 2, "13": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("count_values_over_time = %v, want %v", got, want)
	}
	// In a subquery and under an aggregation as well.
	v, err = e.Instant(t.Context(), `sum by (vmrange) (histogram_over_time(g[3m:1m]))`, at)
	if err != nil || len(v.(Vector)) == 0 {
		t.Errorf("sum of histogram_over_time over a subquery = %v, %v", v, err)
	}
	if _, err := e.Instant(t.Context(), `count_values_over_time(1, g[5m])`, at); !errors.Is(err, ErrBadArgument) {
		t.Errorf("count_values_over_time with a number label: %v, want a bad argument", err)
	}
}

func TestVMRange(t *testing.T) {
	for v, want := range map[float64]string{
		0: vmrLowerRange, 1e-10: vmrLowerRange, 1: "8.799e-01...1.000e+00", 10: "8.799e+00...1.000e+01",
		10.5: "1.000e+01...1.136e+01", 1e18: vmrUpperRange, 5e20: vmrUpperRange,
	} {
		idx, ok := vmrangeIndex(v)
		if !ok || vmrangeName(idx) != want {
			t.Errorf("vmrange of %v = %q, want %q", v, vmrangeName(idx), want)
		}
	}
	for _, v := range []float64{-1, math.NaN()} {
		if _, ok := vmrangeIndex(v); ok {
			t.Errorf("%v is counted", v)
		}
	}
	// Buckets with a gap and a zero bucket become cumulative le buckets
	// with the lower bounds after gaps (the first's too) and +Inf added.
	mk := func(vr string, vs ...float64) *timeseries {
		return &timeseries{labels: tsdb.FromStrings("__name__", "h", "vmrange", vr), values: vs}
	}
	got := vmrangeToLE([]*timeseries{mk("1...2", 1, 2), mk("2...3", 0, 0), mk("5...10", 3, nan), mk("", 1, 1)})
	var s []string
	for _, ts := range got {
		s = append(s, fmt.Sprintf("%s=%v", ts.labels.Get("le"), ts.values))
	}
	if want := "1=[0 0] 2=[1 2] 5=[1 2] 10=[4 2] +Inf=[4 2]"; strings.Join(s, " ") != want {
		t.Errorf("vmrangeToLE = %s, want %s", strings.Join(s, " "), want)
	}
}

func TestEngine_TimezoneOffsetAndBitmap(t *testing.T) {
	e, _ := extraDB(t)
	for at, want := range map[time.Time]float64{
		time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC): -5 * 3600,
		time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC): -4 * 3600,
	} {
		v, err := e.Instant(t.Context(), `timezone_offset("America/New_York")`, at)
		if err != nil || len(v.(Vector)) != 1 || v.(Vector)[0].V != want {
			t.Errorf("timezone_offset at %s = %v, %v; want %v", at, v, err, want)
		}
	}
	if _, err := e.Instant(t.Context(), `timezone_offset("Mars/Olympus")`, time.Now()); !errors.Is(err, ErrBadArgument) {
		t.Errorf("unknown zone: %v, want a bad argument", err)
	}
	v, err := e.Instant(t.Context(), `bitmap_and(vector(13), 6) + bitmap_or(vector(8), 1) * 100 + bitmap_xor(vector(5), 1) * 10000`, time.Now())
	if err != nil || len(v.(Vector)) != 1 || v.(Vector)[0].V != 4+900+40000 {
		t.Errorf("bitmaps = %v, %v", v, err)
	}
	if _, err := e.Instant(t.Context(), `buckets_limit(0, g)`, time.Now()); !errors.Is(err, ErrBadArgument) {
		t.Errorf("buckets_limit(0): %v, want a bad argument", err)
	}
}
