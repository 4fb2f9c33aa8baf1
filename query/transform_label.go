package query

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// The label_* transforms. They keep metric names unless they change
// __name__ themselves.

// stringArgs returns the string literal arguments of fe from index from.
func stringArgs(fe *metricsql.FuncExpr, from int) ([]string, error) {
	out := make([]string, 0, len(fe.Args)-from)
	for i := from; i < len(fe.Args); i++ {
		s, err := evalStringArg(fe.Args[i], fmt.Sprintf("argument %d", i+1))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// labelArgs evaluates a label_* call's string arguments (those after the
// series argument), then its series argument.
func (ev *evaluator) labelArgs(ec *evalConfig, fe *metricsql.FuncExpr) ([]string, []*timeseries, error) {
	ss, err := stringArgs(fe, 1)
	if err != nil {
		return nil, nil, err
	}
	tss, err := ev.argSeries(ec, fe, 0)
	return ss, tss, err
}

// checkLabelName rejects names a series cannot carry.
func checkLabelName(s string) error {
	if s == "" || !utf8.ValidString(s) {
		return errorf(ErrBadArgument, "invalid label name %q", s)
	}
	return nil
}

func tfLabelReplace(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	ss, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	dst, repl, src, re := ss[0], ss[1], ss[2], ss[3]
	if err := checkLabelName(dst); err != nil {
		return nil, err
	}
	rx, err := regexp.Compile("^(?s:" + re + ")$")
	if err != nil {
		return nil, errorf(ErrBadArgument, "invalid regular expression %q", re)
	}
	for _, ts := range tss {
		v := ts.labels.Get(src)
		m := rx.FindStringSubmatchIndex(v)
		if m == nil {
			continue
		}
		res := rx.ExpandString(nil, repl, v, m)
		ts.labels = setLabel(ts.labels, dst, string(res))
	}
	return tss, nil
}

func tfLabelJoin(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	ss, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	dst, sep, srcs := ss[0], ss[1], ss[2:]
	if err := checkLabelName(dst); err != nil {
		return nil, err
	}
	for _, ts := range tss {
		vals := make([]string, len(srcs))
		for i, s := range srcs {
			vals[i] = ts.labels.Get(s)
		}
		ts.labels = setLabel(ts.labels, dst, strings.Join(vals, sep))
	}
	return tss, nil
}

func tfLabelSet(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	ss, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	if len(ss)%2 != 0 {
		return nil, errorf(ErrArgCount, "label_set needs name, value pairs")
	}
	for _, ts := range tss {
		for i := 0; i < len(ss); i += 2 {
			ts.labels = setLabel(ts.labels, ss[i], ss[i+1])
		}
	}
	return tss, nil
}

func tfLabelDel(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	names, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		ts.labels = labelsWithout(ts.labels, names...)
	}
	return tss, nil
}

func tfLabelKeep(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	names, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		ts.labels = labelsOnly(ts.labels, names)
	}
	return tss, nil
}

func tfLabelCopy(move bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		ss, tss, err := ev.labelArgs(ec, fe)
		if err != nil {
			return nil, err
		}
		if len(ss)%2 != 0 {
			return nil, errorf(ErrArgCount, "needs src, dst pairs")
		}
		for _, ts := range tss {
			for i := 0; i < len(ss); i += 2 {
				v := ts.labels.Get(ss[i])
				if v == "" {
					continue
				}
				if move {
					ts.labels = labelsWithout(ts.labels, ss[i])
				}
				ts.labels = setLabel(ts.labels, ss[i+1], v)
			}
		}
		return tss, nil
	}
}

func tfLabelCase(upper bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		names, tss, err := ev.labelArgs(ec, fe)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			for _, n := range names {
				v := ts.labels.Get(n)
				if upper {
					v = strings.ToUpper(v)
				} else {
					v = strings.ToLower(v)
				}
				ts.labels = setLabel(ts.labels, n, v)
			}
		}
		return tss, nil
	}
}

func tfLabelMap(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	ss, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	name, pairs := ss[0], ss[1:]
	if len(pairs)%2 != 0 {
		return nil, errorf(ErrArgCount, "label_map needs from, to pairs")
	}
	for _, ts := range tss {
		v := ts.labels.Get(name)
		for i := 0; i < len(pairs); i += 2 {
			if pairs[i] == v {
				ts.labels = setLabel(ts.labels, name, pairs[i+1])
				break
			}
		}
	}
	return tss, nil
}

func tfLabelMatch(mismatch bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		ss, tss, err := ev.labelArgs(ec, fe)
		if err != nil {
			return nil, err
		}
		rx, err := regexp.Compile("^(?s:" + ss[1] + ")$")
		if err != nil {
			return nil, errorf(ErrBadArgument, "invalid regular expression %q", ss[1])
		}
		out := tss[:0]
		for _, ts := range tss {
			if rx.MatchString(ts.labels.Get(ss[0])) != mismatch {
				out = append(out, ts)
			}
		}
		return out, nil
	}
}

// tfLabelValue returns the named label's value as a number.
func tfLabelValue(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	name, err := evalStringArg(fe.Args[1], "label name")
	if err != nil {
		return nil, err
	}
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		f, perr := strconv.ParseFloat(ts.labels.Get(name), 64)
		if perr != nil {
			f = nan
		}
		for i, v := range ts.values {
			if !isNaN(v) {
				ts.values[i] = f
			}
		}
		ts.labels = dropName(ts.labels)
	}
	return tss, nil
}

func tfLabelTransform(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	ss, tss, err := ev.labelArgs(ec, fe)
	if err != nil {
		return nil, err
	}
	rx, err := regexp.Compile(ss[1])
	if err != nil {
		return nil, errorf(ErrBadArgument, "invalid regular expression %q", ss[1])
	}
	for _, ts := range tss {
		v := ts.labels.Get(ss[0])
		ts.labels = setLabel(ts.labels, ss[0], rx.ReplaceAllString(v, ss[2]))
	}
	return tss, nil
}

// tfDropCommonLabels removes labels whose value is the same in every
// series of the arguments.
func tfDropCommonLabels(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	var all []*timeseries
	for i := range fe.Args {
		tss, err := ev.argSeries(ec, fe, i)
		if err != nil {
			return nil, err
		}
		all = append(all, tss...)
	}
	counts := map[tsdb.Label]int{}
	for _, ts := range all {
		for _, l := range ts.labels {
			counts[l]++
		}
	}
	for _, ts := range all {
		out := ts.labels[:0:0]
		for _, l := range ts.labels {
			if counts[l] != len(all) {
				out = append(out, l)
			}
		}
		ts.labels = out
	}
	return all, nil
}
