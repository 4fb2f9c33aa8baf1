package pages

import (
	"fmt"
	"slices"
	"strings"

	"outpost/alerting/rulefile"
)

// diskThresholds returns the warn and crit lines of the alerting rules
// that watch the metric of a disk panel (Telegraf's disk_used_percent or
// collectd's df_value) with an upper bound, read from the rule files the
// alert manager runs (and its built-in set). The files are read at each
// call: they are a few kilobytes, and the page then shows what a reload
// would run. With alerting off there are no rules and no lines; a file
// that does not load now is skipped (the rules page says why).
func (p *Pages) diskThresholds(metric string) []Threshold {
	if p.d.Alerts == nil {
		return nil
	}
	st := p.d.Alerts.Status()
	var files []*rulefile.File
	if st.Defaults {
		files = append(files, rulefile.Defaults())
	}
	for _, fs := range st.Files {
		if f, err := rulefile.Load(fs.Path); err == nil {
			files = append(files, f)
		}
	}
	var out []Threshold
	seen := map[string]bool{}
	add := func(level, color, rule string, c *rulefile.Condition) {
		if c == nil || (c.Op != ">" && c.Op != ">=") {
			return
		}
		key := fmt.Sprintf("%s %g", level, c.Value)
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, Threshold{Value: c.Value, Color: color, Label: key + " (" + rule + ")"})
	}
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Kind != rulefile.KindAlert || !strings.Contains(r.Expr, metric) {
					continue
				}
				add("warn", "#d98a00", r.Name, r.Warn)
				add("crit", "#c9302c", r.Name, r.Crit)
			}
		}
	}
	slices.SortFunc(out, func(a, b Threshold) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	return out
}
