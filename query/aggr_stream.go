package query

import (
	"slices"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// aggrStreaming evaluates an incremental aggregation whose only argument
// is a selector or a rollup of one, folding each series into its group as
// the workers finish it. ok is false when the shape does not fit.
func (ev *evaluator) aggrStreaming(ec *evalConfig, name string, ae *metricsql.AggrFuncExpr) ([]*timeseries, bool, error) {
	if len(ae.Args) != 1 {
		return nil, false, nil
	}
	fname, fe, re := streamableRollup(ae.Args[0])
	if re == nil {
		return nil, false, nil
	}
	me, _ := re.Expr.(*metricsql.MetricExpr)
	rr, err := ev.newRollupRunner(ec, fname, fe, re)
	if err != nil {
		return nil, true, err
	}
	sink := &aggrSink{ev: ev, name: name, mod: ae.Modifier, points: len(rr.grid)}
	if err := ev.rollupSelect(ec, me, rr, sink); err != nil {
		return nil, true, err
	}
	return sink.result(), true, nil
}

// streamableRollup recognises `m`, `m offset d`, `f(m[d])` and `f(m)`
// for a single-argument rollup f without `@`.
func streamableRollup(arg metricsql.Expr) (string, *metricsql.FuncExpr, *metricsql.RollupExpr) {
	switch t := arg.(type) {
	case *metricsql.MetricExpr:
		return "default_rollup", nil, &metricsql.RollupExpr{Expr: t}
	case *metricsql.RollupExpr:
		if _, ok := t.Expr.(*metricsql.MetricExpr); ok && t.At == nil && t.Window == nil && !t.ForSubquery() {
			return "default_rollup", nil, t
		}
	case *metricsql.FuncExpr:
		name := lower(t.Name)
		spec := rollupSpecs[name]
		if spec == nil || len(t.Args) != 1 || name == "absent_over_time" || spec.dynLabel != nil {
			return "", nil, nil
		}
		re := asRollupExpr(t.Args[0])
		if _, ok := re.Expr.(*metricsql.MetricExpr); ok && re.At == nil && !re.ForSubquery() {
			return name, t, re
		}
	}
	return "", nil, nil
}

// aggrSink folds rollup results into per-worker group states; result
// merges them. Workers never share a map, so add takes no lock.
type aggrSink struct {
	ev      *evaluator // charged for every new group state
	name    string
	mod     metricsql.ModifierExpr
	points  int
	workers []map[string]*aggrState
	keys    [][]byte // per-worker key buffer
}

func (s *aggrSink) ownsValues() bool { return false }

// ordered is false: groups fold series in any order.
func (s *aggrSink) ordered() bool { return false }

func (s *aggrSink) setSize(_, workers int) {
	s.workers = make([]map[string]*aggrState, workers)
	s.keys = make([][]byte, workers)
	for i := range s.workers {
		s.workers[i] = make(map[string]*aggrState)
	}
}

func (s *aggrSink) add(w, _ int, ls tsdb.Labels, rr *rollupRunner, values [][]float64) error {
	m := s.workers[w]
	for k, o := range rr.outs {
		var gl tsdb.Labels
		if o.label == "" {
			s.keys[w] = s.appendGroupKey(s.keys[w][:0], ls, rr.keepName)
		} else {
			gl = groupingLabels(rr.outputLabels(ls, o), s.mod)
			s.keys[w] = appendLabelsKey(s.keys[w][:0], gl)
		}
		st := m[string(s.keys[w])]
		if st == nil {
			if err := s.ev.holdBytes(2, s.points); err != nil { // the state's two arrays
				return err
			}
			if gl == nil {
				gl = groupingLabels(rr.outputLabels(ls, o), s.mod)
			}
			st = newAggrState(gl, s.points)
			m[string(s.keys[w])] = st
		}
		st.update(s.name, values[k])
	}
	return nil
}

// appendGroupKey appends the key of the group of a series with labels ls
// to b: appendLabelsKey(groupingLabels(rr.outputLabels(ls, o), s.mod)) for
// an output o that adds no label, without building those labels, which
// add only needs for a new group (a flatline rule's max by (host) folds
// 100,000 series into 2,000 groups).
func (s *aggrSink) appendGroupKey(b []byte, ls tsdb.Labels, keepName bool) []byte {
	var by bool
	switch lower(s.mod.Op) {
	case "by":
		by = true
	case "without":
	default:
		return b
	}
	for _, l := range ls {
		if l.Name == tsdb.MetricName && (!by || !keepName) {
			continue
		}
		if slices.Contains(s.mod.Args, l.Name) != by {
			continue
		}
		b = append(b, l.Name...)
		b = append(b, 0xfe)
		b = append(b, l.Value...)
		b = append(b, 0xff)
	}
	return b
}

// result merges the workers' states into one series per group.
func (s *aggrSink) result() []*timeseries {
	if len(s.workers) == 0 {
		return nil
	}
	total := s.workers[0]
	for _, m := range s.workers[1:] {
		for k, st := range m {
			if t := total[k]; t != nil {
				t.merge(s.name, st)
			} else {
				total[k] = st
			}
		}
	}
	out := make([]*timeseries, 0, len(total))
	for _, st := range total {
		out = append(out, st.finish(s.name))
	}
	sortByLabels(out)
	return out
}
