package receiver

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// tmplData is what a receiver template sees: Alertmanager's template data
// (.Status, .Receiver, .GroupLabels, .CommonLabels, .CommonAnnotations,
// .ExternalURL, .Alerts with .Firing and .Resolved) plus outpost's
// .GroupKey and .NotificationID. Label sets have Alertmanager's methods
// .SortedPairs, .Names, .Values and .Remove.
type tmplData struct {
	Receiver          string
	Status            string
	Alerts            tmplAlerts
	GroupLabels       kv
	CommonLabels      kv
	CommonAnnotations kv
	ExternalURL       string
	GroupKey          string
	NotificationID    string
}

// tmplAlert is one alert in tmplData, with outpost's fields beside
// Alertmanager's.
type tmplAlert struct {
	Status       string
	Labels       kv
	Annotations  kv
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string
	Severity     string
	Value        float64
	Reason       string
	Kind         string
}

// tmplAlerts is a list of alerts with Alertmanager's .Firing and .Resolved.
type tmplAlerts []tmplAlert

// Firing returns the firing alerts.
func (as tmplAlerts) Firing() tmplAlerts { return as.with(StatusFiring) }

// Resolved returns the resolved alerts.
func (as tmplAlerts) Resolved() tmplAlerts { return as.with(StatusResolved) }

func (as tmplAlerts) with(status string) tmplAlerts {
	out := tmplAlerts{}
	for _, a := range as {
		if a.Status == status {
			out = append(out, a)
		}
	}
	return out
}

// kv is a label or annotation set.
type kv map[string]string

// pair is one name/value of a kv.
type pair struct{ Name, Value string }

// SortedPairs returns the pairs sorted by name.
func (m kv) SortedPairs() []pair {
	out := make([]pair, 0, len(m))
	for _, k := range m.Names() {
		out = append(out, pair{k, m[k]})
	}
	return out
}

// Names returns the sorted names.
func (m kv) Names() []string { return slices.Sorted(maps.Keys(m)) }

// Values returns the values in the order of Names.
func (m kv) Values() []string {
	out := make([]string, 0, len(m))
	for _, k := range m.Names() {
		out = append(out, m[k])
	}
	return out
}

// Remove returns a copy of m without the given names.
func (m kv) Remove(names []string) kv {
	out := maps.Clone(m)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// newTmplData returns n's template data.
func newTmplData(n *Notification) *tmplData {
	d := &tmplData{
		Receiver:          n.Receiver,
		Status:            statusOf(n),
		Alerts:            make(tmplAlerts, len(n.Alerts)),
		GroupLabels:       kv(nonNil(n.GroupLabels)),
		CommonLabels:      kv(n.CommonLabels()),
		CommonAnnotations: kv(n.CommonAnnotations()),
		ExternalURL:       n.ExternalURL,
		GroupKey:          n.GroupKey,
		NotificationID:    n.ID,
	}
	for i, a := range n.Alerts {
		d.Alerts[i] = tmplAlert{
			Status: a.Status, Labels: kv(nonNil(a.Labels)), Annotations: kv(nonNil(a.Annotations)),
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
			Severity: a.Severity, Value: a.Value, Reason: a.Reason, Kind: a.Kind,
		}
	}
	return d
}

// tmplFuncs are the functions receiver templates may call: Alertmanager's
// toUpper, toLower, title, join and trimSpace.
var tmplFuncs = template.FuncMap{
	"toUpper":   strings.ToUpper,
	"toLower":   strings.ToLower,
	"title":     titleCase,
	"join":      func(sep string, s []string) string { return strings.Join(s, sep) },
	"trimSpace": strings.TrimSpace,
}

// tmplDefaults defines Alertmanager's default template names that pasted
// configurations often call, as outpost's own default renderings.
const tmplDefaults = `{{ define "__subject" }}{{ outpostSubject . }}{{ end }}` +
	`{{ define "slack.default.title" }}{{ outpostSubject . }}{{ end }}` +
	`{{ define "slack.default.fallback" }}{{ outpostSubject . }}{{ end }}` +
	`{{ define "slack.default.titlelink" }}{{ .ExternalURL }}{{ end }}` +
	`{{ define "slack.default.text" }}{{ outpostSlackText . }}{{ end }}` +
	`{{ define "slack.default.username" }}outpost{{ end }}` +
	`{{ define "email.default.subject" }}{{ outpostSubject . }}{{ end }}` +
	`{{ define "email.default.text" }}{{ outpostEmailText . }}{{ end }}`

// parseTemplate parses src as a text template named name, with tmplFuncs
// and the default templates available.
func parseTemplate(name, src string) (*template.Template, error) {
	funcs := template.FuncMap{
		"outpostSubject":   func(d *tmplData) string { return subjectLine(d) },
		"outpostSlackText": func(d *tmplData) string { return slackText(d) },
		"outpostEmailText": func(d *tmplData) string { return emailText(d) },
	}
	t, err := template.New(name).Funcs(tmplFuncs).Funcs(funcs).Option("missingkey=zero").Parse(tmplDefaults)
	if err != nil {
		return nil, fmt.Errorf("parse default templates: %w", err) // a bug in tmplDefaults
	}
	if _, err := t.Parse(src); err != nil {
		return nil, err
	}
	return t, nil
}

// execute runs t over d.
func execute(t *template.Template, d *tmplData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// subjectLine is Alertmanager's default subject and title:
// "[FIRING:2] DiskFull (web1 critical)": the status, the count of firing
// alerts, the group label values, then in brackets the values of the
// common labels that are not group labels, each list sorted by name.
func subjectLine(d *tmplData) string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(d.Status))
	if d.Status == StatusFiring {
		fmt.Fprintf(&b, ":%d", len(d.Alerts.Firing()))
	}
	b.WriteString("]")
	if v := d.GroupLabels.Values(); len(v) > 0 {
		b.WriteString(" " + strings.Join(v, " "))
	}
	if rest := d.CommonLabels.Remove(d.GroupLabels.Names()); len(rest) > 0 {
		b.WriteString(" (" + strings.Join(rest.Values(), " ") + ")")
	}
	return b.String()
}

// alertHeadline says what one alert is about: its summary annotation, else
// its description, else its labels.
func alertHeadline(a *tmplAlert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if s := strings.TrimSpace(a.Annotations[k]); s != "" {
			return s
		}
	}
	return labelString(a.Labels)
}

// labelString prints labels as {a="1", b="2"}, sorted by name.
func labelString(m kv) string {
	parts := make([]string, 0, len(m))
	for _, p := range m.SortedPairs() {
		parts = append(parts, fmt.Sprintf("%s=%q", p.Name, p.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// severityOf returns the alert's severity: outpost's field, else the
// severity label.
func severityOf(a *tmplAlert) string {
	if a.Severity != "" {
		return a.Severity
	}
	return a.Labels["severity"]
}

// titleCase upper-cases the first letter of each word, a word being a run
// of letters, digits and underscores (as the deprecated strings.Title).
func titleCase(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if start {
			r = unicode.ToTitle(r)
		}
		b.WriteRune(r)
		start = !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	}
	return b.String()
}
