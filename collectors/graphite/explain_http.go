package graphite

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
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
	writeJSON(w, http.StatusOK, l.parser.Explain(input, l.now()))
}

// explainInput reads the path or line of an explain request.
func explainInput(w http.ResponseWriter, r *http.Request) (string, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxExplainBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var input string
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(maxExplainBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
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
