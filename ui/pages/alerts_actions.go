package pages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"outpost/alerting"
	"outpost/query"
	"outpost/ui"
)

// formAction does what one admin form asks, with the form parsed and its
// token checked, and returns the parameters that tell the page it goes
// back to what was done (done=ack, id=...).
type formAction func(r *http.Request, am *alerting.Manager, by string) (url.Values, error)

// formError is a refusal with its HTTP status.
type formError struct {
	status int
	msg    string
}

func (e *formError) Error() string { return e.msg }

// badFormInput is a 400 naming the form field at fault.
func badFormInput(format string, args ...any) error {
	return &formError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// formResultBody is the page shown when an action fails.
type formResultBody struct {
	Title, Message, Back string
}

// formHandler serves an admin form: the form token first (403 without a good
// one), then f; success answers 303 to the page the form came from
// (its "back" field), a failure shows what went wrong with a link back.
func (p *Pages) formHandler(f formAction) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := p.forms.check(r); err != nil {
			http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
			return
		}
		back := formSafeBack(r.PostForm.Get("back"), r.URL.Path)
		if p.d.Alerts == nil {
			p.formFailed(w, r, back, http.StatusServiceUnavailable, "alerting is off in this outpost")
			return
		}
		done, err := f(r, p.d.Alerts, actor(r))
		if err != nil {
			status := http.StatusUnprocessableEntity
			var ae *formError
			switch {
			case errors.As(err, &ae):
				status = ae.status
			case errors.Is(err, alerting.ErrNotFound):
				status = http.StatusNotFound
			}
			p.formFailed(w, r, back, status, err.Error())
			return
		}
		http.Redirect(w, r, withQueryParams(back, done), http.StatusSeeOther)
	})
}

// formFailed shows why an action failed, with a link back.
func (p *Pages) formFailed(w http.ResponseWriter, r *http.Request, back string, status int, msg string) {
	pg := p.start(r, "Not done", "Alerts")
	if strings.HasPrefix(back, "/rules") {
		pg.Section = "Rules"
	}
	pg.NoRange = true
	pg.Styles = []string{"alerts.css"}
	pg.Body = formResultBody{Title: "Not done", Message: msg, Back: back}
	p.render(w, r, p.tmpl["alerts_result.html"], status, pg)
}

// actor names who acts in the history and on silences: "ui:" and the
// digest of the request's credential, or "ui:loopback" for an admin
// action from loopback with no token.
func actor(r *http.Request) string {
	if id := ui.CredentialID(r); id != "" {
		return "ui:" + id
	}
	return "ui:loopback"
}

// formBackURL is the page's own URL (path and query) without the last
// action's report, for the forms' "back" field.
func formBackURL(r *http.Request) string {
	q := r.URL.Query()
	for _, k := range []string{"done", "id", "n", "g"} {
		q.Del(k)
	}
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// formSafeBack returns back when it is a path on this site under /alerts or
// /rules, else a default page for the action's path.
func formSafeBack(back, actionPath string) string {
	u, err := url.Parse(back)
	if err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && !strings.HasPrefix(back, "//") &&
		!strings.Contains(back, `\`) && (u.Path == "/alerts" || strings.HasPrefix(u.Path, "/alerts/") ||
		u.Path == "/rules" || strings.HasPrefix(u.Path, "/rules/")) {
		return back
	}
	if strings.HasPrefix(actionPath, "/rules") {
		return "/rules"
	}
	return "/alerts"
}

// withQueryParams adds params to the URL back.
func withQueryParams(back string, params url.Values) string {
	u, err := url.Parse(back)
	if err != nil {
		return back
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// doneMessage says what the last action did, from the parameters the
// action's redirect added. The words are the page's own; only ids and
// counts come from the URL.
func doneMessage(q url.Values) string {
	id := q.Get("id")
	switch q.Get("done") {
	case "ack":
		return "Alert acknowledged: it is not repeated until it resolves or changes severity."
	case "unack":
		return "Acknowledgement removed."
	case "note":
		return "Note added to the alert's history."
	case "silence":
		return "Silence " + id + " created."
	case "expire":
		return "Silence " + id + " expired."
	case "retire":
		g, _ := strconv.Atoi(q.Get("g"))
		n, _ := strconv.Atoi(q.Get("n"))
		return fmt.Sprintf("Retired: %d flatline group(s) ended, %d open alert(s) closed.", g, n)
	case "reload":
		return "Rules reloaded: every rule file loaded."
	case "reload-failed":
		return "Rules reloaded, but some rule files failed to load: each keeps its previous version (see the errors below)."
	}
	return ""
}

// ackAction acknowledges alert {id} with the form's comment.
func (p *Pages) ackAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	id := r.PathValue("id")
	if err := am.Ack(r.Context(), id, by, strings.TrimSpace(r.PostForm.Get("comment"))); err != nil {
		return nil, err
	}
	return url.Values{"done": {"ack"}}, nil
}

// unackAction removes the acknowledgement of alert {id}.
func (p *Pages) unackAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	if err := am.Unack(r.Context(), r.PathValue("id"), by); err != nil {
		return nil, err
	}
	return url.Values{"done": {"unack"}}, nil
}

// noteAction adds the form's text to alert {id}'s history.
func (p *Pages) noteAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	text := strings.TrimSpace(r.PostForm.Get("text"))
	if text == "" {
		return nil, badFormInput("text: the note is empty")
	}
	if err := am.Note(r.Context(), r.PathValue("id"), by, text); err != nil {
		return nil, err
	}
	return url.Values{"done": {"note"}}, nil
}

// retireAction retires what the form's selector matches: flatline
// groups end with one "retired" notice, open alerts close.
func (p *Pages) retireAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	s := strings.TrimSpace(r.PostForm.Get("selector"))
	if s == "" || s == "{}" {
		return nil, badFormInput("selector: give a series selector, such as {host=\"web3\"}")
	}
	sel, err := query.ParseSelectors([]string{s})
	if err != nil {
		return nil, badFormInput("selector: %v", err)
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	if comment == "" {
		return nil, badFormInput("comment: say why (such as \"web3 decommissioned\"); it goes into the notices and the history")
	}
	res, err := am.Retire(r.Context(), sel, by, comment)
	if err != nil {
		return nil, fmt.Errorf("retire %s: %w", s, err)
	}
	return url.Values{"done": {"retire"}, "g": {strconv.Itoa(len(res.Groups))}, "n": {strconv.Itoa(res.Alerts)}}, nil
}
