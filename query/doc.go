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
// Selectors are evaluated per series: the series are selected once, their
// chunks read by the store a batch at a time (tsdb.SeriesSet), then
// each worker (GOMAXPROCS of them) takes one series at a time and reads
// its samples forward, an epoch's chunk decoded at a time
// (tsdb.Iterator.NextBatch), into a window cursor that drops what falls
// before the window and skips epochs inside gaps (never re-reading a
// sample); it computes the rollup at every step, finding each window's
// end by binary search. An aggregation whose argument is a selector
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
// query.max_memory_per_query, query.max_memory,
// query.max_points_per_series, query.max_concurrent) bound a query's time,
// the raw samples it reads plus the points it holds (ErrTooManySamples,
// Prometheus' message, execution/422), the memory it holds and the memory
// all running queries hold (ErrMemoryLimit, execution/422, naming the
// limit), the steps of a range query (ErrTooManyPoints, bad_data/400) and
// the queries running at once (more wait for a slot until their timeout).
// Cancellation and timeouts are checked between series and between
// expression nodes (ErrCanceled, canceled/499; ErrTimeout, timeout/503).
//
// Memory is charged before it is taken (budget.go): each batch of chunks
// by the store, from their sizes, before it copies them; the points of a
// selector's results for all its series at once, before the first series
// is read; aggregation states, binary operator results, subquery inputs
// and the final Matrix as they are built. So a query too large for its
// limits fails in milliseconds with little allocated, and one that fits
// holds at most a batch of chunks (8 MiB) plus its results.
//
// # Slow queries
//
// A query that takes at least query.slow_query_threshold (1 s; 0 turns it
// off) is logged at WARN once, when it ends, and kept among the last 20
// (Engine.SlowQueries, for the status page) with its range, duration and
// the samples it counted (slowlog.go).
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
//     lookback. Instant queries use a 5m step, and their lookback is that
//     step exactly, (t-5m, t], not widened for sparse series (a sample
//     exactly 5m old is not returned, as in Prometheus 3 and current
//     MetricsQL). Options.LookbackDelta caps the implicit window like
//     VictoriaMetrics' -search.maxLookback; query.lookback_delta sets it,
//     or else query.max_staleness_interval (-search.maxStalenessInterval).
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
//     holt_winters, hoeffding_bound_*, rollup, rollup_candlestick,
//     timestamp_with_name, ceil, floor, round, clamp*, keep_last_value,
//     keep_next_value, interpolate, smooth_exponential, remove_resets,
//     range_first/last/median/quantile/stddev/stdvar/mad,
//     range_trim_*, range_linear_regression, and by
//     keep_metric_names on rollups, math and time transforms and binary
//     operators. running_* and range_sum/avg/min/max drop it, as
//     VictoriaMetrics does. The name is dropped at the function that drops
//     it (no delayed name removal).
//   - Comparisons keep series that are empty at every step, so
//     `(a > 1) default 0` fills them; and, unless, or, if, ifnot and
//     default work per step. A bool comparison is empty only where its
//     left operand is; a missing right operand compares false (0, or 1
//     for !=).
//   - mode_over_time counts the previous sample as a value before the
//     window's (and answers it for an empty window); zscore_over_time is
//     empty once the series lags by more than its mean interval;
//     tlast_change_over_time without a previous sample answers the first
//     sample's time; increase_pure after a gap starts from the last sample
//     before it.
//   - The rollup_delta/deriv/increase/rate/scrape_interval family rewrites
//     the whole series first (the difference to the next sample, or the
//     interval since the previous one) and then takes min/max/avg per
//     window; rollup_candlestick at t covers the step after t.
//   - any() returns one series of each group with its own labels.
//   - round(v, n) rounds as MetricsQL does (add n/2 away from zero, drop
//     the remainder, truncate to n's decimals), and end() is the query's
//     end as requested, not the last step.
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
//   - Two deliberate departures: sgn() of a missing point stays missing
//     (VictoriaMetrics answers 0), and an instant query of a scalar
//     expression answers a Prometheus scalar, NaN when scalar() has not
//     exactly one series (VictoriaMetrics answers an empty vector).
//
// # Versus VictoriaMetrics 1.79.5
//
// TestEngine_VMDiff (vmdiff_test.go) runs 300+ queries on Debian's
// victoria-metrics 1.79.5 and on outpost over the same data; every answer
// matches within 1e-9 except these, each marked in the test's table with
// its reason. They are changes made to MetricsQL after 1.79.5, which
// outpost follows, or choices the language leaves open:
//
//   - 1.79.5 widened explicit windows shorter than the scrape interval
//     for rate, irate and deriv (changed in 1.85); outpost widens
//     implicit windows only.
//   - 1.79.5 answers 0 for increase_pure over an empty window after the
//     series ended; current MetricsQL answers nothing.
//   - 1.79.5's bottomk ranks a series missing at a step lowest, so it can
//     answer nothing there; current MetricsQL skips missing series.
//   - 1.79.5's interpolate extends the last value over trailing empty
//     steps, and its range_first/last/median/quantile leave steps without
//     input empty; current MetricsQL does the opposite in both cases.
//   - 1.79.5 returns staleness markers as NaN samples of a raw range
//     vector (`m[5m]`); outpost leaves them out, as Prometheus does.
//   - 1.79.5 finds nothing when an instant evaluation falls exactly on the
//     data's first sample (seen at a month start, `m @ start()`).
//   - Functions and syntax 1.79.5 does not know: mad_over_time,
//     share_eq_over_time, sum_eq/gt/le_over_time, range_stddev/stdvar/
//     mad, sort_by_label_numeric, rate_prometheus, rollup()'s second
//     argument and group_left's prefix.
//   - Which series win ties in topk/bottomk, topk_max and friends, and the
//     order limitk, limit_offset and any pick from (label order here,
//     storage order there), are implementation-defined.
//   - The two deliberate departures above (sgn, scalar shape).
//   - 1.79.5 lets a vmrange bucket that is zero over the whole range hide
//     the gap below the next bucket (no le bucket at its lower bound);
//     current MetricsQL adds it, which moves quantiles interpolated there.
//   - 1.79.5's buckets_limit merges empty buckets at either end like the
//     others; current MetricsQL drops such runs first.
//   - 1.79.5's bitmap_* turn a missing point into uint64(NaN) (0 or
//     2^63); current MetricsQL leaves it missing.
//   - VictoriaMetrics' histogram_quantile with a bounds label answers
//     bounds at steps where the histogram is empty (and the quantile
//     NaN); outpost answers none there.
//   - outliersk scores a series by its squared distance from the median
//     over the steps where both exist; VictoriaMetrics lets a missing step
//     make the score NaN and ranks the series last.
//
// integrate counts the previous sample's value from the window start, and
// tmin/tmax_over_time return the last of equal extremes, as
// VictoriaMetrics does.
//
// An instant query of a bare range selector (`m[5m]`) or subquery returns
// a Matrix of raw samples (or subquery points), as in Prometheus. An
// instant query of a scalar expression returns a Scalar and a string
// literal a String, so the Prometheus API shapes match.
//
// Every function the pinned metricsql parser knows is implemented
// (TestEngine_KnowsEveryMetricsQLFunction checks its tables). Among the
// later ones: VictoriaMetrics' vmrange buckets (`vmrange="lo...hi"`, each
// counting its own observations) are accepted by every histogram function
// and turned into cumulative le buckets first, as prometheus_buckets does
// (histogram_vmrange.go); histogram_over_time and the histogram
// aggregation bucket values into vmrange buckets; histogram_over_time and
// count_values_over_time give a series per bucket or value seen
// (rollup_dyn.go); buckets_limit merges the adjacent buckets with the
// fewest observations; histogram_avg/stddev/stdvar take each bucket's
// observations at its middle; outliersk, outliers_mad and outliers_iqr
// return whole input series (aggr_outliers.go); range_trim_* and
// range_linear_regression work on a series' whole range and keep its
// name; timezone_offset reads the zone database embedded in the binary;
// rand, rand_normal and rand_exponential take an optional seed. Native
// histograms are not supported.
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
