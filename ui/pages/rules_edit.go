package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/rulefile"
)

// The rule editor (create -> test -> save): /rules/edit?group=NAME shows a
// group stored over the rules API (alerting.RuleStore) in a textarea,
// /rules/edit a template for a new one. Its form posts to /rules/edit
// with one of two buttons: Test runs the group over the page's range of
// stored history (Manager.Backtest; nothing is stored or sent) and draws
// what it would have done; Save validates it as PUT
// /api/v1/alerting/rules/{group} does (alerting.ParseGroup), stores it and
// reloads the rules. Groups of configured rule files stay read-only: the
// page says which file to edit. Both buttons need the admin role and the
// form token; the page works without JavaScript (only the charts need it).

// editorDefaultFrom is the editor's default range: a day of history to test
// against.
const editorDefaultFrom = "now-24h"

// backtestTimeout bounds one Test.
const backtestTimeout = 2 * time.Minute

// newGroupTemplate is the editor's text for a new group.
const newGroupTemplate = `name: my-rules
interval: 1m
rules:
- alert: HighCPU
  expr: 100 - cpu_usage_idle{cpu="cpu-total"}
  for: 5m
  warn: "> 80"
  crit: "> 90"
  clear: "< 75"
  annotations:
    summary: "CPU busy on {{ $labels.host }}"
`

// editBody is the editor page's own data.
type editBody struct {
	Off      bool
	Group    string // the stored group being edited; "" for a new one
	YAML     string
	Action   string // the form's action, with the range
	File     string // a configured file the group comes from (read-only)
	Problems []string
	Result   *backtestView
}

// ruleEditRoutes returns the editor's routes.
func (p *Pages) ruleEditRoutes() []Route {
	return []Route{
		{Pattern: "GET /rules/edit", Handler: http.HandlerFunc(p.ruleEditPage)},
		{Pattern: "POST /rules/edit", Admin: true, Handler: http.HandlerFunc(p.ruleEditPost)},
		{Pattern: "POST /rules/delete", Admin: true, Handler: p.formHandler(p.ruleDeleteAction)},
	}
}

// editorRequest returns r with the editor's default range (a day) when
// its URL or form gives none, and with the form's from and to, which win
// over the URL's.
func editorRequest(r *http.Request) *http.Request {
	q := r.URL.Query()
	for _, k := range []string{"from", "to"} {
		if v := r.PostForm.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if q.Get("from") == "" {
		q.Set("from", editorDefaultFrom)
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return r2
}

// editorPage starts the editor's page data.
func (p *Pages) editorPage(r *http.Request, group string) (page, editBody) {
	title := "New rule group"
	if group != "" {
		title = group + " · edit rules"
	}
	pg := p.start(r, title, "Rules")
	pg.Styles = []string{"alerts.css"}
	pg.Keep = map[string]string{}
	if group != "" {
		pg.Keep["group"] = group
	}
	b := editBody{Group: group, Off: p.d.Alerts == nil, Action: pg.Range.Link("/rules/edit")}
	return pg, b
}

// ruleEditPage serves GET /rules/edit[?group=NAME].
func (p *Pages) ruleEditPage(w http.ResponseWriter, r *http.Request) {
	r = editorRequest(r)
	group := r.URL.Query().Get("group")
	pg, b := p.editorPage(r, group)
	status := http.StatusOK
	switch {
	case b.Off:
	case group == "":
		b.YAML = newGroupTemplate
	default:
		yml, err := p.d.Alerts.RuleStore().Get(group)
		if err != nil {
			status = http.StatusNotFound
			if !errors.Is(err, alerting.ErrRuleGroupNotFound) && !errors.Is(err, alerting.ErrBadGroupName) {
				status = http.StatusInternalServerError
			}
			b.Group = ""
			pg.Error = err.Error()
			if f := configuredFile(p.d.Alerts, group); f != "" {
				b.File = f
				pg.Error = fmt.Sprintf("rule group %q comes from a configured rule file, which this page does not change", group)
			}
			break
		}
		b.YAML = string(yml)
	}
	pg.Body = b
	p.render(w, r, p.tmpl["rules_edit.html"], status, pg)
}

// ruleEditPost serves POST /rules/edit: action=test or action=save, with
// the group's YAML in the yaml field.
func (p *Pages) ruleEditPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	if err := p.forms.check(r); err != nil {
		http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
		return
	}
	if p.d.Alerts == nil {
		p.formFailed(w, r, "/rules", http.StatusServiceUnavailable, "alerting is off in this outpost")
		return
	}
	r = editorRequest(r)
	group := strings.TrimSpace(r.PostForm.Get("group"))
	pg, b := p.editorPage(r, group)
	b.YAML = r.PostForm.Get("yaml")
	status := http.StatusOK
	switch action := r.PostForm.Get("action"); action {
	case "test":
		status = p.ruleTest(r, &pg, &b)
	case "save":
		var done string
		if done, status = p.ruleSave(r, &b); done != "" {
			http.Redirect(w, r, done, http.StatusSeeOther)
			return
		}
	default:
		status = http.StatusBadRequest
		b.Problems = append(b.Problems, fmt.Sprintf("action: %q is neither test nor save", action))
	}
	pg.Body = b
	pg.Charts = b.Result != nil && b.Result.charts()
	p.render(w, r, p.tmpl["rules_edit.html"], status, pg)
}

// ruleTest backtests the form's group over the page's range and puts the
// result (or why there is none) into b; it returns the page's status.
func (p *Pages) ruleTest(r *http.Request, pg *page, b *editBody) int {
	if pg.Error != "" {
		return http.StatusBadRequest
	}
	g, file, err := alerting.ParseGroup([]byte(b.YAML), "")
	if err != nil {
		b.Problems = append(b.Problems, groupProblems(err)...)
		return http.StatusBadRequest
	}
	ctx, cancel := context.WithTimeout(r.Context(), backtestTimeout)
	defer cancel()
	rg := pg.Range
	res, err := p.d.Alerts.Backtest(ctx, g, file, rg.Start.UTC().Truncate(time.Second), rg.End.UTC().Truncate(time.Second))
	switch {
	case errors.Is(err, alerting.ErrBacktestTooLong):
		b.Problems = append(b.Problems, err.Error()+": shorten the range or lengthen the group's interval")
		return http.StatusUnprocessableEntity
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		b.Problems = append(b.Problems, "the test did not finish within "+backtestTimeout.String()+": shorten the range")
		return http.StatusServiceUnavailable
	case err != nil:
		p.log.Error("rule editor: backtest", "group", g.Name, "err", err)
		b.Problems = append(b.Problems, "test: "+err.Error())
		return http.StatusInternalServerError
	}
	b.Result = p.backtestView(r.Context(), g, res, rg)
	return http.StatusOK
}

// ruleSave stores the form's group as PUT /api/v1/alerting/rules/{group}
// does and reloads the rules. It returns where to go next, or "" and the
// status of the editor page showing why it did not save.
func (p *Pages) ruleSave(r *http.Request, b *editBody) (string, int) {
	am := p.d.Alerts
	g, file, err := alerting.ParseGroup([]byte(b.YAML), b.Group)
	if err != nil {
		b.Problems = append(b.Problems, groupProblems(err)...)
		return "", http.StatusBadRequest
	}
	rs := am.RuleStore()
	if b.Group == "" {
		if _, err := rs.Get(g.Name); err == nil {
			b.Problems = append(b.Problems, fmt.Sprintf("name: a rule group %q is stored already: edit it, or give this one another name", g.Name))
			return "", http.StatusConflict
		}
		if f := configuredFile(am, g.Name); f != "" {
			b.Problems = append(b.Problems, fmt.Sprintf("name: rule group %q comes from the rule file %s: give this one another name", g.Name, f))
			return "", http.StatusConflict
		}
	}
	if err := rs.Put(g.Name, file); err != nil {
		p.log.Error("rule editor: store", "group", g.Name, "err", err)
		b.Problems = append(b.Problems, err.Error())
		return "", http.StatusInternalServerError
	}
	done := "saved"
	if err := p.reloadRules(r); err != nil {
		p.log.Warn("rule group saved from the editor; the reload reports errors", "group", g.Name, "by", actor(r), "err", err)
		done = "saved-reload-failed"
	} else {
		p.log.Info("rule group saved from the editor", "group", g.Name, "by", actor(r))
	}
	anchor := "group-" + ruleAnchor(storedFile(rs, g.Name)+"/"+g.Name)
	return "/rules?" + url.Values{"done": {done}, "group": {g.Name}}.Encode() + "#" + anchor, 0
}

// ruleDeleteAction deletes the stored group of the form's group field and
// reloads the rules; its open alerts resolve.
func (p *Pages) ruleDeleteAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	name := r.PostForm.Get("group")
	if err := am.RuleStore().Delete(name); err != nil {
		switch {
		case errors.Is(err, alerting.ErrRuleGroupNotFound):
			return nil, &formError{status: http.StatusNotFound, msg: err.Error()}
		case errors.Is(err, alerting.ErrBadGroupName):
			return nil, badFormInput("group: %v", err)
		}
		return nil, err
	}
	done := "deleted"
	if err := p.reloadRules(r); err != nil {
		done = "deleted-reload-failed"
	}
	p.log.Info("rule group deleted from the rules page", "group", name, "by", by)
	return url.Values{"done": {done}, "group": {name}}, nil
}

// reloadRules has the manager reload its rules, waiting at most
// reloadTimeout for its loop.
func (p *Pages) reloadRules(r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), reloadTimeout)
	defer cancel()
	return p.d.Alerts.Reload(ctx)
}

// groupProblems writes a rule group's parse error as one message a
// problem, with the line of the textarea (the body) rather than a file
// name.
func groupProblems(err error) []string {
	es := rulefile.Errors(err)
	if len(es) == 0 {
		return []string{err.Error()}
	}
	out := make([]string, len(es))
	for i, e := range es {
		c := *e
		c.File = ""
		out[i] = c.Error()
		if c.Line > 0 {
			out[i] = "line " + out[i]
		}
	}
	return out
}

// storedFile is the file of the stored group name.
func storedFile(rs *alerting.RuleStore, name string) string {
	return filepath.Join(filepath.Dir(rs.Glob()), name+".yml")
}

// isStored reports whether g was loaded from the rule store.
func isStored(rs *alerting.RuleStore, g alerting.GroupInfo) bool {
	return g.File == storedFile(rs, g.Name)
}

// configuredFile is the configured rule file (or the built-in rules) a
// loaded group called name comes from, or "".
func configuredFile(am *alerting.Manager, name string) string {
	rs := am.RuleStore()
	for _, g := range am.Groups() {
		if g.Name == name && !isStored(rs, g) {
			return g.File
		}
	}
	return ""
}

// ruleDoneMessage says what the editor's last action did, from the
// parameters its redirect added; a group name that could not be one is
// left out.
func ruleDoneMessage(q url.Values) string {
	name := q.Get("group")
	if len(name) > 128 || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != "" {
		name = ""
	}
	switch q.Get("done") {
	case "saved":
		return "Rule group " + name + " saved and loaded."
	case "saved-reload-failed":
		return "Rule group " + name + " saved, but the reload that followed reports errors (see the rule files below)."
	case "deleted":
		return "Rule group " + name + " deleted; its open alerts resolve."
	case "deleted-reload-failed":
		return "Rule group " + name + " deleted, but the reload that followed reports errors (see the rule files below)."
	}
	return ""
}
