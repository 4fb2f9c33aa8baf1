package query

import (
	"github.com/VictoriaMetrics/metricsql"
)

// The set operators and MetricsQL's if, ifnot and default. They work per
// step: a left series keeps a value at a step when the matching right
// series have (and) or lack (unless) one there.

// hasValueAt reports whether any of tss has a value at step i.
func hasValueAt(tss []*timeseries, i int) bool {
	for _, ts := range tss {
		if !isNaN(ts.values[i]) {
			return true
		}
	}
	return false
}

// setAnd implements `and` (unless: `unless`).
func setAnd(be *metricsql.BinaryOpExpr, left, right []*timeseries, unless bool) []*timeseries {
	mRight, _ := seriesMap(be, right)
	var out []*timeseries
	var key []byte
	for _, l := range left {
		key = appendLabelsKey(key[:0], matchKey(l.labels, be))
		rs := mRight[string(key)]
		if rs == nil {
			if unless {
				out = append(out, l)
			}
			continue
		}
		vs := make([]float64, len(l.values))
		for i, v := range l.values {
			if hasValueAt(rs, i) == unless {
				v = nan
			}
			vs[i] = v
		}
		out = append(out, &timeseries{labels: l.labels, values: vs})
	}
	return removeEmpty(out)
}

// setOr implements `or`: every left series, then right series of groups
// the left lacks, and right values at steps where the left group has none.
func setOr(be *metricsql.BinaryOpExpr, left, right []*timeseries) []*timeseries {
	left = removeEmpty(left)
	mLeft, _ := seriesMap(be, left)
	out := append([]*timeseries(nil), left...)
	sortByLabels(out)
	n := len(out)
	var key []byte
	for _, r := range right {
		key = appendLabelsKey(key[:0], matchKey(r.labels, be))
		ls := mLeft[string(key)]
		if ls == nil {
			out = append(out, r)
			continue
		}
		vs := make([]float64, len(r.values))
		for i, v := range r.values {
			if hasValueAt(ls, i) {
				v = nan
			}
			vs[i] = v
		}
		out = append(out, &timeseries{labels: r.labels, values: vs})
	}
	tail := removeEmpty(out[n:])
	sortByLabels(tail)
	return append(out[:n], tail...)
}

// rightFor returns the right series matching a left key: the group, or a
// scalar right side, which matches everything.
func rightFor(mRight map[string][]*timeseries, right []*timeseries, key string) []*timeseries {
	if rs := mRight[key]; rs != nil {
		return rs
	}
	if isScalarSeries(right) {
		return right
	}
	return nil
}

// opIf implements `a if b` (keep a where b has a value) and `a ifnot b`.
func opIf(be *metricsql.BinaryOpExpr, left, right []*timeseries, not bool) []*timeseries {
	mRight, _ := seriesMap(be, right)
	var out []*timeseries
	var key []byte
	for _, l := range left {
		key = appendLabelsKey(key[:0], matchKey(l.labels, be))
		rs := rightFor(mRight, right, string(key))
		if rs == nil {
			if not {
				out = append(out, l)
			}
			continue
		}
		vs := make([]float64, len(l.values))
		for i, v := range l.values {
			if hasValueAt(rs, i) == not {
				v = nan
			}
			vs[i] = v
		}
		out = append(out, &timeseries{labels: l.labels, values: vs})
	}
	return removeEmpty(out)
}

// opDefault implements `a default b`: a's gaps filled from b.
func opDefault(be *metricsql.BinaryOpExpr, left, right []*timeseries) []*timeseries {
	if len(left) == 0 {
		return right
	}
	mRight, _ := seriesMap(be, right)
	out := make([]*timeseries, 0, len(left))
	var key []byte
	for _, l := range left {
		key = appendLabelsKey(key[:0], matchKey(l.labels, be))
		rs := rightFor(mRight, right, string(key))
		if rs == nil {
			out = append(out, l)
			continue
		}
		vs := make([]float64, len(l.values))
		for i, v := range l.values {
			if isNaN(v) {
				for _, r := range rs {
					if !isNaN(r.values[i]) {
						v = r.values[i]
						break
					}
				}
			}
			vs[i] = v
		}
		out = append(out, &timeseries{labels: l.labels, values: vs})
	}
	return out
}
