// Package query evaluates MetricsQL over the tsdb store and serves the
// Prometheus HTTP API (DESIGN.md §6).
//
// # Basics
//
// An Engine parses a query with github.com/VictoriaMetrics/metricsql and
// evaluates it over a Storage (*tsdb.DB implements it) on a grid of steps:
// Instant evaluates one step and returns a Vector, a Scalar or a String;
// Range evaluates start, start+step, ... end and returns a Matrix sorted
// by labels. Internally every expression yields series with one value per
// step, NaN meaning "no value" (MetricsQL's model, where a scalar is a
// label-less series).
//
// Selectors are evaluated per series: the series are selected once, then
// each worker (GOMAXPROCS of them) takes one series at a time, reads its
// samples forward through a window cursor that drops what falls before
// the window and seeks over gaps (never re-reading a sample), and computes
// the rollup at every step. An aggregation whose argument is a selector
// or a rollup of one (`sum by (x) (rate(m[5m]))`) folds each series into
// per-worker group states as soon as it is computed, so no input series
// is held whole; the states are merged at the end.
//
// API serves /api/v1/query, query_range, series, labels,
// label/{name}/values, metadata, query_exemplars, status/buildinfo,
// status/tsdb, rules and alerts with Prometheus' shapes, string-encoded
// values and error types; classify in api.go is the one mapping from
// errors to error types and HTTP status codes. export.go (the lead's)
// serves VictoriaMetrics' /api/v1/export.
//
// # Limits
//
// Options (from Config: query.timeout, query.max_samples,
// query.max_points_per_series, query.max_concurrent) bound a query's time,
// the raw samples it reads plus the points it holds (ErrTooManySamples,
// Prometheus' message, execution/422), the steps of a range query
// (ErrTooManyPoints, bad_data/400) and the queries running at once (more
// wait for a slot until their timeout). Cancellation and timeouts are
// checked between series and between expression nodes (ErrCanceled,
// canceled/499; ErrTimeout, timeout/503).
//
// # MetricsQL, not PromQL
//
// Where the two differ the engine follows MetricsQL
// (../shared/conformance/promql/METRICSQL-DIFFS.md):
//
//   - Rollups use the last sample before the window: rate, increase,
//     delta, changes, resets, irate and idelta count the change from it,
//     and nothing is extrapolated (rate = (last - prev) / (t_last -
//     t_prev); increase = last - prev). With no previous sample, increase
//     assumes the counter started at 0 when its first value is small.
//     The previous sample counts only within the series' scrape interval
//     plus a margin (maxPrevInterval), and only while the series goes on
//     after the window.
//   - Counter resets: a drop of less than an eighth of the previous value
//     is jitter and is evened out; a larger drop is a reset.
//   - A selector outside a rollup is default_rollup(m): the last sample in
//     a window of one step, widened to the series' scrape interval (the
//     0.6 quantile of its first 20 intervals) plus margin; not a fixed 5m
//     lookback. Instant queries use a 5m step. Options.LookbackDelta caps
//     it like VictoriaMetrics' -search.maxLookback.
//   - A rollup without a window gets `[1i]` (rate and friends may widen
//     it as above); a rollup over a non-selector becomes a subquery
//     `[1i:1i]`; a subquery without a step uses the query's step.
//   - Stored NaNs are ignored (VictoriaMetrics drops them at ingestion),
//     and NaN results are removed from the output. Staleness markers end
//     a series for default_rollup only; other rollups skip them.
//   - A label-less single series acts as a scalar on either side of a
//     binary operator (`sum(x) + y` adds the sum to every y).
//     scalar(v) of zero or several series gives nothing, not NaN.
//   - Metric names are kept by rollups and transforms that do not change
//     the meaning of the values: default_rollup, avg/min/max/first/last/
//     median/mode/geomean/quantile(s)_over_time, predict_linear,
//     holt_winters, rollup_candlestick, ceil, floor, round, clamp*,
//     keep_last_value, interpolate, running_avg/min/max, range_avg/min/
//     max/first/last/median, and by keep_metric_names on rollups, math and
//     time transforms and binary operators. The name is dropped at the
//     function that drops it (no delayed name removal).
//   - Comparisons keep series that are empty at every step, so
//     `(a > 1) default 0` fills them; and, unless, or, if, ifnot and
//     default work per step.
//   - group_left/group_right copy the listed labels from the "one" side
//     and accept MetricsQL's `prefix "x"`; one-side series of a match
//     group whose points do not overlap are merged first.
//   - Duplicate output label sets are an error unless their points do
//     not overlap in time (then they merge).
//   - topk/bottomk drop NaN series; limitk keeps the first k series in
//     label order; count_values formats values as Prometheus does.
//   - histogram_quantile interpolates inside the bucket as
//     VictoriaMetrics does, evens out non-monotonic buckets, and returns
//     the highest finite bound when the quantile falls in +Inf.
//   - Range queries are not aligned to multiples of the step (there is
//     no result cache to align for), and results at exactly the query time
//     are not shifted by VictoriaMetrics' -search.latencyOffset (writes
//     are visible when acknowledged).
//   - Versus the Debian VictoriaMetrics 1.79.5 used as the oracle: that
//     release also widened explicit windows of rate/irate/deriv to the
//     scrape interval (changed in 1.85); outpost follows current
//     MetricsQL and widens implicit windows only. integrate counts the
//     previous sample's value from the window start, and tmin/tmax_over_time
//     return the last of equal extremes, as 1.79.5 does. Which series win
//     ties in topk/bottomk, topk_max and friends, and the order limitk and
//     limit_offset pick from (label order here, storage order there), are
//     implementation-defined and may differ.
//
// An instant query of a bare range selector (`m[5m]`) or subquery returns
// a Matrix of raw samples (or subquery points), as in Prometheus. An
// instant query of a scalar expression returns a Scalar and a string
// literal a String, so the Prometheus API shapes match.
//
// Not implemented (the parser knows them, the engine answers "unknown
// function" by name): count_values_over_time, histogram_over_time,
// outlier_iqr_over_time, the aggregations histogram, outliers_iqr,
// outliers_mad and outliersk, and the transforms prometheus_buckets,
// buckets_limit, bitmap_*, label_graphite_group, labels_equal,
// timezone_offset, rand*, range_linear_regression, range_trim_* and
// histogram_avg/stddev/stdvar; vmrange buckets and native histograms
// are not supported. rollup_rate/deriv/increase/delta compute adjacent
// differences inside each window rather than over the whole series.
//
// # Concurrency
//
// Engine and API are safe for concurrent use. A query's workers are
// started and waited for inside the call that needs them (errgroup); no
// goroutine outlives a query. Evaluator panics are recovered into
// "internal error" results.
//
// # Imports
//
// query imports outpost/tsdb, github.com/VictoriaMetrics/metricsql,
// golang.org/x/sync and the standard library. Subpackages: promqltest
// (the PromQL test-script runner) and cmd/conformance (`make
// conformance`).
package query
