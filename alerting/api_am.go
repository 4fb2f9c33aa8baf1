package alerting

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"outpost/alerting/notify"
)

// The parts of Alertmanager's API v2 that amtool and Grafana use, served
// from the embedded dispatcher and its silences:
//
//	GET    /api/v2/alerts          every alert the dispatcher holds (filter, active, silenced, inhibited, receiver)
//	GET    /api/v2/alerts/groups   the aggregation groups
//	GET    /api/v2/silences        every silence (filter)
//	POST   /api/v2/silences        create or update a silence (admin)
//	GET    /api/v2/silence/{id}    one silence
//	DELETE /api/v2/silence/{id}    expire a silence (admin)
//	GET    /api/v2/status          cluster (disabled), config, uptime, version
//	GET    /api/v2/receivers       the receivers
//	POST   /api/v2/alerts          501: outpost raises its own alerts
//
// Errors are Alertmanager's: a JSON string body with 400, 404 or 500.

// amAlert is Alertmanager's gettableAlert.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []amReceiver      `json:"receivers"`
	Status       amAlertStatus     `json:"status"`
}

type amReceiver struct {
	Name string `json:"name"`
}

type amAlertStatus struct {
	State       string   `json:"state"`
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// amSilence is Alertmanager's gettableSilence.
type amSilence struct {
	notify.Silence
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// AMAlerts serves GET /api/v2/alerts.
func (a *API) AMAlerts(w http.ResponseWriter, r *http.Request) {
	keep, err := amAlertFilter(r)
	if err != nil {
		writeAMError(w, http.StatusBadRequest, err)
		return
	}
	out := []amAlert{}
	for _, s := range a.m.notifier.Alerts() {
		if keep(&s) {
			out = append(out, a.amAlert(&s))
		}
	}
	writeAMJSON(w, out)
}

// amAlert converts a dispatcher alert. A firing alert's endsAt is when
// it would be taken as resolved without news: its last update plus
// Alertmanager's default resolve timeout, as Alertmanager shows it.
func (a *API) amAlert(s *notify.AlertStatus) amAlert {
	al := s.Alert
	now := a.m.opts.Now()
	ends := al.EndsAt
	if ends.IsZero() {
		ends = now.Add(5 * time.Minute)
	}
	out := amAlert{Labels: al.Labels, Annotations: al.Annotations, StartsAt: al.StartsAt, EndsAt: ends, UpdatedAt: now,
		GeneratorURL: al.GeneratorURL, Fingerprint: al.Fingerprint, Receivers: []amReceiver{},
		Status: amAlertStatus{State: s.State.String(), SilencedBy: s.SilencedBy, InhibitedBy: s.InhibitedBy}}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	if out.Status.SilencedBy == nil {
		out.Status.SilencedBy = []string{}
	}
	if out.Status.InhibitedBy == nil {
		out.Status.InhibitedBy = []string{}
	}
	for _, rc := range s.Receivers {
		out.Receivers = append(out.Receivers, amReceiver{Name: rc})
	}
	return out
}

// amAlertFilter reads GET /api/v2/alerts' parameters: filter (matchers,
// all must match), active, silenced, inhibited (booleans, default true)
// and receiver (a regular expression).
func amAlertFilter(r *http.Request) (func(*notify.AlertStatus) bool, error) {
	q := r.URL.Query()
	var ms []notify.Matcher
	for _, f := range q["filter"] {
		m, err := notify.ParseMatchers(f)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", f, err)
		}
		ms = append(ms, m...)
	}
	flags := map[string]bool{"active": true, "silenced": true, "inhibited": true}
	for k := range flags {
		if s := q.Get(k); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not true or false", k, s)
			}
			flags[k] = b
		}
	}
	var recv *regexp.Regexp
	if s := q.Get("receiver"); s != "" {
		var err error
		if recv, err = regexp.Compile("^(?:" + s + ")$"); err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
	}
	return func(s *notify.AlertStatus) bool {
		for _, m := range ms {
			if !m.Matches(s.Alert.Labels[m.Name]) {
				return false
			}
		}
		switch {
		case s.State == notify.AlertActive && !flags["active"],
			len(s.SilencedBy) > 0 && !flags["silenced"],
			len(s.InhibitedBy) > 0 && !flags["inhibited"]:
			return false
		}
		if recv != nil {
			for _, rc := range s.Receivers {
				if recv.MatchString(rc) {
					return true
				}
			}
			return false
		}
		return true
	}, nil
}

// AMAlertGroups serves GET /api/v2/alerts/groups.
func (a *API) AMAlertGroups(w http.ResponseWriter, r *http.Request) {
	type group struct {
		Labels   map[string]string `json:"labels"`
		Receiver amReceiver        `json:"receiver"`
		Alerts   []amAlert         `json:"alerts"`
	}
	keep, err := amAlertFilter(r)
	if err != nil {
		writeAMError(w, http.StatusBadRequest, err)
		return
	}
	out := []group{}
	for _, g := range a.m.notifier.Groups() {
		gr := group{Labels: g.Labels, Receiver: amReceiver{Name: g.Receiver}, Alerts: []amAlert{}}
		for i := range g.Alerts {
			if keep(&g.Alerts[i]) {
				gr.Alerts = append(gr.Alerts, a.amAlert(&g.Alerts[i]))
			}
		}
		if len(gr.Alerts) > 0 {
			out = append(out, gr)
		}
	}
	writeAMJSON(w, out)
}

// AMPostAlerts answers POST /api/v2/alerts with 501: outpost evaluates its
// own rules; taking alerts from other Prometheus servers is not built.
func (a *API) AMPostAlerts(w http.ResponseWriter, r *http.Request) {
	writeAMError(w, http.StatusNotImplemented, errors.New("outpost raises alerts from its own rules; "+
		"receiving alerts from other Prometheus or vmalert servers is not built (forward them to a real Alertmanager)"))
}

// AMSilences serves GET /api/v2/silences.
func (a *API) AMSilences(w http.ResponseWriter, r *http.Request) {
	var ms []notify.Matcher
	for _, f := range r.URL.Query()["filter"] {
		m, err := notify.ParseMatchers(f)
		if err != nil {
			writeAMError(w, http.StatusBadRequest, fmt.Errorf("filter %q: %w", f, err))
			return
		}
		ms = append(ms, m...)
	}
	sils := a.m.notifier.Silences()
	out := []amSilence{}
	for _, s := range sils.List() {
		if silenceHas(s, ms) {
			out = append(out, toAMSilence(s, sils.State(s)))
		}
	}
	writeAMJSON(w, out)
}

// silenceHas reports whether every filter matcher equals one of s's
// matchers, as Alertmanager filters silences.
func silenceHas(s notify.Silence, filter []notify.Matcher) bool {
	for _, f := range filter {
		found := false
		for _, m := range s.Matchers {
			if m.Name == f.Name && m.Value == f.Value && m.IsRegex == f.IsRegex && m.IsEqual == f.IsEqual {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func toAMSilence(s notify.Silence, st notify.SilenceState) amSilence {
	out := amSilence{Silence: s}
	out.Status.State = st.String()
	return out
}

// AMPostSilence serves POST /api/v2/silences: {"silenceID": id}.
func (a *API) AMPostSilence(w http.ResponseWriter, r *http.Request) {
	var s notify.Silence
	if err := json.NewDecoder(io.LimitReader(r.Body, maxFormBytes)).Decode(&s); err != nil {
		writeAMError(w, http.StatusBadRequest, fmt.Errorf("decode silence: %w", err))
		return
	}
	id, err := a.m.notifier.Silences().Set(s)
	switch {
	case errors.Is(err, notify.ErrNotFound):
		writeAMError(w, http.StatusNotFound, err)
	case errors.Is(err, notify.ErrInvalidSilence):
		writeAMError(w, http.StatusBadRequest, err)
	case err != nil:
		writeAMError(w, http.StatusInternalServerError, err)
	default:
		writeAMJSON(w, map[string]string{"silenceID": id})
	}
}

// AMGetSilence serves GET /api/v2/silence/{id}.
func (a *API) AMGetSilence(w http.ResponseWriter, r *http.Request) {
	sils := a.m.notifier.Silences()
	s, err := sils.Get(r.PathValue("id"))
	if err != nil {
		writeAMError(w, http.StatusNotFound, err)
		return
	}
	writeAMJSON(w, toAMSilence(s, sils.State(s)))
}

// AMDeleteSilence serves DELETE /api/v2/silence/{id}: the silence expires.
func (a *API) AMDeleteSilence(w http.ResponseWriter, r *http.Request) {
	err := a.m.notifier.Silences().Expire(r.PathValue("id"))
	switch {
	case errors.Is(err, notify.ErrNotFound):
		writeAMError(w, http.StatusNotFound, err)
	case err != nil:
		writeAMError(w, http.StatusInternalServerError, err)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func writeAMJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeAMError writes Alertmanager's error body: a JSON string.
func writeAMError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(err.Error())
}
