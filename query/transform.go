package query

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"
)

// transformSpec describes one transform function (a function over
// instant vectors, not over range windows).
type transformSpec struct {
	minArgs, maxArgs int
	fn               func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error)
}

// newTransformSpecs builds the table of transform functions. It is a
// function, not a package variable, because the functions evaluate their
// arguments through the evaluator, which looks the table up: a variable
// would form an initialization cycle. Each Engine holds one.
func newTransformSpecs() map[string]*transformSpec {
	return map[string]*transformSpec{
		"":                           {0, -1, tfUnion},
		"union":                      {0, -1, tfUnion},
		"abs":                        mathTF(math.Abs, false),
		"ceil":                       mathTF(math.Ceil, true),
		"floor":                      mathTF(math.Floor, true),
		"sqrt":                       mathTF(math.Sqrt, false),
		"exp":                        mathTF(math.Exp, false),
		"ln":                         mathTF(math.Log, false),
		"log2":                       mathTF(math.Log2, false),
		"log10":                      mathTF(math.Log10, false),
		"sin":                        mathTF(math.Sin, false),
		"cos":                        mathTF(math.Cos, false),
		"tan":                        mathTF(math.Tan, false),
		"asin":                       mathTF(math.Asin, false),
		"acos":                       mathTF(math.Acos, false),
		"atan":                       mathTF(math.Atan, false),
		"sinh":                       mathTF(math.Sinh, false),
		"cosh":                       mathTF(math.Cosh, false),
		"tanh":                       mathTF(math.Tanh, false),
		"asinh":                      mathTF(math.Asinh, false),
		"acosh":                      mathTF(math.Acosh, false),
		"atanh":                      mathTF(math.Atanh, false),
		"deg":                        mathTF(func(v float64) float64 { return v * 180 / math.Pi }, false),
		"rad":                        mathTF(func(v float64) float64 { return v * math.Pi / 180 }, false),
		"sgn":                        mathTF(sgn, false),
		"round":                      {1, 2, tfRound},
		"clamp":                      {3, 3, tfClamp},
		"clamp_min":                  {2, 2, tfClampMin},
		"clamp_max":                  {2, 2, tfClampMax},
		"absent":                     {1, 1, tfAbsent},
		"scalar":                     {1, 1, tfScalar},
		"vector":                     {1, 1, tfVector},
		"time":                       {0, 0, tfTime},
		"now":                        {0, 0, tfNow},
		"pi":                         {0, 0, tfConst(math.Pi)},
		"start":                      {0, 0, tfStart},
		"end":                        {0, 0, tfEnd},
		"step":                       {0, 0, tfStep},
		"minute":                     timeTF(func(t time.Time) float64 { return float64(t.Minute()) }),
		"hour":                       timeTF(func(t time.Time) float64 { return float64(t.Hour()) }),
		"day_of_month":               timeTF(func(t time.Time) float64 { return float64(t.Day()) }),
		"day_of_week":                timeTF(func(t time.Time) float64 { return float64(t.Weekday()) }),
		"day_of_year":                timeTF(func(t time.Time) float64 { return float64(t.YearDay()) }),
		"days_in_month":              timeTF(daysInMonth),
		"month":                      timeTF(func(t time.Time) float64 { return float64(t.Month()) }),
		"year":                       timeTF(func(t time.Time) float64 { return float64(t.Year()) }),
		"sort":                       {1, 1, tfSort(false)},
		"sort_desc":                  {1, 1, tfSort(true)},
		"sort_by_label":              {2, -1, tfSortByLabel(false, false)},
		"sort_by_label_desc":         {2, -1, tfSortByLabel(true, false)},
		"sort_by_label_numeric":      {2, -1, tfSortByLabel(false, true)},
		"sort_by_label_numeric_desc": {2, -1, tfSortByLabel(true, true)},
		"label_replace":              {5, 5, tfLabelReplace},
		"label_join":                 {3, -1, tfLabelJoin},
		"label_set":                  {1, -1, tfLabelSet},
		"label_del":                  {1, -1, tfLabelDel},
		"label_keep":                 {1, -1, tfLabelKeep},
		"label_copy":                 {1, -1, tfLabelCopy(false)},
		"label_move":                 {1, -1, tfLabelCopy(true)},
		"label_lowercase":            {1, -1, tfLabelCase(false)},
		"label_uppercase":            {1, -1, tfLabelCase(true)},
		"label_map":                  {2, -1, tfLabelMap},
		"label_match":                {3, 3, tfLabelMatch(false)},
		"label_mismatch":             {3, 3, tfLabelMatch(true)},
		"label_value":                {2, 2, tfLabelValue},
		"label_transform":            {4, 4, tfLabelTransform},
		"drop_common_labels":         {1, -1, tfDropCommonLabels},
		"histogram_quantile":         {2, 3, tfHistogramQuantile},
		"histogram_quantiles":        {3, -1, tfHistogramQuantiles},
		"histogram_share":            {2, 3, tfHistogramShare},
		"histogram_fraction":         {3, 3, tfHistogramFraction},
		"keep_last_value":            {1, 1, tfValues(keepLastValue)},
		"keep_next_value":            {1, 1, tfValues(keepNextValue)},
		"interpolate":                {1, 1, tfValues(interpolate)},
		"remove_resets":              {1, 1, tfValues(removeResets)},
		"running_sum":                {1, 1, tfRunning("sum")},
		"running_avg":                {1, 1, tfRunning("avg")},
		"running_min":                {1, 1, tfRunning("min")},
		"running_max":                {1, 1, tfRunning("max")},
		"range_sum":                  {1, 1, tfRange(rollupSum, false)},
		"range_avg":                  {1, 1, tfRange(rollupAvg, false)},
		"range_min":                  {1, 1, tfRange(rollupMin, false)},
		"range_max":                  {1, 1, tfRange(rollupMax, false)},
		"range_first":                {1, 1, tfRange(rollupFirst, true)},
		"range_last":                 {1, 1, tfRange(rollupLast, true)},
		"range_median":               {1, 1, tfRange(rollupMedian, true)},
		"range_stddev":               {1, 1, tfRange(rollupStddev, true)},
		"range_stdvar":               {1, 1, tfRange(rollupStdvar, true)},
		"range_mad":                  {1, 1, tfRange(rollupMAD, true)},
		"range_quantile":             {2, 2, tfRangeQuantile},
		"range_normalize":            {1, -1, tfRangeNormalize},
		"range_zscore":               {1, 1, tfRangeZscore},
		"smooth_exponential":         {2, 2, tfSmoothExponential},
		"limit_offset":               {3, 3, tfLimitOffset},
		"drop_empty_series":          {1, 1, tfDropEmpty},
		"prometheus_buckets":         {1, 1, tfPrometheusBuckets},
		"buckets_limit":              {2, 2, tfBucketsLimit},
		"histogram_avg":              {1, 1, tfHistogramAvg},
		"histogram_stddev":           {1, 1, tfHistogramStddev},
		"histogram_stdvar":           {1, 1, tfHistogramStdvar},
		"bitmap_and":                 {2, 2, tfBitmap(func(a, b uint64) uint64 { return a & b })},
		"bitmap_or":                  {2, 2, tfBitmap(func(a, b uint64) uint64 { return a | b })},
		"bitmap_xor":                 {2, 2, tfBitmap(func(a, b uint64) uint64 { return a ^ b })},
		"rand":                       {0, 1, tfRand((*rand.Rand).Float64)},
		"rand_normal":                {0, 1, tfRand((*rand.Rand).NormFloat64)},
		"rand_exponential":           {0, 1, tfRand((*rand.Rand).ExpFloat64)},
		"timezone_offset":            {1, 1, tfTimezoneOffset},
		"range_trim_outliers":        {2, 2, tfRangeTrim("k", trimOutliers)},
		"range_trim_spikes":          {2, 2, tfRangeTrim("phi", trimSpikes)},
		"range_trim_zscore":          {2, 2, tfRangeTrim("z", trimZscore)},
		"range_linear_regression":    {1, 1, tfRangeLinearRegression},
		"labels_equal":               {3, -1, tfLabelsEqual},
		"label_graphite_group":       {2, -1, tfLabelGraphiteGroup},
	}
}

// transformArities holds each transform's argument bounds for Parse.
var transformArities = func() map[string][2]int {
	m := make(map[string][2]int)
	for name, s := range newTransformSpecs() {
		m[name] = [2]int{s.minArgs, s.maxArgs}
	}
	return m
}()

// evalTransform evaluates a transform function call.
func (ev *evaluator) evalTransform(ec *evalConfig, name string, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	spec := ev.e.transforms[name]
	if spec == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownFunction, fe.Name)
	}
	tss, err := spec.fn(ev, ec, fe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return tss, nil
}

// mathTF builds a transform applying f to every value; keep says the
// metric name survives (MetricsQL keeps it for ceil, floor, round, clamp).
func mathTF(f func(float64) float64, keep bool) *transformSpec {
	return &transformSpec{1, 1, func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.eval(ec, fe.Args[0])
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			for i, v := range ts.values {
				if !isNaN(v) {
					ts.values[i] = f(v)
				}
			}
		}
		return fixNames(tss, keep || fe.KeepMetricNames), nil
	}}
}

// fixNames drops the metric names of tss unless keep.
func fixNames(tss []*timeseries, keep bool) []*timeseries {
	if !keep {
		for _, ts := range tss {
			ts.labels = dropName(ts.labels)
		}
	}
	return tss
}

func sgn(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return v
}

// argSeries evaluates argument i of fe as series.
func (ev *evaluator) argSeries(ec *evalConfig, fe *metricsql.FuncExpr, i int) ([]*timeseries, error) {
	return ev.eval(ec, fe.Args[i])
}

func tfUnion(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	if len(fe.Args) == 1 {
		return ev.eval(ec, fe.Args[0])
	}
	seen := map[string]bool{}
	var out []*timeseries
	var key []byte
	for _, a := range fe.Args {
		tss, err := ev.eval(ec, a)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			if ts.isEmpty() {
				continue
			}
			key = appendLabelsKey(key[:0], ts.labels)
			if !seen[string(key)] {
				seen[string(key)] = true
				out = append(out, ts)
			}
		}
	}
	return out, nil
}

func tfRound(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	nearest := make([]float64, ec.points())
	for i := range nearest {
		nearest[i] = 1
	}
	if len(fe.Args) == 2 {
		if nearest, err = ev.evalScalarArg(ec, fe.Args[1], "nearest"); err != nil {
			return nil, err
		}
	}
	for _, ts := range tss {
		for i, v := range ts.values {
			if !isNaN(v) {
				ts.values[i] = roundTo(v, nearest[i])
			}
		}
	}
	return fixNames(tss, true), nil
}

// roundTo rounds v to a multiple of nearest as MetricsQL does: add half of
// nearest away from zero, drop the remainder, then truncate to nearest's
// decimal digits so the binary error of the remainder does not show.
func roundTo(v, nearest float64) float64 {
	p10 := math.Pow10(-decimalExponent(nearest))
	v += 0.5 * math.Copysign(nearest, v)
	v -= math.Mod(v, nearest)
	v, _ = math.Modf(v * p10)
	return v / p10
}

// decimalExponent returns e such that n = m * 10^e with an integer m
// without trailing zeros (0.25 -> -2, 5 -> 0, 300 -> 2), from n's
// shortest decimal form.
func decimalExponent(n float64) int {
	if n == 0 || isNaN(n) || isInf(n) {
		return 0
	}
	s := strconv.FormatFloat(math.Abs(n), 'e', -1, 64) // d.ddde±x
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	if dot := strings.IndexByte(mant, '.'); dot >= 0 {
		e -= len(mant) - dot - 1
	}
	return e
}

func clampWith(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr, lo, hi metricsql.Expr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	los, his := make([]float64, ec.points()), make([]float64, ec.points())
	for i := range los {
		los[i], his[i] = math.Inf(-1), math.Inf(1)
	}
	if lo != nil {
		if los, err = ev.evalScalarArg(ec, lo, "min"); err != nil {
			return nil, err
		}
	}
	if hi != nil {
		if his, err = ev.evalScalarArg(ec, hi, "max"); err != nil {
			return nil, err
		}
	}
	for _, ts := range tss {
		for i, v := range ts.values {
			switch {
			case isNaN(v):
			case los[i] > his[i]:
				ts.values[i] = nan
			default:
				ts.values[i] = math.Max(los[i], math.Min(his[i], v))
			}
		}
	}
	return fixNames(tss, true), nil
}

func tfClamp(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return clampWith(ev, ec, fe, fe.Args[1], fe.Args[2])
}

func tfClampMin(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return clampWith(ev, ec, fe, fe.Args[1], nil)
}

func tfClampMax(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return clampWith(ev, ec, fe, nil, fe.Args[1])
}
