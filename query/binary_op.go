package query

import (
	"math"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// evalBinaryOp evaluates `left op right` with MetricsQL's matching rules:
// a label-less single series acts as a scalar on either side; otherwise
// series match on their labels (less the metric name) as narrowed by
// on/ignoring, one-to-one unless group_left/group_right says otherwise.
func (ev *evaluator) evalBinaryOp(ec *evalConfig, be *metricsql.BinaryOpExpr) ([]*timeseries, error) {
	op := lower(be.Op)
	left, err := ev.eval(ec, be.Left)
	if err != nil {
		return nil, err
	}
	if len(removeEmptyCopy(left)) == 0 && (op == "and" || op == "if" || op == "*" || op == "/") {
		return nil, nil
	}
	right, err := ev.eval(ec, be.Right)
	if err != nil {
		return nil, err
	}
	if err := ev.holdBytes(binaryOutSeries(be, op, left, right), ec.points()); err != nil {
		return nil, err
	}
	switch op {
	case "and":
		return setAnd(be, left, right, false), nil
	case "unless":
		return setAnd(be, left, right, true), nil
	case "or":
		return setOr(be, left, right), nil
	case "if":
		return opIf(be, left, right, false), nil
	case "ifnot":
		return opIf(be, left, right, true), nil
	case "default":
		return opDefault(be, left, right), nil
	}
	f := arithFuncs[op]
	if f == nil {
		return nil, errorf(ErrBadArgument, "unknown binary operator %q", be.Op)
	}
	left, right = removeEmpty(left), removeEmpty(right)
	if len(left) == 0 || len(right) == 0 {
		return nil, nil
	}
	return applyArith(be, op, f, left, right)
}

// binaryOutSeries bounds the series evaluating op allocates: set
// operators copy at most one side's series, arithmetic at most one per
// pair (the larger side), nothing when a scalar side lets it compute in
// place.
func binaryOutSeries(be *metricsql.BinaryOpExpr, op string, left, right []*timeseries) int {
	switch op {
	case "and", "unless", "if", "ifnot", "default":
		return len(left)
	case "or":
		return len(right)
	}
	if be.GroupModifier.Op == "" && be.JoinModifier.Op == "" && (isScalarSeries(left) || isScalarSeries(right)) {
		return 0
	}
	return max(len(left), len(right))
}

// removeEmptyCopy returns the non-empty series of tss without changing it.
func removeEmptyCopy(tss []*timeseries) []*timeseries {
	var out []*timeseries
	for _, ts := range tss {
		if !ts.isEmpty() {
			out = append(out, ts)
		}
	}
	return out
}

// arithFuncs maps operators to their value functions (a lookup table).
var arithFuncs = map[string]func(a, b float64) float64{
	"+":     func(a, b float64) float64 { return a + b },
	"-":     func(a, b float64) float64 { return a - b },
	"*":     func(a, b float64) float64 { return a * b },
	"/":     func(a, b float64) float64 { return a / b },
	"%":     math.Mod,
	"^":     math.Pow,
	"atan2": math.Atan2,
	"==":    boolF(func(a, b float64) bool { return a == b }),
	"!=":    boolF(func(a, b float64) bool { return a != b }),
	">":     boolF(func(a, b float64) bool { return a > b }),
	"<":     boolF(func(a, b float64) bool { return a < b }),
	">=":    boolF(func(a, b float64) bool { return a >= b }),
	"<=":    boolF(func(a, b float64) bool { return a <= b }),
}

// boolF turns a comparison into a 1/0 function.
func boolF(cmp func(a, b float64) bool) func(a, b float64) float64 {
	return func(a, b float64) float64 {
		if cmp(a, b) {
			return 1
		}
		return 0
	}
}

// isScalarSeries reports whether tss is one series without labels, which
// MetricsQL treats as a scalar operand.
func isScalarSeries(tss []*timeseries) bool { return len(tss) == 1 && len(tss[0].labels) == 0 }

// keepsName reports whether the operator leaves metric names in place:
// filtering comparisons, keep_metric_names, and if/ifnot/default.
func keepsName(be *metricsql.BinaryOpExpr, op string) bool {
	if metricsql.IsBinaryOpCmp(op) && !be.Bool {
		return true
	}
	return be.KeepMetricNames || op == "default" || op == "if" || op == "ifnot"
}

// applyArith pairs the series and computes op per step.
func applyArith(be *metricsql.BinaryOpExpr, op string, f func(a, b float64) float64, left, right []*timeseries) ([]*timeseries, error) {
	isCmp := metricsql.IsBinaryOpCmp(op)
	keep := keepsName(be, op)
	compute := func(dst, l, r []float64, swapKeep bool) {
		for i := range dst {
			a, b := l[i], r[i]
			// A bool comparison answers 0 (or 1 for !=) where only the
			// right operand is missing, as MetricsQL does.
			if isNaN(a) || isNaN(b) && !(isCmp && be.Bool) {
				dst[i] = nan
				continue
			}
			v := f(a, b)
			if isCmp && !be.Bool {
				switch {
				case v == 0:
					v = nan
				case swapKeep:
					v = b
				default:
					v = a
				}
			}
			dst[i] = v
		}
	}
	noMod := be.GroupModifier.Op == "" && be.JoinModifier.Op == ""
	if noMod && isScalarSeries(left) {
		out := make([]*timeseries, len(right))
		for i, r := range right {
			ls := r.labels
			if !keep {
				ls = dropName(ls)
			}
			// The vector side's series belong to this evaluation: reuse them.
			out[i] = &timeseries{labels: ls, values: r.values}
			compute(out[i].values, left[0].values, r.values, true)
		}
		return out, nil
	}
	if noMod && isScalarSeries(right) {
		out := make([]*timeseries, len(left))
		for i, l := range left {
			ls := l.labels
			if !keep {
				ls = dropName(ls)
			}
			out[i] = &timeseries{labels: ls, values: l.values}
			compute(out[i].values, l.values, right[0].values, false)
		}
		return out, nil
	}
	pairs, err := matchSeries(be, keep, left, right)
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		p.out.values = make([]float64, len(p.l.values))
		compute(p.out.values, p.l.values, p.r.values, false)
	}
	out := make([]*timeseries, len(pairs))
	for i, p := range pairs {
		out[i] = p.out
	}
	return out, nil
}

// pair is one matched left and right series and the result's labels.
type pair struct {
	l, r *timeseries
	out  *timeseries
}

// matchKey returns the labels two series match on.
func matchKey(ls tsdb.Labels, be *metricsql.BinaryOpExpr) tsdb.Labels {
	switch lower(be.GroupModifier.Op) {
	case "on":
		return labelsOnly(ls, be.GroupModifier.Args)
	case "ignoring":
		return labelsWithout(dropName(ls), be.GroupModifier.Args...)
	}
	return dropName(ls)
}

// seriesMap groups series by their match key.
func seriesMap(be *metricsql.BinaryOpExpr, tss []*timeseries) (map[string][]*timeseries, []string) {
	m := make(map[string][]*timeseries)
	var order []string
	var key []byte
	for _, ts := range tss {
		key = appendLabelsKey(key[:0], matchKey(ts.labels, be))
		if _, ok := m[string(key)]; !ok {
			order = append(order, string(key))
		}
		m[string(key)] = append(m[string(key)], ts)
	}
	return m, order
}

// matchSeries pairs left and right series for a vector-vector operation.
func matchSeries(be *metricsql.BinaryOpExpr, keep bool, left, right []*timeseries) ([]pair, error) {
	mLeft, order := seriesMap(be, left)
	mRight, _ := seriesMap(be, right)
	join := lower(be.JoinModifier.Op)
	var pairs []pair
	for _, k := range order {
		ls, rs := mLeft[k], mRight[k]
		if len(rs) == 0 {
			continue
		}
		switch join {
		case "group_left":
			ps, err := groupJoin(be, keep, ls, rs, "right", false)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, ps...)
		case "group_right":
			ps, err := groupJoin(be, keep, rs, ls, "left", true)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, ps...)
		default:
			l, err := singleSeries(be, ls, "left")
			if err != nil {
				return nil, err
			}
			r, err := singleSeries(be, rs, "right")
			if err != nil {
				return nil, err
			}
			lbl := l.labels
			if !keep {
				lbl = dropName(lbl)
			}
			switch lower(be.GroupModifier.Op) {
			case "on":
				lbl = labelsOnly(lbl, be.GroupModifier.Args)
			case "ignoring":
				lbl = labelsWithout(lbl, be.GroupModifier.Args...)
			}
			pairs = append(pairs, pair{l: l, r: r, out: &timeseries{labels: lbl}})
		}
	}
	return pairs, nil
}

// singleSeries returns the one series of a match group, merging series
// whose points do not overlap (a series whose labels changed over time).
func singleSeries(be *metricsql.BinaryOpExpr, tss []*timeseries, side string) (*timeseries, error) {
	if len(tss) == 1 {
		return tss[0], nil
	}
	merged := &timeseries{labels: tss[0].labels, values: append([]float64(nil), tss[0].values...)}
	for _, ts := range tss[1:] {
		for i, v := range ts.values {
			if isNaN(v) {
				continue
			}
			if !isNaN(merged.values[i]) {
				return nil, errorf(ErrDuplicateSeries, "found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
					labelsString(matchKey(tss[0].labels, be)), side, labelsString(tss[0].labels), labelsString(ts.labels))
			}
			merged.values[i] = v
		}
	}
	return merged, nil
}

// groupJoin pairs each series of the many side with the one side's series
// of its group, copying the join labels from the one side. swap says the
// many side is the right operand.
func groupJoin(be *metricsql.BinaryOpExpr, keep bool, many, one []*timeseries, oneSide string, swap bool) ([]pair, error) {
	o, err := singleSeries(be, one, oneSide)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if be.JoinModifierPrefix != nil {
		prefix = be.JoinModifierPrefix.S
	}
	var skip []string
	if lower(be.GroupModifier.Op) == "on" {
		skip = be.GroupModifier.Args
	}
	pairs := make([]pair, 0, len(many))
	for _, m := range many {
		ls := m.labels
		if !keep {
			ls = dropName(ls)
		}
		for _, name := range be.JoinModifier.Args {
			if containsStr(skip, name) && prefix == "" {
				continue
			}
			ls = setLabel(ls, prefix+name, o.labels.Get(name))
		}
		p := pair{l: m, r: o, out: &timeseries{labels: ls}}
		if swap {
			p.l, p.r = o, m
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
