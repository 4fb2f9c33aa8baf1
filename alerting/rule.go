package alerting

import (
	"context"
	"log/slog"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
	"outpost/query"
	"outpost/tsdb"
)

// rule is one loaded rule of any kind.
type rule interface {
	base() *ruleBase
	// eval runs one evaluation at t. It holds the rule's lock only
	// after its query returned.
	eval(ctx context.Context, env *evalEnv, t time.Time) (*evalResult, error)
}

// ruleInfo names a rule: its key, its spec and group, its interval.
type ruleInfo struct {
	key      string
	spec     *rulefile.Rule
	group    *rulefile.Group
	interval time.Duration
}

// ruleBase is what every kind of rule has: its ruleInfo and the health
// of its last evaluation.
type ruleBase struct {
	ruleInfo

	// mu guards the rule's state: the kind's alerts or groups and the
	// health fields below. eval takes it after its query returned.
	mu       sync.Mutex
	lastEval time.Time
	evalTime time.Duration
	lastErr  error
}

func (b *ruleBase) base() *ruleBase { return b }

// ruleKey names a rule across reloads: its file, group, kind and name,
// and its ordinal among the group's rules of that name (Prometheus allows
// two alerting rules of one name in a group), joined by "|":
// "rules/disk.yml|disk|alert:DiskFull".
func ruleKey(g *rulefile.Group, r *rulefile.Rule, ordinal int) string {
	var sb strings.Builder
	sb.WriteString(g.File)
	sb.WriteByte('|')
	sb.WriteString(g.Name)
	sb.WriteByte('|')
	sb.WriteString(r.Kind.String())
	sb.WriteByte(':')
	sb.WriteString(r.Name)
	if ordinal > 0 {
		sb.WriteByte('#')
		sb.WriteString(strconv.Itoa(ordinal))
	}
	return sb.String()
}

// evalEnv is what rules evaluate with: the query function, the
// source-silence test, and what templates see.
type evalEnv struct {
	query          QueryFunc
	silent         func(labels map[string]string, lastSeen, t time.Time) bool
	externalLabels map[string]string
	externalURL    string
	log            *slog.Logger
	// now is the evaluation time: templates' query function and now().
	now time.Time
}

// generatorURL links to expr on outpost's explore page.
func (e *evalEnv) generatorURL(expr string) string {
	return strings.TrimSuffix(e.externalURL, "/") + "/explore?query=" + url.QueryEscape(expr)
}

// expandInto sets dst[k] for every k of raw: the expanded template when
// the rule compiled one for k, the raw string otherwise. It returns the
// first expansion error; the failed value becomes the error text, as
// Prometheus shows it.
func (e *evalEnv) expandInto(ctx context.Context, dst, raw map[string]string, tmpls map[string]*rulefile.Template,
	labels map[string]string, v float64) error {
	if len(raw) == 0 {
		return nil
	}
	var first error
	t := e.now
	data := &rulefile.TemplateData{
		Labels: labels, ExternalLabels: e.externalLabels, ExternalURL: e.externalURL, Value: v, Time: t,
		Query: func(ctx context.Context, q string) (query.Vector, error) { return e.query(ctx, q, t) },
	}
	for k, s := range raw {
		t := tmpls[k]
		if t == nil {
			dst[k] = s
			continue
		}
		out, err := t.Execute(ctx, data)
		if err != nil {
			out = "<error expanding template: " + err.Error() + ">"
			if first == nil {
				first = err
			}
		}
		dst[k] = out
	}
	return first
}

// evalResult is what one evaluation of a rule produced.
type evalResult struct {
	// messages go to the dispatcher: firing alerts (every evaluation),
	// resolved and retired ones (once).
	messages []receiver.Alert
	// events are the state changes, for the history.
	events []Event
	// active are the pending and firing alerts, for the ALERTS series.
	active []*Alert
	// deleted are alerts the rule forgot; their stored state goes.
	deleted []*Alert
	// points are a recording rule's results.
	points []tsdb.Point
}

// stateEvent is the history event of a's change from one state to its
// current one.
func stateEvent(a *Alert, from State, t time.Time) Event {
	return Event{
		T: t, Kind: EventState, Rule: a.Rule, Alertname: a.Labels["alertname"], Fingerprint: a.Fingerprint(),
		Labels: maps.Clone(a.Labels), From: from.String(), To: a.State.String(), Severity: a.severity(),
		Value: a.Value, Reason: a.Reason,
	}
}
