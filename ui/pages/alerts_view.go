package pages

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/notify"
)

// alertChoice is one option of a select.
type alertChoice struct{ Value, Label string }

// stateChoices are the board's state filter: the states of open alerts,
// the operator's marks (acked, silenced, held) and the ends.
var stateChoices = []alertChoice{
	{"", "all"}, {"firing", "firing"}, {"pending", "pending"}, {"acked", "acked"}, {"silenced", "silenced"},
	{"held", "held (source silent)"}, {"insufficient_data", "insufficient data"}, {"resolved", "resolved"},
	{"retired", "retired"},
}

// severityChoices are the severities the filter offers.
var severityChoices = []alertChoice{{"", "all"}, {"critical", "critical"}, {"warning", "warning"}, {"info", "info"}, {"none", "none"}}

// alertFilter is the board's and the history's filter, from the URL.
type alertFilter struct {
	State    string // one of stateChoices
	Severity string // critical, warning, ...; "none" for alerts without one
	Label    string // Alertmanager matchers, such as host="web1"
	matchers []notify.Matcher

	StateChoices, SeverityChoices []alertChoice
}

// parseAlertFilter reads state, severity and label; a bad label filter
// is reported and ignored.
func parseAlertFilter(q url.Values) (alertFilter, error) {
	f := alertFilter{State: q.Get("state"), Severity: q.Get("severity"), Label: strings.TrimSpace(q.Get("label")),
		StateChoices: stateChoices, SeverityChoices: severityChoices}
	if !slices.ContainsFunc(stateChoices, func(c alertChoice) bool { return c.Value == f.State }) {
		err := fmt.Errorf("state: %q is not one of firing, pending, acked, silenced, held, insufficient_data, resolved, retired", f.State)
		f.State = ""
		return f, err
	}
	if f.Label != "" {
		ms, err := notify.ParseMatchers(f.Label)
		if err != nil {
			return f, fmt.Errorf("label filter: %w", err)
		}
		f.matchers = ms
	}
	return f, nil
}

// keep returns the filter's URL parameters that are set.
func (f alertFilter) keep() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"state": f.State, "severity": f.Severity, "label": f.Label} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// with returns the filter's parameters as name, value pairs for
// Range.Link, with name set to value.
func (f alertFilter) with(name, value string) []string {
	m := f.keep()
	m[name] = value
	out := make([]string, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// alertSeverity names an alert's severity, "none" when it has none.
func alertSeverity(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// matches applies the severity and label parts of the filter to an
// alert's labels (severity included).
func (f alertFilter) matches(sev string, labels map[string]string) bool {
	if f.Severity != "" && alertSeverity(sev) != f.Severity {
		return false
	}
	for _, m := range f.matchers {
		v := labels[m.Name]
		if m.Name == "severity" && v == "" {
			v = sev
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// openStates are the states an open alert counts under: its own and
// the operator's marks.
func openStates(a *alerting.AlertView) []string {
	out := []string{a.State.String()}
	if a.Ack != nil {
		out = append(out, "acked")
	}
	if len(a.SilencedBy) > 0 {
		out = append(out, "silenced")
	}
	if a.Held {
		out = append(out, "held")
	}
	return out
}

// keepOpen reports whether an open alert passes the filter.
func (f alertFilter) keepOpen(a *alerting.AlertView) bool {
	if f.State != "" && !slices.Contains(openStates(a), f.State) {
		return false
	}
	return f.matches(a.Severity, a.Labels)
}

// keepEnded returns the ended alerts that pass the filter.
func (f alertFilter) keepEnded(es []endedAlert) []endedAlert {
	var out []endedAlert
	for _, e := range es {
		if (f.State == "" || f.State == e.State) && f.matches(e.Severity, e.Labels) {
			out = append(out, e)
		}
	}
	return out
}

// alertLabel is one label as the pages print it.
type alertLabel struct{ Name, Value string }

// alertLabels returns ls sorted by name, without the names in skip.
func alertLabels(ls map[string]string, skip ...string) []alertLabel {
	out := make([]alertLabel, 0, len(ls))
	for k, v := range ls {
		if !slices.Contains(skip, k) {
			out = append(out, alertLabel{k, v})
		}
	}
	slices.SortFunc(out, func(a, b alertLabel) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// alertGroup is the alerts of one alertname, by severity.
type alertGroup struct {
	Name       string
	Worst      string // the most severe severity in the group
	Counts     []alertStateCount
	BySeverity []severityGroup
	n          int
}

type alertStateCount struct {
	State string
	N     int
}

type severityGroup struct {
	Severity string
	Alerts   []alertRow
}

// alertRow is one alert on the board, open or ended.
type alertRow struct {
	ID, Rule, State, Severity string
	Alertname                 string
	Labels                    []alertLabel
	Value                     string
	Since                     time.Time // start of the breach
	Ended                     time.Time // resolved or retired (ended alerts)
	Reason                    string
	Summary, Description      string
	Annotations               []alertLabel // the others
	Ack                       *alerting.Ack
	Silenced                  []string
	Held                      bool
	Notes                     []alerting.Event
	GroupName, File           string
	RuleLink                  string // the rule's page, with the range
	// Matchers and Selector prefill the silence and retire forms.
	Matchers, Selector string
	// states are the states the row counts under in its group.
	states []string
}

// alertSevRank orders severities, most severe first.
func alertSevRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "warning":
		return 1
	case "info":
		return 2
	case "none":
		return 4
	}
	return 3
}

// alertStateOrder orders the states in a group's counts.
var alertStateOrder = []string{"firing", "pending", "insufficient_data", "acked", "silenced", "held", "resolved", "retired"}

// groupRows groups rows by alertname, then severity; the groups with the
// worst severity and the most alerts first.
func groupRows(rows []alertRow) []alertGroup {
	byName := map[string]*alertGroup{}
	var order []string
	counts := map[string]map[string]int{}
	for i := range rows {
		r := &rows[i]
		n := r.Alertname
		g := byName[n]
		if g == nil {
			g = &alertGroup{Name: n, Worst: r.Severity}
			byName[n] = g
			order = append(order, n)
			counts[n] = map[string]int{}
		}
		g.n++
		if alertSevRank(r.Severity) < alertSevRank(g.Worst) {
			g.Worst = r.Severity
		}
		for _, s := range r.states {
			counts[n][s]++
		}
		j := slices.IndexFunc(g.BySeverity, func(s severityGroup) bool { return s.Severity == r.Severity })
		if j < 0 {
			g.BySeverity = append(g.BySeverity, severityGroup{Severity: r.Severity})
			j = len(g.BySeverity) - 1
		}
		g.BySeverity[j].Alerts = append(g.BySeverity[j].Alerts, *r)
	}
	out := make([]alertGroup, 0, len(order))
	for _, n := range order {
		g := byName[n]
		slices.SortFunc(g.BySeverity, func(a, b severityGroup) int {
			return cmp.Or(cmp.Compare(alertSevRank(a.Severity), alertSevRank(b.Severity)), strings.Compare(a.Severity, b.Severity))
		})
		for _, s := range alertStateOrder {
			if c := counts[n][s]; c > 0 {
				g.Counts = append(g.Counts, alertStateCount{s, c})
			}
		}
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b alertGroup) int {
		return cmp.Or(cmp.Compare(alertSevRank(a.Worst), alertSevRank(b.Worst)), cmp.Compare(b.n, a.n), strings.Compare(a.Name, b.Name))
	})
	return out
}

// noteKey names an alert's notes: its rule and fingerprint.
func noteKey(rule, id string) string { return rule + "\x00" + id }

// groupOpen turns open alerts into the board's groups.
func groupOpen(as []alerting.AlertView, notes map[string][]alerting.Event, rg Range) []alertGroup {
	rows := make([]alertRow, 0, len(as))
	for i := range as {
		a := &as[i]
		r := alertRow{
			ID: a.ID, Rule: a.Rule, Alertname: alertname(a.Labels, a.Rule), State: a.State.String(),
			Severity: alertSeverity(a.Severity), Labels: alertLabels(a.Labels, "alertname", "severity"),
			Value: formatValue(float64(a.Value)), Since: a.ActiveAt, Reason: a.Reason,
			Summary: a.Annotations["summary"], Description: a.Annotations["description"],
			Annotations: alertLabels(a.Annotations, "summary", "description"), Ack: a.Ack, Silenced: a.SilencedBy,
			Held: a.Held, Notes: notes[noteKey(a.Rule, a.ID)], GroupName: a.GroupName, File: a.File,
			Matchers: silenceMatchers(a.Labels), Selector: retireSelector(a.Labels), states: openStates(a),
			RuleLink: ruleLink(rg, a.Rule),
		}
		rows = append(rows, r)
	}
	return groupRows(rows)
}

// alertname returns the alertname label, or the rule's name when the
// labels lack it (they never should).
func alertname(ls map[string]string, rule string) string {
	if n := ls["alertname"]; n != "" {
		return n
	}
	_, _, name, _ := parseRuleKey(rule)
	return name
}

// parseRuleKey splits a rule key (file|group|kind:name[#n]).
func parseRuleKey(key string) (file, group, name string, n int) {
	parts := strings.SplitN(key, "|", 3)
	if len(parts) != 3 {
		return "", "", key, 0
	}
	file, group = parts[0], parts[1]
	_, name, _ = strings.Cut(parts[2], ":")
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		if v, err := strconv.Atoi(name[i+1:]); err == nil {
			name, n = name[:i], v
		}
	}
	return file, group, name, n
}

// silenceMatchers writes an alert's labels as Alertmanager matchers,
// alertname first: the silence form's default.
func silenceMatchers(ls map[string]string) string {
	parts := make([]string, 0, len(ls))
	if v, ok := ls["alertname"]; ok {
		parts = append(parts, notify.Matcher{Name: "alertname", Value: v, IsEqual: true}.String())
	}
	for _, l := range alertLabels(ls, "alertname") {
		parts = append(parts, notify.Matcher{Name: l.Name, Value: l.Value, IsEqual: true}.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// retireSelector is the retire form's default: the alert's host, which
// is what is decommissioned most often, else its whole label set.
func retireSelector(ls map[string]string) string {
	if h, ok := ls["host"]; ok {
		return "{" + notify.Matcher{Name: "host", Value: h, IsEqual: true}.String() + "}"
	}
	return silenceMatchers(ls)
}

// ruleLink links to the page of the rule whose key is key
// (file|group|kind:name[#n]), with the range.
func ruleLink(rg Range, key string) string {
	file, group, name, n := parseRuleKey(key)
	if group == "" {
		return rg.Link("/rules")
	}
	return rulePageLink(rg, file, group, name, n)
}

// rulePageLink links to a rule's page: /rules/{group}/{name}, with its
// file and ordinal (when not 0) in the query, and the range.
func rulePageLink(rg Range, file, group, name string, n int) string {
	extra := []string{"file", file}
	if n > 0 {
		extra = append(extra, "n", strconv.Itoa(n))
	}
	return rg.Link("/rules/"+url.PathEscape(group)+"/"+url.PathEscape(name), extra...)
}
