package graphite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxExplainBody caps the request body of the explain endpoint.
const maxExplainBody = 64 << 10

// Explain serves POST /api/v1/graphite/explain. The path, or a whole line,
// comes as the form field (or query parameter) "path", as a JSON object
// {"path": "..."}, or as the plain request body. The answer is an
// Explanation as JSON with status 200, also when the line does not parse
// (its "error" says why); 400 when no input was given, 413 when the body is
// over 64 KiB. It works whether or not the listener's sockets are enabled.
func (l *Listener) Explain(w http.ResponseWriter, r *http.Request) {
	input, status, err := explainInput(w, r)
	if err != nil {
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	now := l.now()
	e := l.parser.Explain(input, now)
	if e.Sample != nil && e.Sample.Stored && l.window != nil {
		mint, maxt := l.window(now)
		switch {
		case e.Sample.Timestamp < mint:
			e.Sample.Stored, e.Sample.Dropped = false, "out of retention"
		case e.Sample.Timestamp > maxt:
			e.Sample.Stored, e.Sample.Dropped = false, "too far in the future"
		}
		if e.Sample.Dropped != "" {
			e.Summary += fmt.Sprintf("; dropped: %s (older than %s or newer than %s; counted as rejected, reason \"out_of_bounds\")",
				e.Sample.Dropped, fmtMillis(mint), fmtMillis(maxt))
		}
	}
	writeJSON(w, http.StatusOK, e)
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// explainInput reads the path or line of an explain request.
func explainInput(w http.ResponseWriter, r *http.Request) (string, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxExplainBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var input string
	switch ct {
	case "application/x-www-form-urlencoded":
		// curl -d sends a bare line with this type: take the field "path"
		// when the body has one, the body itself otherwise.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", bodyStatus(err), errors.New("read body: " + err.Error())
		}
		input = string(b)
		if q, err := url.ParseQuery(input); err == nil && isForm(q) {
			input = q.Get("path")
		}
		if strings.TrimSpace(input) == "" {
			input = r.URL.Query().Get("path")
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxExplainBody); err != nil {
			return "", bodyStatus(err), errors.New("read form: " + err.Error())
		}
		input = r.FormValue("path")
	case "application/json":
		var req struct {
			Path string `json:"path"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return "", bodyStatus(err), errors.New("read json body: " + err.Error())
		}
		input = req.Path
	default:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", bodyStatus(err), errors.New("read body: " + err.Error())
		}
		input = string(b)
		if strings.TrimSpace(input) == "" {
			input = r.URL.Query().Get("path")
		}
	}
	if strings.TrimSpace(input) == "" {
		return "", http.StatusBadRequest, errors.New(`give a path or a whole line, as the form field "path", as {"path": "..."} or as the request body`)
	}
	return input, 0, nil
}

// isForm tells a real form (a field with a value, or "path") from a bare
// line, which parses as one field named after the whole line, with no value.
func isForm(q url.Values) bool {
	if q.Has("path") {
		return true
	}
	for _, vs := range q {
		for _, v := range vs {
			if v != "" {
				return true
			}
		}
	}
	return false
}

// bodyStatus maps a body read error to 413 or 400.
func bodyStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// writeJSON writes v as indented JSON, readable with curl.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}
