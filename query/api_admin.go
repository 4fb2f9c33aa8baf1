package query

import (
	"context"
	"errors"
	"net/http"

	"outpost/tsdb"
)

// Deleter is the store's delete, for POST /api/v1/admin/tsdb/delete_series.
type Deleter interface {
	DeleteSeries(ctx context.Context, mint, maxt int64, sets ...[]*tsdb.Matcher) (int, error)
}

var (
	errNoMatch        = errors.New("no match[] parameter provided")
	errEndBeforeStart = errors.New("end timestamp must not be before start time")
)

// DeleteSeries serves POST /api/v1/admin/tsdb/delete_series (admin):
// match[] (required, one or more selectors), start and end (RFC 3339 or
// Unix seconds; all time by default). It answers 204 with no body, as
// Prometheus does, once the tombstone is on disk.
func (a *API) DeleteSeries(w http.ResponseWriter, r *http.Request) {
	d, ok := a.st.(Deleter)
	if !ok {
		a.writeError(w, r, errorf(ErrUnavailable, "this store cannot delete series"))
		return
	}
	p, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(p.groups) == 0 {
		a.writeError(w, r, paramError("match[]", errNoMatch))
		return
	}
	if p.mint > p.maxt {
		a.writeError(w, r, paramError("end", errEndBeforeStart))
		return
	}
	if _, err := d.DeleteSeries(r.Context(), p.mint, p.maxt, p.groups...); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
