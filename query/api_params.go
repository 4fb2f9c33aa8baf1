package query

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// paramError wraps a bad parameter the way Prometheus words it.
func paramError(name string, err error) error {
	return errorf(ErrBadParam, "invalid parameter %q: %v", name, err)
}

// The bounds of "all time" for label and series queries without start or
// end: Prometheus' own minimum and maximum timestamps.
const (
	apiMinTime = int64(-9223309901257974)
	apiMaxTime = int64(9223309901257974)
)

// parseTimeParam parses Unix seconds (fractional allowed) or RFC 3339.
func parseTimeParam(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(f)
		ns := math.Round(frac*1000) * 1e6
		return time.Unix(int64(sec), int64(ns)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDurationParam parses seconds (fractional allowed) or a Prometheus
// duration such as "1m30s".
func parseDurationParam(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ts := f * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) || math.IsNaN(ts) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	ms, err := metricsql.DurationValue(s, 0)
	if err != nil || strings.ContainsAny(s, "i") {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// parseMatchParams parses match[] selectors into matcher groups; a
// selector with `or` filters gives several groups.
func parseMatchParams(ss []string) ([][]*tsdb.Matcher, error) {
	var out [][]*tsdb.Matcher
	for _, s := range ss {
		expr, err := metricsql.Parse(s)
		if err != nil {
			return nil, paramError("match[]", fmt.Errorf("%q: %v", s, err))
		}
		me, ok := expr.(*metricsql.MetricExpr)
		if !ok {
			return nil, paramError("match[]", fmt.Errorf("%q is not a series selector", s))
		}
		for _, lfs := range me.LabelFilterss {
			ms, err := toMatchers(lfs)
			if err != nil {
				return nil, paramError("match[]", err)
			}
			out = append(out, ms)
		}
	}
	return out, nil
}

// appendTimestamp appends t (ms) as Prometheus writes it: seconds with up
// to three decimals, trailing digits kept ("1.500").
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	if f := t % 1000; f != 0 {
		b = append(b, '.')
		if f < 100 {
			b = append(b, '0')
		}
		if f < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, f, 10)
	}
	return b
}

// appendSampleValue appends v as a JSON string in Prometheus' format.
func appendSampleValue(b []byte, v float64) []byte {
	b = append(b, '"')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, '"')
}

// appendLabelsJSON appends ls as a JSON object.
func appendLabelsJSON(b []byte, ls tsdb.Labels) []byte {
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, l.Name)
		b = append(b, ':')
		b = appendJSONString(b, l.Value)
	}
	return append(b, '}')
}

// appendValueJSON appends a query result as the API's data object.
func appendValueJSON(b []byte, v Value) []byte {
	b = appendValueHead(b, v)
	switch v := v.(type) {
	case Vector:
		for i, s := range v {
			b = appendSampleJSON(b, i, s)
		}
		b = append(b, ']')
	case Matrix:
		for i, s := range v {
			b = appendSeriesJSON(b, i, s)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendValueHead appends the data object up to its result: whole for a
// Scalar or String, up to the opening '[' for a Vector or Matrix.
func appendValueHead(b []byte, v Value) []byte {
	b = append(b, `{"resultType":"`...)
	b = append(b, v.Type()...)
	b = append(b, `","result":`...)
	switch v := v.(type) {
	case Scalar:
		b = append(b, '[')
		b = appendTimestamp(b, v.T)
		b = append(b, ',')
		b = appendSampleValue(b, v.V)
		b = append(b, ']')
	case String:
		b = append(b, '[')
		b = appendTimestamp(b, v.T)
		b = append(b, ',')
		b = appendJSONString(b, v.V)
		b = append(b, ']')
	default:
		b = append(b, '[')
	}
	return b
}

// appendSampleJSON appends element i of a vector result.
func appendSampleJSON(b []byte, i int, s Sample) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"metric":`...)
	b = appendLabelsJSON(b, s.Labels)
	b = append(b, `,"value":[`...)
	b = appendTimestamp(b, s.T)
	b = append(b, ',')
	b = appendSampleValue(b, s.V)
	return append(b, "]}"...)
}

// appendSeriesJSON appends element i of a matrix result.
func appendSeriesJSON(b []byte, i int, s Series) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"metric":`...)
	b = appendLabelsJSON(b, s.Labels)
	b = append(b, `,"values":[`...)
	for j, p := range s.Points {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendTimestamp(b, p.T)
		b = append(b, ',')
		b = appendSampleValue(b, p.V)
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

// writeValue answers with v in the success envelope, streaming large
// results in chunks instead of building the whole body in memory.
func writeValue(w http.ResponseWriter, v Value) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"status":"success","data":`...)
	b = appendValueHead(b, v)
	flush := func() {
		if len(b) >= 48<<10 {
			w.Write(b)
			b = b[:0]
		}
	}
	switch v := v.(type) {
	case Vector:
		for i, s := range v {
			b = appendSampleJSON(b, i, s)
			flush()
		}
		b = append(b, ']')
	case Matrix:
		for i, s := range v {
			b = appendSeriesJSON(b, i, s)
			flush()
		}
		b = append(b, ']')
	}
	b = append(b, "}}"...)
	w.Write(b)
}

// ParseSelectors parses series selectors as the API's match[] parameter
// takes them (`{host="web1"}`, `cpu_usage_idle{cpu="cpu-total"}`); each
// selector gives one matcher set per `or` branch. Errors name the
// selector.
func ParseSelectors(ss []string) ([][]*tsdb.Matcher, error) { return parseMatchParams(ss) }
