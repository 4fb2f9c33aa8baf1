package query

import (
	"cmp"
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"time"

	"outpost/tsdb"
)

// RuleGroup is one group of /api/v1/rules, in Prometheus' shape.
type RuleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []Rule    `json:"rules"`
	Interval       float64   `json:"interval"` // seconds
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"` // seconds
	LastEvaluation time.Time `json:"lastEvaluation"`
}

// Rule is one alerting or recording rule of a RuleGroup. Type is
// "alerting" or "recording"; the alerting fields are empty for the other.
type Rule struct {
	Type           string            `json:"type"`
	Name           string            `json:"name"`
	Query          string            `json:"query"`
	Duration       float64           `json:"duration,omitempty"`      // seconds of "for"
	KeepFiringFor  float64           `json:"keepFiringFor,omitempty"` // seconds
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Alerts         []Alert           `json:"alerts,omitempty"`
	State          string            `json:"state,omitempty"` // inactive, pending, firing
	Health         string            `json:"health"`          // ok, err, unknown
	LastError      string            `json:"lastError,omitempty"`
	EvaluationTime float64           `json:"evaluationTime"`
	LastEvaluation time.Time         `json:"lastEvaluation"`
}

// Alert is one active alert of /api/v1/alerts and of a Rule.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending, firing
	ActiveAt    *time.Time        `json:"activeAt,omitempty"`
	Value       string            `json:"value"`
}

// BuildInfo serves GET /api/v1/status/buildinfo with a Prometheus-like
// version (no "features" key), which is what Grafana checks.
func (a *API) BuildInfo(w http.ResponseWriter, r *http.Request) {
	info := map[string]string{
		"version":   a.opts.Version,
		"revision":  a.opts.Revision,
		"branch":    a.opts.Branch,
		"buildUser": a.opts.BuildUser,
		"buildDate": a.opts.BuildDate,
		"goVersion": runtime.Version(),
	}
	a.writeJSONData(w, r, info)
}

// Rules serves GET /api/v1/rules from the Rules provider.
func (a *API) Rules(w http.ResponseWriter, r *http.Request) {
	groups := []RuleGroup{}
	if a.opts.Rules != nil {
		gs, err := a.opts.Rules(r.Context())
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		groups = append(groups, gs...)
	}
	for i := range groups {
		if groups[i].Rules == nil {
			groups[i].Rules = []Rule{}
		}
	}
	a.writeJSONData(w, r, map[string]any{"groups": groups})
}

// Alerts serves GET /api/v1/alerts from the Alerts provider.
func (a *API) Alerts(w http.ResponseWriter, r *http.Request) {
	alerts := []Alert{}
	if a.opts.Alerts != nil {
		as, err := a.opts.Alerts(r.Context())
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		alerts = append(alerts, as...)
	}
	a.writeJSONData(w, r, map[string]any{"alerts": alerts})
}

// TSDBStatus serves GET /api/v1/status/tsdb: the series count and the
// ten metric names with the most series, in Prometheus' shape.
func (a *API) TSDBStatus(w http.ResponseWriter, r *http.Request) {
	m, err := tsdb.NewMatcher(tsdb.MatchRegexp, tsdb.MetricName, ".+")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.st.Series(r.Context(), apiMinTime, apiMaxTime, m)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	type stat struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	}
	byName := map[string]int{}
	pairs := 0
	for _, ls := range all {
		byName[ls.Get(tsdb.MetricName)]++
		pairs += len(ls)
	}
	top := make([]stat, 0, len(byName))
	for n, c := range byName {
		top = append(top, stat{n, c})
	}
	slices.SortFunc(top, func(x, y stat) int { return cmp.Or(y.Value-x.Value, cmp.Compare(x.Name, y.Name)) })
	if len(top) > 10 {
		top = top[:10]
	}
	head := map[string]any{"numSeries": len(all), "numLabelPairs": pairs, "chunkCount": 0, "minTime": 0, "maxTime": 0}
	if hs, ok := a.st.(interface{ HeadStats() tsdb.HeadStats }); ok {
		h := hs.HeadStats()
		head["chunkCount"], head["minTime"], head["maxTime"] = h.Chunks, h.MinTime, h.MaxTime
	}
	a.writeJSONData(w, r, map[string]any{
		"headStats":                   head,
		"seriesCountByMetricName":     top,
		"labelValueCountByLabelName":  []stat{},
		"memoryInBytesByLabelName":    []stat{},
		"seriesCountByLabelValuePair": []stat{},
	})
}

// writeJSONData marshals v as the data of a success envelope.
func (a *API) writeJSONData(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeSuccess(w, b, nil)
}
