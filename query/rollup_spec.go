package query

// rollupParams holds a rollup call's arguments other than the range one:
// numbers per step, and string literals, each in call order.
type rollupParams struct {
	nums [][]float64
	strs []string
}

// rollupSpec describes one rollup function.
type rollupSpec struct {
	minArgs, maxArgs int // maxArgs -1: unbounded
	f                rollupFunc
	mk               func(p rollupParams) (rollupFunc, error)
	multi            func(p rollupParams) ([]rollupOutput, error)
	removeResets     bool // counter resets are evened out before the rollup
	adjustWindow     bool // an implicit window grows to cover the previous sample
	keepName         bool // the result keeps the metric name
	keepStale        bool // staleness markers reach the function
	noSeek           bool // the function reads the real previous sample at any distance
	pre              preKind
	// dynLabel, for rollups whose outputs depend on the data, names the
	// label that tells them apart (rollup_dyn.go).
	dynLabel func(p rollupParams) (string, error)
}

// windowOnly lists the rollups that read nothing outside their window (no
// previous sample, no scrape interval): their series are read from the
// first window's start, not 5 minutes earlier (a lookup table).
var windowOnly = map[string]bool{
	"avg_over_time": true, "min_over_time": true, "max_over_time": true, "sum_over_time": true,
	"sum2_over_time": true, "count_over_time": true, "stddev_over_time": true, "stdvar_over_time": true,
	"quantile_over_time": true, "quantiles_over_time": true, "median_over_time": true,
	"mad_over_time": true, "range_over_time": true, "present_over_time": true,
	"distinct_over_time": true, "geomean_over_time": true, "first_over_time": true,
	"last_over_time": true, "tfirst_over_time": true, "tlast_over_time": true,
	"tmin_over_time": true, "tmax_over_time": true, "stale_samples_over_time": true,
	"count_eq_over_time": true, "count_ne_over_time": true, "count_gt_over_time": true,
	"count_le_over_time": true, "share_eq_over_time": true, "share_gt_over_time": true,
	"share_le_over_time": true, "sum_eq_over_time": true, "sum_gt_over_time": true,
	"sum_le_over_time": true, "duration_over_time": true, "histogram_over_time": true,
	"count_values_over_time": true, "outlier_iqr_over_time": true,
}

// outputs returns the outputs of the call with parameters p.
func (s *rollupSpec) outputs(p rollupParams) ([]rollupOutput, error) {
	switch {
	case s.multi != nil:
		return s.multi(p)
	case s.mk != nil:
		f, err := s.mk(p)
		if err != nil {
			return nil, err
		}
		return []rollupOutput{{f: f}}, nil
	}
	return []rollupOutput{{f: s.f}}, nil
}

// rollupSpecs lists the rollup functions outpost implements (a lookup
// table, filled once).
var rollupSpecs = map[string]*rollupSpec{
	"default_rollup":          {minArgs: 1, maxArgs: 1, f: rollupLast, keepName: true, keepStale: true, adjustWindow: true},
	"rate":                    {minArgs: 1, maxArgs: 1, f: rollupDerivFast, removeResets: true, adjustWindow: true},
	"irate":                   {minArgs: 1, maxArgs: 1, f: rollupIderiv, removeResets: true, adjustWindow: true},
	"increase":                {minArgs: 1, maxArgs: 1, f: rollupDelta, removeResets: true, noSeek: true},
	"increase_pure":           {minArgs: 1, maxArgs: 1, f: rollupIncreasePure, removeResets: true, noSeek: true},
	"delta":                   {minArgs: 1, maxArgs: 1, f: rollupDelta, noSeek: true},
	"idelta":                  {minArgs: 1, maxArgs: 1, f: rollupIdelta},
	"deriv":                   {minArgs: 1, maxArgs: 1, f: rollupDerivSlow, adjustWindow: true},
	"deriv_fast":              {minArgs: 1, maxArgs: 1, f: rollupDerivFast, adjustWindow: true},
	"ideriv":                  {minArgs: 1, maxArgs: 1, f: rollupIderiv, adjustWindow: true},
	"rate_prometheus":         {minArgs: 1, maxArgs: 1, f: rollupRatePrometheus, removeResets: true},
	"increase_prometheus":     {minArgs: 1, maxArgs: 1, f: rollupDeltaPrometheus, removeResets: true},
	"delta_prometheus":        {minArgs: 1, maxArgs: 1, f: rollupDeltaPrometheus},
	"changes":                 {minArgs: 1, maxArgs: 1, f: rollupChanges},
	"changes_prometheus":      {minArgs: 1, maxArgs: 1, f: rollupChangesPrometheus},
	"resets":                  {minArgs: 1, maxArgs: 1, f: rollupResets},
	"predict_linear":          {minArgs: 2, maxArgs: 2, mk: mkPredictLinear, keepName: true},
	"avg_over_time":           {minArgs: 1, maxArgs: 1, f: rollupAvg, keepName: true},
	"min_over_time":           {minArgs: 1, maxArgs: 1, f: rollupMin, keepName: true},
	"max_over_time":           {minArgs: 1, maxArgs: 1, f: rollupMax, keepName: true},
	"sum_over_time":           {minArgs: 1, maxArgs: 1, f: rollupSum},
	"sum2_over_time":          {minArgs: 1, maxArgs: 1, f: rollupSum2},
	"count_over_time":         {minArgs: 1, maxArgs: 1, f: rollupCount},
	"stddev_over_time":        {minArgs: 1, maxArgs: 1, f: rollupStddev},
	"stdvar_over_time":        {minArgs: 1, maxArgs: 1, f: rollupStdvar},
	"last_over_time":          {minArgs: 1, maxArgs: 1, f: rollupLast, keepName: true},
	"first_over_time":         {minArgs: 1, maxArgs: 1, f: rollupFirst, keepName: true},
	"quantile_over_time":      {minArgs: 2, maxArgs: 2, mk: mkQuantileOverTime, keepName: true},
	"quantiles_over_time":     {minArgs: 3, maxArgs: -1, multi: multiQuantilesOverTime, keepName: true},
	"median_over_time":        {minArgs: 1, maxArgs: 1, f: rollupMedian, keepName: true},
	"mad_over_time":           {minArgs: 1, maxArgs: 1, f: rollupMAD},
	"mode_over_time":          {minArgs: 1, maxArgs: 1, f: rollupMode, keepName: true},
	"geomean_over_time":       {minArgs: 1, maxArgs: 1, f: rollupGeomean, keepName: true},
	"range_over_time":         {minArgs: 1, maxArgs: 1, f: rollupRange},
	"zscore_over_time":        {minArgs: 1, maxArgs: 1, f: rollupZscore},
	"present_over_time":       {minArgs: 1, maxArgs: 1, f: rollupPresent},
	"absent_over_time":        {minArgs: 1, maxArgs: 1, f: rollupPresent},
	"distinct_over_time":      {minArgs: 1, maxArgs: 1, f: rollupDistinct},
	"increases_over_time":     {minArgs: 1, maxArgs: 1, f: rollupIncreases},
	"decreases_over_time":     {minArgs: 1, maxArgs: 1, f: rollupDecreases},
	"ascent_over_time":        {minArgs: 1, maxArgs: 1, f: rollupAscent},
	"descent_over_time":       {minArgs: 1, maxArgs: 1, f: rollupDescent},
	"integrate":               {minArgs: 1, maxArgs: 1, f: rollupIntegrate},
	"lag":                     {minArgs: 1, maxArgs: 1, f: rollupLag},
	"lifetime":                {minArgs: 1, maxArgs: 1, f: rollupLifetime},
	"scrape_interval":         {minArgs: 1, maxArgs: 1, f: rollupScrapeInterval, adjustWindow: true},
	"timestamp":               {minArgs: 1, maxArgs: 1, f: rollupTlast, adjustWindow: true},
	"timestamp_with_name":     {minArgs: 1, maxArgs: 1, f: rollupTlast, adjustWindow: true, keepName: true},
	"tfirst_over_time":        {minArgs: 1, maxArgs: 1, f: rollupTfirst},
	"tlast_over_time":         {minArgs: 1, maxArgs: 1, f: rollupTlast},
	"tmin_over_time":          {minArgs: 1, maxArgs: 1, f: rollupTmin},
	"tmax_over_time":          {minArgs: 1, maxArgs: 1, f: rollupTmax},
	"tlast_change_over_time":  {minArgs: 1, maxArgs: 1, f: rollupTlastChange},
	"stale_samples_over_time": {minArgs: 1, maxArgs: 1, f: rollupStaleSamples, keepStale: true},
	"rate_over_sum":           {minArgs: 1, maxArgs: 1, f: rollupRateOverSum, adjustWindow: true},
	"holt_winters":            {minArgs: 3, maxArgs: 3, mk: mkHoltWinters, keepName: true},
	"hoeffding_bound_lower":   {minArgs: 2, maxArgs: 2, mk: mkHoeffding(-1), keepName: true},
	"hoeffding_bound_upper":   {minArgs: 2, maxArgs: 2, mk: mkHoeffding(1), keepName: true},
	"duration_over_time":      {minArgs: 2, maxArgs: 2, mk: mkDurationOverTime},
	"count_eq_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v == x }, false)},
	"count_ne_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v != x }, false)},
	"count_gt_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v > x }, false)},
	"count_le_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v <= x }, false)},
	"share_eq_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v == x }, true)},
	"share_gt_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v > x }, true)},
	"share_le_over_time":      {minArgs: 2, maxArgs: 2, mk: mkCountCmp(func(v, x float64) bool { return v <= x }, true)},
	"sum_eq_over_time":        {minArgs: 2, maxArgs: 2, mk: mkSumCmp(func(v, x float64) bool { return v == x })},
	"sum_gt_over_time":        {minArgs: 2, maxArgs: 2, mk: mkSumCmp(func(v, x float64) bool { return v > x })},
	"sum_le_over_time":        {minArgs: 2, maxArgs: 2, mk: mkSumCmp(func(v, x float64) bool { return v <= x })},
	"rollup":                  {minArgs: 1, maxArgs: 2, multi: multiRollup, keepName: true, adjustWindow: true},
	"rollup_rate":             {minArgs: 1, maxArgs: 2, multi: multiRollup, removeResets: true, adjustWindow: true, pre: preDeriv},
	"rollup_deriv":            {minArgs: 1, maxArgs: 2, multi: multiRollup, adjustWindow: true, noSeek: true, pre: preDeriv},
	"rollup_increase":         {minArgs: 1, maxArgs: 2, multi: multiRollup, removeResets: true, pre: preDelta},
	"rollup_delta":            {minArgs: 1, maxArgs: 2, multi: multiRollup, noSeek: true, pre: preDelta},
	"rollup_scrape_interval":  {minArgs: 1, maxArgs: 2, multi: multiRollup, adjustWindow: true, noSeek: true, pre: preInterval},
	"rollup_candlestick":      {minArgs: 1, maxArgs: 2, multi: multiCandlestick, keepName: true, adjustWindow: true},
	"aggr_over_time":          {minArgs: 2, maxArgs: -1, multi: multiAggrOverTime},
	"histogram_over_time":     {minArgs: 1, maxArgs: 1, f: rollupHistogramOverTime, dynLabel: dynLabelVMRange},
	"count_values_over_time":  {minArgs: 2, maxArgs: 2, f: rollupCountValuesOverTime, dynLabel: dynLabelCountValues},
	"outlier_iqr_over_time":   {minArgs: 1, maxArgs: 1, f: rollupOutlierIQR},
}

// aggrOverTimeFuncs are the rollups aggr_over_time may name (a lookup
// table).
var aggrOverTimeFuncs = map[string]rollupFunc{
	"avg_over_time": rollupAvg, "changes": rollupChanges, "count_over_time": rollupCount,
	"delta": rollupDelta, "distinct_over_time": rollupDistinct, "first_over_time": rollupFirst,
	"geomean_over_time": rollupGeomean, "idelta": rollupIdelta, "increases_over_time": rollupIncreases,
	"decreases_over_time": rollupDecreases, "integrate": rollupIntegrate, "lag": rollupLag,
	"last_over_time": rollupLast, "lifetime": rollupLifetime, "mad_over_time": rollupMAD,
	"max_over_time": rollupMax, "median_over_time": rollupMedian, "min_over_time": rollupMin,
	"mode_over_time": rollupMode, "range_over_time": rollupRange, "resets": rollupResets,
	"scrape_interval": rollupScrapeInterval, "stddev_over_time": rollupStddev,
	"stdvar_over_time": rollupStdvar, "sum_over_time": rollupSum, "sum2_over_time": rollupSum2,
	"tfirst_over_time": rollupTfirst, "tlast_over_time": rollupTlast, "tmax_over_time": rollupTmax,
	"tmin_over_time": rollupTmin, "zscore_over_time": rollupZscore, "present_over_time": rollupPresent,
	"ascent_over_time": rollupAscent, "descent_over_time": rollupDescent, "deriv": rollupDerivSlow,
	"ideriv": rollupIderiv, "deriv_fast": rollupDerivFast,
}

func multiAggrOverTime(p rollupParams) ([]rollupOutput, error) {
	if len(p.nums) > 0 || len(p.strs) == 0 {
		return nil, errorf(ErrBadArgument, "aggr_over_time takes function names as strings")
	}
	var outs []rollupOutput
	for _, s := range p.strs {
		name := lower(s)
		f := aggrOverTimeFuncs[name]
		if f == nil {
			return nil, errorf(ErrBadArgument, "aggr_over_time cannot use %q", s)
		}
		outs = append(outs, rollupOutput{label: "rollup", value: name, f: f})
	}
	return outs, nil
}
