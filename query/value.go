package query

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"outpost/tsdb"
)

// ValueType names the kind of a query result, as the Prometheus API's
// "resultType" does.
type ValueType string

// The result kinds of a query.
const (
	ValueTypeScalar ValueType = "scalar"
	ValueTypeVector ValueType = "vector"
	ValueTypeMatrix ValueType = "matrix"
	ValueTypeString ValueType = "string"
)

// Value is the result of a query: a Scalar, a Vector, a Matrix or a String.
type Value interface {
	// Type returns the kind of the value.
	Type() ValueType
}

// Scalar is a single number at one time, the result of an instant query
// over an expression without series (`1+1`, `time()`).
type Scalar struct {
	T int64 // milliseconds since the Unix epoch
	V float64
}

// Type implements Value.
func (Scalar) Type() ValueType { return ValueTypeScalar }

// String is a string at one time, the result of an instant query over a
// string literal.
type String struct {
	T int64 // milliseconds since the Unix epoch
	V string
}

// Type implements Value.
func (String) Type() ValueType { return ValueTypeString }

// Sample is one series' value at one time in a Vector.
type Sample struct {
	Labels tsdb.Labels
	T      int64 // milliseconds since the Unix epoch
	V      float64
}

// Vector is the result of an instant query: one sample per series, all at
// the evaluation time.
type Vector []Sample

// Type implements Value.
func (Vector) Type() ValueType { return ValueTypeVector }

// Point is one timestamped value of a Series.
type Point struct {
	T int64 // milliseconds since the Unix epoch
	V float64
}

// Series is one series of a Matrix: its labels and its points in time order.
type Series struct {
	Labels tsdb.Labels
	Points []Point
}

// Matrix is the result of a range query: series sorted by labels, each with
// a point at every step where it has a value.
type Matrix []Series

// Type implements Value.
func (Matrix) Type() ValueType { return ValueTypeMatrix }

// FormatValue formats v as the Prometheus API writes sample values: the
// shortest representation that round-trips, and "NaN", "+Inf", "-Inf".
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// staleNaNBits is the bit pattern of Prometheus' staleness marker, a NaN
// that ends a series. Ordinary NaNs have other bits.
const staleNaNBits uint64 = 0x7ff0000000000002

// StaleNaN is the staleness marker value.
var staleNaN = math.Float64frombits(staleNaNBits)

// isStaleNaN reports whether v is the staleness marker.
func isStaleNaN(v float64) bool { return math.Float64bits(v) == staleNaNBits }

// timeseries is the evaluator's working form of a series: labels and one
// value per step of the evaluation grid, NaN where the series has none.
type timeseries struct {
	labels tsdb.Labels
	values []float64
}

// isEmpty reports whether ts has no value at any step.
func (ts *timeseries) isEmpty() bool {
	for _, v := range ts.values {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

// removeEmpty drops series without values, in place.
func removeEmpty(tss []*timeseries) []*timeseries {
	out := tss[:0]
	for _, ts := range tss {
		if !ts.isEmpty() {
			out = append(out, ts)
		}
	}
	clear(tss[len(out):])
	return out
}

// sortByLabels sorts series by their label sets, as Prometheus orders a
// matrix.
func sortByLabels(tss []*timeseries) {
	slices.SortStableFunc(tss, func(a, b *timeseries) int { return tsdb.Compare(a.labels, b.labels) })
}

// labelsWithout returns a copy of ls without the named labels.
func labelsWithout(ls tsdb.Labels, names ...string) tsdb.Labels {
	out := make(tsdb.Labels, 0, len(ls))
	for _, l := range ls {
		if !slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// labelsOnly returns a copy of ls with only the named labels.
func labelsOnly(ls tsdb.Labels, names []string) tsdb.Labels {
	out := make(tsdb.Labels, 0, len(names))
	for _, l := range ls {
		if slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// dropName returns ls without its metric name; ls itself when it has none.
func dropName(ls tsdb.Labels) tsdb.Labels {
	if !ls.Has(tsdb.MetricName) {
		return ls
	}
	return labelsWithout(ls, tsdb.MetricName)
}

// setLabel returns a copy of ls with name set to value, or removed when
// value is empty, kept sorted.
func setLabel(ls tsdb.Labels, name, value string) tsdb.Labels {
	out := make(tsdb.Labels, 0, len(ls)+1)
	done := false
	for _, l := range ls {
		switch {
		case l.Name == name:
			done = true
			if value != "" {
				out = append(out, tsdb.Label{Name: name, Value: value})
			}
			continue
		case !done && l.Name > name:
			done = true
			if value != "" {
				out = append(out, tsdb.Label{Name: name, Value: value})
			}
		}
		out = append(out, l)
	}
	if !done && value != "" {
		out = append(out, tsdb.Label{Name: name, Value: value})
	}
	return out
}

// appendLabelsKey appends a collision-free key of ls to b.
func appendLabelsKey(b []byte, ls tsdb.Labels) []byte {
	for _, l := range ls {
		b = append(b, l.Name...)
		b = append(b, 0xfe)
		b = append(b, l.Value...)
		b = append(b, 0xff)
	}
	return b
}

// labelsString formats ls as {a="b", ...} including the metric name as a
// label, for error messages.
func labelsString(ls tsdb.Labels) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// nan is a plain NaN: the evaluator's "no value".
var nan = math.NaN()
