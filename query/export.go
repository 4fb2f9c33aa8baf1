package query

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// Exporter serves GET|POST /api/v1/export: raw samples as VictoriaMetrics'
// JSON lines, one line per series:
//
//	{"metric":{"__name__":"m","a":"b"},"values":[1,2.5],"timestamps":[1700000000000,1700000010000]}
//
// match[] (one or more series selectors, their union), start and end (RFC
// 3339 or Unix seconds; default: all time). Values that JSON cannot hold
// are written as the strings "NaN", "+Inf" and "-Inf".
type Exporter struct {
	st exportStorage
}

// exportStorage is what the exporter reads; *tsdb.DB implements it.
type exportStorage interface {
	Select(ctx context.Context, mint, maxt int64, ms ...*tsdb.Matcher) (*tsdb.SeriesSet, error)
}

// NewExporter returns the export handler over st.
func NewExporter(st exportStorage) *Exporter { return &Exporter{st: st} }

// ServeHTTP implements http.Handler.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeExportError(w, http.StatusBadRequest, fmt.Errorf("parse form: %w", err))
		return
	}
	matches := r.Form["match[]"]
	if len(matches) == 0 {
		writeExportError(w, http.StatusBadRequest, fmt.Errorf("missing match[] parameter"))
		return
	}
	mint, maxt := tsdb.MinTime, tsdb.MaxTime
	var err error
	if s := r.Form.Get("start"); s != "" {
		if mint, err = parseExportTime(s); err != nil {
			writeExportError(w, http.StatusBadRequest, fmt.Errorf("start: %w", err))
			return
		}
	}
	if s := r.Form.Get("end"); s != "" {
		if maxt, err = parseExportTime(s); err != nil {
			writeExportError(w, http.StatusBadRequest, fmt.Errorf("end: %w", err))
			return
		}
	}
	var sets [][]*tsdb.Matcher
	for _, m := range matches {
		ms, err := parseExportSelector(m)
		if err != nil {
			writeExportError(w, http.StatusBadRequest, fmt.Errorf("match[] %q: %w", m, err))
			return
		}
		sets = append(sets, ms)
	}
	w.Header().Set("Content-Type", "application/stream+json")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	seen := make(map[string]bool)
	for _, ms := range sets {
		if err := e.export(r.Context(), bw, mint, maxt, ms, seen); err != nil {
			// Headers are gone; end the stream with the error on its own line.
			fmt.Fprintf(bw, "{\"error\":%q}\n", err.Error())
			return
		}
	}
}

func (e *Exporter) export(ctx context.Context, w *bufio.Writer, mint, maxt int64, ms []*tsdb.Matcher, seen map[string]bool) error {
	ss, err := e.st.Select(ctx, mint, maxt, ms...)
	if err != nil {
		return err
	}
	var line []byte
	var samples []tsdb.Sample
	for ss.Next() {
		s := ss.At()
		key := s.Labels.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		samples = s.Iterator().Samples(samples[:0])
		if len(samples) == 0 {
			continue
		}
		line = appendExportLine(line[:0], s.Labels, samples)
		if _, err := w.Write(line); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ss.Err()
}

func appendExportLine(b []byte, ls tsdb.Labels, samples []tsdb.Sample) []byte {
	b = append(b, `{"metric":{`...)
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, l.Name)
		b = append(b, ':')
		b = appendJSONString(b, l.Value)
	}
	b = append(b, `},"values":[`...)
	for i, s := range samples {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(s.V):
			b = append(b, `"NaN"`...)
		case math.IsInf(s.V, 1):
			b = append(b, `"+Inf"`...)
		case math.IsInf(s.V, -1):
			b = append(b, `"-Inf"`...)
		default:
			b = strconv.AppendFloat(b, s.V, 'g', -1, 64)
		}
	}
	b = append(b, `],"timestamps":[`...)
	for i, s := range samples {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, s.T, 10)
	}
	return append(b, "]}\n"...)
}

// appendJSONString appends s as a JSON string (valid for any UTF-8 or not).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func writeExportError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "bad_data", "error": err.Error()})
}

// parseExportTime parses RFC 3339 or (fractional) Unix seconds into ms.
func parseExportTime(s string) (int64, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return int64(math.Round(f * 1000)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	return t.UnixMilli(), nil
}

// parseExportSelector parses a series selector such as
// `m{a="b",c=~"d.*"}` into matchers.
func parseExportSelector(s string) ([]*tsdb.Matcher, error) {
	expr, err := metricsql.Parse(s)
	if err != nil {
		return nil, err
	}
	me, ok := expr.(*metricsql.MetricExpr)
	if !ok {
		return nil, fmt.Errorf("not a series selector")
	}
	if len(me.LabelFilterss) != 1 {
		return nil, fmt.Errorf("'or' filters are not supported in match[]")
	}
	var ms []*tsdb.Matcher
	for _, lf := range me.LabelFilterss[0] {
		t := tsdb.MatchEqual
		switch {
		case lf.IsRegexp && lf.IsNegative:
			t = tsdb.MatchNotRegexp
		case lf.IsRegexp:
			t = tsdb.MatchRegexp
		case lf.IsNegative:
			t = tsdb.MatchNotEqual
		}
		m, err := tsdb.NewMatcher(t, lf.Label, lf.Value)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	return ms, nil
}
