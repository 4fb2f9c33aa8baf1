package pages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/notify"
)

// maxExpiredShown is how many expired silences the board lists.
const maxExpiredShown = 20

// silenceView is one silence as the board lists it.
type silenceView struct {
	ID, State          string
	Matchers           string
	StartsAt, EndsAt   time.Time
	CreatedBy, Comment string
	// Muting is how many open alerts the silence mutes.
	Muting int
}

// silenceViews lists the active and pending silences of the embedded
// Alertmanager, and the most recently expired ones.
func (p *Pages) silenceViews(am *alerting.Manager, open []alerting.AlertView) (live, expired []silenceView) {
	sils := am.Notifier().Silences()
	muting := map[string]int{}
	for i := range open {
		for _, id := range open[i].SilencedBy {
			muting[id]++
		}
	}
	for _, s := range sils.List() {
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			ms[i] = m.String()
		}
		st := sils.State(s)
		v := silenceView{ID: s.ID, State: st.String(), Matchers: "{" + strings.Join(ms, ", ") + "}", StartsAt: s.StartsAt,
			EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment, Muting: muting[s.ID]}
		switch {
		case st != notify.SilenceExpired:
			live = append(live, v)
		case len(expired) < maxExpiredShown:
			expired = append(expired, v)
		}
	}
	return live, expired
}

// silenceAction creates a silence in the embedded Alertmanager from the
// form: matchers (Alertmanager's syntax), duration or ends (a UTC time),
// comment.
func (p *Pages) silenceAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	ms, err := notify.ParseMatchers(r.PostForm.Get("matchers"))
	if err != nil {
		return nil, badFormInput("matchers: %v", err)
	}
	if len(ms) == 0 {
		return nil, badFormInput("matchers: give at least one, such as host=\"web1\"")
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	if comment == "" {
		return nil, badFormInput("comment: say why the alerts are silenced (Alertmanager requires a comment)")
	}
	now := p.now()
	ends, err := silenceEnd(r.PostForm.Get("duration"), r.PostForm.Get("ends"), now)
	if err != nil {
		return nil, err
	}
	id, err := am.Notifier().Silences().Set(notify.Silence{Matchers: ms, StartsAt: now, EndsAt: ends, CreatedBy: by, Comment: comment})
	if err != nil {
		if errors.Is(err, notify.ErrInvalidSilence) {
			return nil, badFormInput("%v", err)
		}
		return nil, fmt.Errorf("create the silence: %w", err)
	}
	return url.Values{"done": {"silence"}, "id": {id}}, nil
}

// silenceEnd reads when a silence ends: ends (RFC 3339, or a browser's
// datetime-local value, taken as UTC) when given, else now + duration
// (such as 2h or 1d).
func silenceEnd(duration, ends string, now time.Time) (time.Time, error) {
	if ends = strings.TrimSpace(ends); ends != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
			if t, err := time.ParseInLocation(layout, ends, time.UTC); err == nil {
				if !t.After(now) {
					return time.Time{}, badFormInput("ends: %s is not in the future", t.UTC().Format(time.RFC3339))
				}
				return t, nil
			}
		}
		return time.Time{}, badFormInput("ends: %q is not a time such as 2026-12-01T18:00 (UTC)", ends)
	}
	duration = strings.TrimSpace(duration)
	if duration == "" {
		return time.Time{}, badFormInput("duration: say how long the silence lasts, such as 2h or 1d (or give ends)")
	}
	d, err := parseDuration(duration)
	if err != nil {
		return time.Time{}, badFormInput("duration: %v", err)
	}
	return now.Add(d), nil
}

// expireAction expires silence {id} now.
func (p *Pages) expireAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	id := r.PathValue("id")
	if err := am.Notifier().Silences().Expire(id); err != nil {
		if errors.Is(err, notify.ErrNotFound) {
			return nil, &formError{status: http.StatusNotFound, msg: err.Error()}
		}
		return nil, fmt.Errorf("expire the silence: %w", err)
	}
	return url.Values{"done": {"expire"}, "id": {id}}, nil
}
