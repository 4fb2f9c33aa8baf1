package alerting

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"outpost/alerting/notify"
)

// AMStatus serves GET /api/v2/status: clustering is disabled; the config
// is the routing part of alerting's configuration as an alertmanager.yml
// (route, inhibit_rules, and the receivers' names without their
// integrations, which hold secrets), so amtool config routes can read it.
func (a *API) AMStatus(w http.ResponseWriter, r *http.Request) {
	recvs := []map[string]string{}
	for _, n := range receiverNames(a.m.cfg) {
		recvs = append(recvs, map[string]string{"name": n}) // integrations left out: they hold secrets
	}
	inhibit := []map[string]any{}
	for _, ir := range a.m.cfg.InhibitRules {
		inhibit = append(inhibit, inhibitYAML(ir))
	}
	cfg, err := yaml.Marshal(map[string]any{"route": routeYAML(a.m.cfg.Route), "inhibit_rules": inhibit, "receivers": recvs})
	if err != nil {
		writeAMError(w, http.StatusInternalServerError, err)
		return
	}
	writeAMJSON(w, map[string]any{
		"cluster": map[string]any{"status": "disabled", "peers": []any{}},
		"config":  map[string]string{"original": string(cfg)},
		"uptime":  a.m.started,
		"versionInfo": map[string]string{
			"version": a.m.opts.Version, "revision": a.m.opts.Version, "branch": "", "buildUser": "outpost",
			"buildDate": "", "goVersion": runtime.Version(),
		},
	})
}

// AMReceivers serves GET /api/v2/receivers.
func (a *API) AMReceivers(w http.ResponseWriter, r *http.Request) {
	out := []amReceiver{}
	for _, n := range receiverNames(a.m.cfg) {
		out = append(out, amReceiver{Name: n})
	}
	writeAMJSON(w, out)
}

func receiverNames(c Config) []string {
	out := make([]string, 0, len(c.Receivers))
	for _, r := range c.Receivers {
		out = append(out, r.Name)
	}
	return out
}

// routeYAML is r with Alertmanager's keys, set ones only.
func routeYAML(r notify.Route) map[string]any {
	m := map[string]any{}
	set := func(k string, v any, ok bool) {
		if ok {
			m[k] = v
		}
	}
	set("receiver", r.Receiver, r.Receiver != "")
	set("group_by", r.GroupBy, r.GroupBy != nil)
	set("continue", r.Continue, r.Continue)
	set("match", r.Match, len(r.Match) > 0)
	set("match_re", r.MatchRE, len(r.MatchRE) > 0)
	set("matchers", r.Matchers, len(r.Matchers) > 0)
	set("group_wait", promDuration(r.GroupWait), r.GroupWait > 0)
	set("group_interval", promDuration(r.GroupInterval), r.GroupInterval > 0)
	set("repeat_interval", promDuration(r.RepeatInterval), r.RepeatInterval > 0)
	if len(r.Routes) > 0 {
		var rs []map[string]any
		for _, c := range r.Routes {
			rs = append(rs, routeYAML(c))
		}
		m["routes"] = rs
	}
	return m
}

// inhibitYAML is ir with Alertmanager's keys, set ones only.
func inhibitYAML(ir notify.InhibitRule) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]any{
		"source_matchers": ir.SourceMatchers, "target_matchers": ir.TargetMatchers, "source_match": ir.SourceMatch,
		"target_match": ir.TargetMatch, "source_match_re": ir.SourceMatchRE, "target_match_re": ir.TargetMatchRE, "equal": ir.Equal,
	} {
		if reflectLen(v) > 0 {
			m[k] = v
		}
	}
	return m
}

func reflectLen(v any) int {
	switch v := v.(type) {
	case []string:
		return len(v)
	case map[string]string:
		return len(v)
	}
	return 0
}

// promDuration writes d in the largest unit that divides it, as
// Prometheus' durations read: "4h", "5m", "30s", "250ms".
func promDuration(d time.Duration) string {
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
