package query

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"outpost/tsdb"
)

// Query serves GET|POST /api/v1/query: query, time (default now), and the
// optional timeout and step (the window of `m` and `rate(m)`, default 5m).
func (a *API) Query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.writeError(w, r, errorf(ErrBadParam, "parse form: %v", err))
		return
	}
	ctx, cancel, err := requestContext(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer cancel()
	ts, err := a.timeParam(r, "time", a.e.Now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var step time.Duration
	if s := r.FormValue("step"); s != "" {
		if step, err = parseDurationParam(s); err != nil {
			a.writeError(w, r, paramError("step", err))
			return
		}
	}
	v, err := a.e.instant(ctx, r.FormValue("query"), ts.UnixMilli(), step.Milliseconds())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeValue(w, v)
}

// QueryRange serves GET|POST /api/v1/query_range: query, start, end, step
// (a duration or seconds), and the optional timeout.
func (a *API) QueryRange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.writeError(w, r, errorf(ErrBadParam, "parse form: %v", err))
		return
	}
	ctx, cancel, err := requestContext(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer cancel()
	start, err := parseTimeParam(r.FormValue("start"))
	if err != nil {
		a.writeError(w, r, paramError("start", err))
		return
	}
	end, err := parseTimeParam(r.FormValue("end"))
	if err != nil {
		a.writeError(w, r, paramError("end", err))
		return
	}
	if end.Before(start) {
		a.writeError(w, r, paramError("end", fmt.Errorf("end timestamp must not be before start time")))
		return
	}
	step, err := parseDurationParam(r.FormValue("step"))
	if err != nil {
		a.writeError(w, r, paramError("step", err))
		return
	}
	if step <= 0 {
		a.writeError(w, r, paramError("step", fmt.Errorf("zero or negative query resolution step widths are not accepted. Try a positive integer")))
		return
	}
	v, err := a.e.Range(ctx, r.FormValue("query"), start, end, step)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeValue(w, v)
}

// sortMatrix sorts m by labels, as Prometheus returns range results.
func sortMatrix(m Matrix) {
	slices.SortStableFunc(m, func(a, b Series) int { return tsdb.Compare(a.Labels, b.Labels) })
}
