package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// defaultBacktestRange is the time range of a backtest that gives no
// start.
const defaultBacktestRange = 24 * time.Hour

// Test serves POST /api/v1/alerting/test, a backtest: the body is one
// rule group's YAML, as PUT /api/v1/alerting/rules/{group} takes it; the
// query string gives start and end (RFC 3339 or Unix seconds; default the
// last 24 hours). The group is evaluated at its interval over that range
// of stored history and the answer is a BacktestResult. Nothing is sent
// and nothing is stored. 400 for a bad group or range, 422 past
// MaxBacktestSteps, 503 when the request ends first.
func (a *API) Test(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := a.m.opts.Now()
	end, err := timeParam(q.Get("end"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("end: %w", err))
		return
	}
	start, err := timeParam(q.Get("start"), end.Add(-defaultBacktestRange))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("start: %w", err))
		return
	}
	if !start.Before(end) {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("start %s is not before end %s",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
		return
	}
	body, ok := readGroupBody(w, r)
	if !ok {
		return
	}
	g, file, err := ParseGroup(body, "")
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	res, err := a.m.Backtest(r.Context(), g, file, start.UTC().Truncate(time.Second), end.UTC().Truncate(time.Second))
	switch {
	case err == nil:
		writeData(w, res)
	case errors.Is(err, ErrBacktestTooLong):
		writeError(w, http.StatusUnprocessableEntity, "bad_data", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "timeout", err)
	default:
		a.m.log.Error("backtest", "group", g.Name, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", errors.New("internal error"))
	}
}
