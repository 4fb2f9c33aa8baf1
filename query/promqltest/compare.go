package promqltest

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"outpost/query"
	"outpost/tsdb"
)

// check compares a case's result with its expectations under the
// MetricsQL normalisations of FORMAT.md §8: a one-sample `{}` vector
// stands for a scalar, expected NaN samples are dropped (MetricsQL removes
// NaN from its output), annotations are not checked.
func check(c *Eval, res query.Value, err error) (bool, string) {
	if c.Fail {
		if err == nil {
			return false, "expected an error, got a result"
		}
		if c.FailMsg != "" && !strings.Contains(err.Error(), c.FailMsg) {
			return false, fmt.Sprintf("error %q does not contain %q", err, c.FailMsg)
		}
		if c.FailRegex != "" {
			re, rerr := regexp.Compile(c.FailRegex)
			if rerr == nil && !re.MatchString(err.Error()) {
				return false, fmt.Sprintf("error %q does not match %q", err, c.FailRegex)
			}
		}
		return true, ""
	}
	if err != nil {
		return false, "error: " + err.Error()
	}
	switch {
	case c.String != nil:
		s, ok := res.(query.String)
		if !ok || s.V != *c.String {
			return false, fmt.Sprintf("want string %q, got %v", *c.String, res)
		}
		return true, ""
	case c.Scalar != nil:
		return checkScalar(*c.Scalar, res)
	case c.RangeVector:
		return checkMatrix(c.Series, c.RVStart, c.RVStep, res)
	case c.Instant:
		return checkVector(c.Series, c.Ordered, res)
	}
	return checkMatrix(c.Series, c.Start, c.Step, res)
}

func checkScalar(want float64, res query.Value) (bool, string) {
	var got float64
	switch v := res.(type) {
	case query.Scalar:
		got = v.V
	case query.Vector:
		if len(v) == 0 && math.IsNaN(want) {
			return true, ""
		}
		if len(v) != 1 || len(v[0].Labels) != 0 {
			return false, fmt.Sprintf("want scalar %g, got %d series", want, len(v))
		}
		got = v[0].V
	default:
		return false, fmt.Sprintf("want scalar %g, got %s", want, res.Type())
	}
	if !almostEqual(want, got) {
		return false, fmt.Sprintf("want scalar %g, got %g", want, got)
	}
	return true, ""
}

// expectedPoints returns an expected line's values by time, NaN and
// omitted positions dropped.
func expectedPoints(sl SeriesLine, start, step int64) map[int64]float64 {
	out := map[int64]float64{}
	for i, v := range sl.Values {
		if v.Omitted || math.IsNaN(v.V) {
			continue
		}
		out[start+int64(i)*step] = v.V
	}
	return out
}

func checkVector(want []SeriesLine, ordered bool, res query.Value) (bool, string) {
	var got query.Vector
	switch v := res.(type) {
	case query.Vector:
		got = v
	case query.Scalar:
		got = query.Vector{{T: v.T, V: v.V}}
	default:
		return false, fmt.Sprintf("want a vector, got %s", res.Type())
	}
	var exp []SeriesLine
	for _, w := range want {
		if len(w.Values) != 1 {
			return false, fmt.Sprintf("expected line %s has %d values", w.Labels, len(w.Values))
		}
		if !w.Values[0].Omitted && !math.IsNaN(w.Values[0].V) {
			exp = append(exp, w)
		}
	}
	if len(got) != len(exp) {
		return false, fmt.Sprintf("want %d samples, got %d: %s", len(exp), len(got), vectorString(got))
	}
	for i, s := range got {
		j := -1
		for k, w := range exp {
			if w.Labels.Equal(s.Labels) {
				j = k
				break
			}
		}
		if j < 0 {
			return false, fmt.Sprintf("unexpected sample %s %g; got %s", s.Labels, s.V, vectorString(got))
		}
		if ordered && j != i {
			return false, fmt.Sprintf("sample %s at position %d, want %d", s.Labels, i, j)
		}
		if !almostEqual(exp[j].Values[0].V, s.V) {
			return false, fmt.Sprintf("%s: want %g, got %g", s.Labels, exp[j].Values[0].V, s.V)
		}
		if !ordered {
			exp = append(exp[:j:j], exp[j+1:]...)
		}
	}
	return true, ""
}

func checkMatrix(want []SeriesLine, start, step int64, res query.Value) (bool, string) {
	var got query.Matrix
	switch v := res.(type) {
	case query.Matrix:
		got = v
	case query.Scalar:
		got = query.Matrix{{Points: []query.Point{{T: v.T, V: v.V}}}}
	default:
		return false, fmt.Sprintf("want a matrix, got %s", res.Type())
	}
	exp := map[string]map[int64]float64{}
	for _, w := range want {
		if pts := expectedPoints(w, start, step); len(pts) > 0 {
			exp[w.Labels.String()+labelsKey(w.Labels)] = pts
		}
	}
	for i, s := range got {
		if i > 0 && tsdb.Compare(got[i-1].Labels, s.Labels) >= 0 {
			return false, "matrix is not sorted by labels"
		}
		pts, ok := exp[s.Labels.String()+labelsKey(s.Labels)]
		if !ok {
			return false, fmt.Sprintf("unexpected series %s %s", s.Labels, pointsString(s.Points))
		}
		if len(pts) != len(s.Points) {
			return false, fmt.Sprintf("%s: want %d points, got %s", s.Labels, len(pts), pointsString(s.Points))
		}
		for _, p := range s.Points {
			w, ok := pts[p.T]
			if !ok || !almostEqual(w, p.V) {
				return false, fmt.Sprintf("%s: at %dms want %g, got %s", s.Labels, p.T, w, pointsString(s.Points))
			}
		}
		delete(exp, s.Labels.String()+labelsKey(s.Labels))
	}
	for k := range exp {
		return false, "missing series " + k
	}
	return true, ""
}

func labelsKey(ls tsdb.Labels) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name + "\xfe" + l.Value + "\xff")
	}
	return b.String()
}

func vectorString(v query.Vector) string {
	var b strings.Builder
	for i, s := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %g", s.Labels, s.V)
	}
	return "[" + b.String() + "]"
}

func pointsString(ps []query.Point) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g@%ds", p.V, p.T/1000)
	}
	return "[" + b.String() + "]"
}
