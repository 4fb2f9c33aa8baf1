package query

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"

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
	st Storage
}

// NewExporter returns the export handler over st.
func NewExporter(st Storage) *Exporter { return &Exporter{st: st} }

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
	for name, dst := range map[string]*int64{"start": &mint, "end": &maxt} {
		if s := r.Form.Get(name); s != "" {
			t, err := parseTimeParam(s)
			if err != nil {
				writeExportError(w, http.StatusBadRequest, paramError(name, err))
				return
			}
			*dst = t.UnixMilli()
		}
	}
	sets, err := parseMatchParams(matches)
	if err != nil {
		writeExportError(w, http.StatusBadRequest, err)
		return
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
