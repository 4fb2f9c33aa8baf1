package query

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"outpost/tsdb"
)

// metaParams are the common parameters of the series and label endpoints.
type metaParams struct {
	mint, maxt int64
	groups     [][]*tsdb.Matcher // nil: no match[]
	limit      int               // 0: none
}

func (a *API) metaParams(r *http.Request) (metaParams, error) {
	p := metaParams{mint: apiMinTime, maxt: apiMaxTime}
	if err := r.ParseForm(); err != nil {
		return p, errorf(ErrBadParam, "parse form: %v", err)
	}
	if s := r.FormValue("start"); s != "" {
		t, err := parseTimeParam(s)
		if err != nil {
			return p, paramError("start", err)
		}
		p.mint = t.UnixMilli()
	}
	if s := r.FormValue("end"); s != "" {
		t, err := parseTimeParam(s)
		if err != nil {
			return p, paramError("end", err)
		}
		p.maxt = t.UnixMilli()
	}
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, paramError("limit", fmt.Errorf("cannot parse %q to a valid limit", s))
		}
		p.limit = n
	}
	var err error
	if ms := r.Form["match[]"]; len(ms) > 0 {
		p.groups, err = parseMatchParams(ms)
	}
	return p, err
}

// truncate applies limit and reports the warning Prometheus gives.
func truncate[T any](xs []T, limit int) ([]T, []string) {
	if limit > 0 && len(xs) > limit {
		return xs[:limit], []string{"results truncated due to limit"}
	}
	return xs, nil
}

// Series serves GET|POST /api/v1/series: the label sets of the series
// matching any match[] selector with samples in [start, end].
func (a *API) Series(w http.ResponseWriter, r *http.Request) {
	p, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if p.groups == nil {
		a.writeError(w, r, errorf(ErrBadParam, "no match[] parameter provided"))
		return
	}
	var all []tsdb.Labels
	seen := map[string]bool{}
	for _, ms := range p.groups {
		lss, err := a.st.Series(r.Context(), p.mint, p.maxt, ms...)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for _, ls := range lss {
			k := string(appendLabelsKey(nil, ls))
			if !seen[k] {
				seen[k] = true
				all = append(all, ls)
			}
		}
	}
	if len(p.groups) > 1 {
		slices.SortFunc(all, tsdb.Compare)
	}
	all, warn := truncate(all, p.limit)
	b := []byte{'['}
	for i, ls := range all {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabelsJSON(b, ls)
	}
	writeSuccess(w, append(b, ']'), warn)
}

// Labels serves GET|POST /api/v1/labels: the label names of the series
// matching match[] (all series without it) with samples in [start, end].
func (a *API) Labels(w http.ResponseWriter, r *http.Request) {
	p, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	names, err := a.union(r.Context(), p, func(ctx context.Context, ms []*tsdb.Matcher) ([]string, error) {
		return a.st.LabelNames(ctx, p.mint, p.maxt, ms...)
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	names, warn := truncate(names, p.limit)
	writeSuccess(w, appendStrings(nil, names), warn)
}

// LabelValues serves GET /api/v1/label/{name}/values.
func (a *API) LabelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" || !utf8.ValidString(name) {
		a.writeError(w, r, errorf(ErrBadParam, "invalid label name: %q", name))
		return
	}
	p, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	vals, err := a.union(r.Context(), p, func(ctx context.Context, ms []*tsdb.Matcher) ([]string, error) {
		return a.st.LabelValues(ctx, name, p.mint, p.maxt, ms...)
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	vals, warn := truncate(vals, p.limit)
	writeSuccess(w, appendStrings(nil, vals), warn)
}

// union runs f for each matcher group (once without matchers when there
// is no match[]) and returns the sorted union.
func (a *API) union(ctx context.Context, p metaParams, f func(context.Context, []*tsdb.Matcher) ([]string, error)) ([]string, error) {
	if p.groups == nil {
		out, err := f(ctx, nil)
		if out == nil {
			out = []string{}
		}
		return out, err
	}
	seen := map[string]bool{}
	out := []string{}
	for _, ms := range p.groups {
		xs, err := f(ctx, ms)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// Metadata serves GET /api/v1/metadata. outpost keeps no metric metadata
// (type, help, unit), so the answer is an empty object.
func (a *API) Metadata(w http.ResponseWriter, r *http.Request) {
	writeSuccess(w, []byte("{}"), nil)
}

// QueryExemplars serves GET|POST /api/v1/query_exemplars. outpost stores
// no exemplars; a valid query gets an empty list, an invalid one bad_data.
func (a *API) QueryExemplars(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.writeError(w, r, errorf(ErrBadParam, "parse form: %v", err))
		return
	}
	if q := r.FormValue("query"); q != "" {
		if _, err := Parse(q); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	writeSuccess(w, []byte("[]"), nil)
}
