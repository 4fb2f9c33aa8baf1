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
// JSON lines, one line per series (several for a series of more than
// exportLineSamples samples, as VictoriaMetrics writes one per block), in
// the order the series were created:
//
//	{"metric":{"__name__":"m","a":"b"},"values":[1,2.5],"timestamps":[1700000000000,1700000010000]}
//
// match[] (one or more series selectors, their union), start and end (RFC
// 3339 or Unix seconds; default: all time). Values that JSON cannot hold
// are written as the strings "NaN", "+Inf" and "-Inf". The export streams:
// it holds one batch of chunks (tsdb.DefaultBatchBytes), one line and the
// write buffer, however much it returns.
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
	// Series come in ID order, a batch of chunks at a time (tsdb's
	// Unsorted select), so the export holds one batch, one line and the
	// write buffer however many series and samples it returns.
	ss, err := e.st.SelectWith(r.Context(), tsdb.SelectOptions{Mint: mint, Maxt: maxt, Unsorted: true}, sets...)
	if err != nil {
		code := http.StatusBadRequest // a matcher the index cannot run
		if typ, c := classify(err); typ != errorInternal {
			code = c
		}
		writeExportError(w, code, err)
		return
	}
	w.Header().Set("Content-Type", "application/stream+json")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	if err := export(r.Context(), bw, ss); err != nil {
		// Headers are gone; end the stream with the error on its own line.
		fmt.Fprintf(bw, "{\"error\":%q}\n", err.Error())
	}
}

// exportLineSamples is the most samples one line holds: a longer series is
// written as several lines, as VictoriaMetrics writes one per block, so a
// line stays small however long the series.
const exportLineSamples = 1 << 16

// export writes a line per series of ss (several for a long one).
func export(ctx context.Context, w *bufio.Writer, ss *tsdb.SeriesSet) error {
	var line []byte
	var samples []tsdb.Sample
	var it *tsdb.Iterator
	flush := func(ls tsdb.Labels) error {
		line = appendExportLine(line[:0], ls, samples)
		samples = samples[:0]
		_, err := w.Write(line)
		return err
	}
	for ss.Next() {
		s := ss.At()
		it = s.ReuseIterator(it)
		for it.Next() {
			t, v := it.At()
			samples = append(samples, tsdb.Sample{T: t, V: v})
			if len(samples) == exportLineSamples {
				if err := flush(s.Labels); err != nil {
					return err
				}
			}
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("read %s: %w", s.Labels, err)
		}
		if len(samples) > 0 {
			if err := flush(s.Labels); err != nil {
				return err
			}
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
	typ := errorBadData
	if code != http.StatusBadRequest {
		typ, _ = classify(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": err.Error()})
}
