package alerting

import (
	"bufio"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// WriteMetrics writes the alerting figures in the Prometheus text format
// (version 0.0.4), for GET /metrics: the rules by kind and health, the
// open alerts by state, each group's last round, the rule files that
// failed to load, and per receiver integration the notifications sent,
// the failed attempts, those dropped by reason and the outbox depth.
func (m *Manager) WriteMetrics(w io.Writer) error {
	bw := bufio.NewWriter(w)
	family := func(name, typ, help string) {
		bw.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
	}
	sample := func(name string, v float64, lv ...string) {
		bw.WriteString(name)
		for i := 0; i+1 < len(lv); i += 2 {
			sep := ","
			if i == 0 {
				sep = "{"
			}
			bw.WriteString(sep + lv[i] + `="` + labelEscaper.Replace(lv[i+1]) + `"`)
		}
		if len(lv) > 0 {
			bw.WriteString("}")
		}
		bw.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
	}

	kinds, health, states := map[string]int{}, map[string]int{}, map[string]int{}
	type groupFig struct {
		file, name string
		secs, last float64
	}
	var groups []groupFig
	failed := 0
	m.mu.RLock()
	for _, r := range m.rules {
		b := r.base()
		b.mu.Lock()
		kinds[b.spec.Kind.String()]++
		switch {
		case b.lastErr != nil:
			health["err"]++
		case b.lastEval.IsZero():
			health["unknown"]++
		default:
			health["ok"]++
		}
		for _, a := range ruleAlerts(r) {
			if a.Active() || a.State == StateInsufficientData {
				states[a.State.String()]++
			}
		}
		b.mu.Unlock()
	}
	for _, g := range m.groups {
		g.mu.Lock()
		last := 0.0 // never evaluated yet
		if !g.lastEval.IsZero() {
			last = float64(g.lastEval.UnixMilli()) / 1000
		}
		groups = append(groups, groupFig{g.spec.File, g.spec.Name, g.evalTime.Seconds(), last})
		g.mu.Unlock()
	}
	for _, f := range m.files {
		if f.err != nil {
			failed++
		}
	}
	m.mu.RUnlock()

	family("outpost_alerting_rules", "gauge", "Loaded rules by kind (alert, record, flatline).")
	for _, k := range []string{"alert", "record", "flatline"} {
		sample("outpost_alerting_rules", float64(kinds[k]), "kind", k)
	}
	family("outpost_alerting_rule_health", "gauge", "Loaded rules by the health of their last evaluation.")
	for _, h := range []string{"ok", "err", "unknown"} {
		sample("outpost_alerting_rule_health", float64(health[h]), "health", h)
	}
	family("outpost_alerting_alerts", "gauge", "Open alerts by state.")
	for _, s := range []State{StatePending, StateFiring, StateInsufficientData} {
		sample("outpost_alerting_alerts", float64(states[s.String()]), "state", s.String())
	}
	family("outpost_alerting_rule_files_failed", "gauge", "Rule files whose latest version failed to load (their previous version runs).")
	sample("outpost_alerting_rule_files_failed", float64(failed))
	slices.SortFunc(groups, func(a, b groupFig) int { return strings.Compare(a.file+a.name, b.file+b.name) })
	family("outpost_alerting_group_last_duration_seconds", "gauge", "How long the last evaluation round of each rule group took.")
	for _, g := range groups {
		sample("outpost_alerting_group_last_duration_seconds", g.secs, "file", g.file, "group", g.name)
	}
	family("outpost_alerting_group_last_evaluation_timestamp_seconds", "gauge", "When each rule group was last evaluated.")
	for _, g := range groups {
		sample("outpost_alerting_group_last_evaluation_timestamp_seconds", g.last, "file", g.file, "group", g.name)
	}
	m.writeDelivery(family, sample)
	m.writeRemediation(family, sample)
	return bw.Flush()
}

// writeDelivery writes the notifier's figures per integration.
func (m *Manager) writeDelivery(family func(name, typ, help string), sample func(string, float64, ...string)) {
	st := m.notifier.Stats()
	family("outpost_notifications_sent_total", "counter", "Notifications delivered, per receiver integration.")
	for _, s := range st.Integrations {
		sample("outpost_notifications_sent_total", float64(s.Sent), "receiver", s.Receiver, "integration", s.Integration)
	}
	family("outpost_notifications_failed_total", "counter", "Failed delivery attempts (each retried), per receiver integration.")
	for _, s := range st.Integrations {
		sample("outpost_notifications_failed_total", float64(s.Failed), "receiver", s.Receiver, "integration", s.Integration)
	}
	family("outpost_notifications_dropped_total", "counter", "Notifications given up, per receiver integration and reason.")
	for _, s := range st.Integrations {
		for _, reason := range slices.Sorted(maps.Keys(s.Dropped)) {
			sample("outpost_notifications_dropped_total", float64(s.Dropped[reason]), "receiver", s.Receiver,
				"integration", s.Integration, "reason", reason)
		}
	}
	family("outpost_notifications_outbox_depth", "gauge", "Notifications waiting in the outbox, per receiver integration.")
	for _, s := range st.Integrations {
		sample("outpost_notifications_outbox_depth", float64(s.Depth), "receiver", s.Receiver, "integration", s.Integration)
	}
}

// labelEscaper escapes label values as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
