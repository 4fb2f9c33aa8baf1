package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/rulefile"
)

// The rules pages: every loaded group and rule with its state and last
// evaluation, the rule files' load errors, and a page per rule with its
// definition, its alerts and a chart of its expression with the
// thresholds drawn. Groups stored over the rules API are created, tested
// and saved in the editor (rules_edit.go); those of configured files are
// not: the pages say which file to edit, and a Reload button re-reads the
// files.

// reloadTimeout bounds how long the Reload button waits for the alert
// manager's loop to take the request.
const reloadTimeout = 30 * time.Second

// defaultsFile is the File of the built-in rules' groups.
const defaultsFile = "<defaults>"

// ruleRoutes returns the routes of the rules pages.
func (p *Pages) ruleRoutes() []Route {
	return append([]Route{
		{Pattern: "GET /rules", Handler: http.HandlerFunc(p.rulesPage)},
		{Pattern: "GET /rules/{group}/{rule}", Handler: http.HandlerFunc(p.rulePage)},
		{Pattern: "POST /rules/reload", Admin: true, Handler: p.formHandler(p.reloadAction)},
	}, p.ruleEditRoutes()...)
}

// rulesBody is the rules page's own data.
type rulesBody struct {
	Now      time.Time
	Off      bool
	Done     string
	Back     string
	Defaults bool // the built-in rules are loaded
	Files    []alerting.FileStatus
	Failed   int // files whose last load failed
	Groups   []groupView
	Problems []string
}

// groupView is one group on the rules page.
type groupView struct {
	Name, File, Anchor string
	Interval           string
	Stored             bool   // stored over the rules API: the editor changes it
	Edit               string // the editor's link, for a stored group
	LastEval           time.Time
	EvalTime           string
	Rules              []ruleView
}

// ruleView is one rule on the rules page.
type ruleView struct {
	Name, Type, Kind  string
	Expr              string
	For, MofN         string
	Warn, Crit, Clear string
	Link              string
	LastEval          time.Time
	EvalTime          string
	Error             string
	Health            string // ok, err, unknown (never evaluated)
	Counts            []alertStateCount
	Tracked           int // flatline groups
	Labels            []alertLabel
}

func (p *Pages) rulesPage(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Rules", "Rules")
	pg.Styles = []string{"alerts.css"}
	b := rulesBody{Now: p.now(), Back: formBackURL(r), Done: doneMessage(r.URL.Query())}
	if b.Done == "" {
		b.Done = ruleDoneMessage(r.URL.Query())
	}
	if p.d.Alerts == nil {
		b.Off = true
		pg.Body = b
		p.render(w, r, p.tmpl["rules.html"], http.StatusOK, pg)
		return
	}
	am := p.d.Alerts
	st := am.Status()
	b.Defaults, b.Files = st.Defaults, st.Files
	for _, f := range st.Files {
		if f.Error != "" {
			b.Failed++
		}
	}
	counts := ruleCounts(am.Alerts())
	rs := am.RuleStore()
	for _, g := range am.Groups() {
		gv := groupViewOf(g, counts, pg.Range)
		if gv.Stored = isStored(rs, g); gv.Stored {
			gv.Edit = pg.Range.Link("/rules/edit", "group", g.Name)
		}
		b.Groups = append(b.Groups, gv)
	}
	pg.Body = b
	p.render(w, r, p.tmpl["rules.html"], http.StatusOK, pg)
}

// ruleCounts counts the open alerts of each rule (by key) by state,
// acked and silenced included.
func ruleCounts(as []alerting.AlertView) map[string]map[string]int {
	out := map[string]map[string]int{}
	for i := range as {
		m := out[as[i].Rule]
		if m == nil {
			m = map[string]int{}
			out[as[i].Rule] = m
		}
		for _, s := range openStates(&as[i]) {
			m[s]++
		}
	}
	return out
}

// groupViewOf is g as the rules page shows it.
func groupViewOf(g alerting.GroupInfo, counts map[string]map[string]int, rg Range) groupView {
	gv := groupView{Name: g.Name, File: g.File, Anchor: "group-" + ruleAnchor(g.File+"/"+g.Name), Interval: ruleDuration(g.Interval),
		LastEval: g.LastEval, EvalTime: ruleEvalDuration(g.EvalTime, g.LastEval)}
	for _, ri := range g.Rules {
		gv.Rules = append(gv.Rules, ruleViewOf(g, ri, counts[ri.Key], rg))
	}
	return gv
}

// ruleViewOf is one rule as the rules pages show it.
func ruleViewOf(g alerting.GroupInfo, ri alerting.RuleInfo, counts map[string]int, rg Range) ruleView {
	s := ri.Spec
	v := ruleView{Name: s.Name, Type: ruleType(s), Kind: s.Kind.String(), Expr: strings.TrimSpace(s.Expr),
		Link: rulePageLink(rg, g.File, g.Name, s.Name, ri.Ordinal), LastEval: ri.LastEval,
		EvalTime: ruleEvalDuration(ri.EvalTime, ri.LastEval), Error: ri.LastError, Tracked: ri.Tracked,
		Labels: alertLabels(s.Labels)}
	switch {
	case ri.LastError != "":
		v.Health = "err"
	case ri.LastEval.IsZero():
		v.Health = "unknown"
	default:
		v.Health = "ok"
	}
	if s.For > 0 {
		v.For = ruleDuration(s.For)
	}
	if s.Kind == rulefile.KindAlert {
		m, n := s.DatapointsToAlarm, s.EvaluationPeriods
		if m == 0 && n == 0 {
			m, n = 1, 1
		}
		v.MofN = fmt.Sprintf("%d of %d", m, n)
	}
	for _, c := range []struct {
		dst  *string
		cond *rulefile.Condition
	}{{&v.Warn, s.Warn}, {&v.Crit, s.Crit}, {&v.Clear, s.Clear}} {
		if c.cond != nil {
			*c.dst = c.cond.String()
		}
	}
	for _, st := range alertStateOrder {
		if n := counts[st]; n > 0 {
			v.Counts = append(v.Counts, alertStateCount{st, n})
		}
	}
	return v
}

// ruleType names what kind of rule s is: threshold (warn/crit levels),
// prometheus (an alerting rule whose every sample breaches), recording or
// flatline.
func ruleType(s *rulefile.Rule) string {
	switch {
	case s.Kind == rulefile.KindRecord:
		return "recording"
	case s.Kind == rulefile.KindFlatline:
		return "flatline"
	case s.Warn != nil || s.Crit != nil:
		return "threshold"
	}
	return "prometheus alert"
}

// ruleEvalDuration prints how long an evaluation took, "" before the first.
func ruleEvalDuration(d time.Duration, last time.Time) string {
	if last.IsZero() {
		return ""
	}
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	}
	return d.Round(10 * time.Millisecond).String()
}

// ruleDuration writes d as rule files do: 5m, 1h30m, 7d.
func ruleDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ruleAnchor makes an element id out of s: letters and digits kept, the
// rest as "-".
func ruleAnchor(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// reloadAction re-reads the rule files (as POST /-/reload and SIGHUP
// do). Files that fail keep their previous version: the page says so and
// lists the errors.
func (p *Pages) reloadAction(r *http.Request, am *alerting.Manager, by string) (url.Values, error) {
	ctx, cancel := context.WithTimeout(r.Context(), reloadTimeout)
	defer cancel()
	err := am.Reload(ctx)
	switch {
	case err == nil:
		p.log.Info("rules reloaded from the rules page", "by", by)
		return url.Values{"done": {"reload"}}, nil
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return nil, &formError{status: http.StatusServiceUnavailable,
			msg: "the alert manager did not take the reload within " + reloadTimeout.String() + ": is alerting running?"}
	}
	p.log.Warn("rules reloaded from the rules page; some files failed", "by", by, "err", err)
	return url.Values{"done": {"reload-failed"}}, nil
}
