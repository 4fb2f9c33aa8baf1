package rulefile

import (
	"fmt"
)

// checkAlert checks an alert rule's outpost fields: its levels, clear,
// M of N, and that it does not use a flatline rule's fields.
func checkAlert(r *Rule, mnGiven bool) []problem {
	ps := forbidden("an alert", map[string]bool{"by": len(r.By) > 0, "forget_after": r.ForgetAfter != 0})
	for _, c := range []struct {
		at string
		c  *Condition
	}{{"warn", r.Warn}, {"crit", r.Crit}, {"clear", r.Clear}} {
		if c.c != nil {
			if msg := c.c.valid(); msg != "" {
				ps = append(ps, problemf(c.at, "%s: %s", c.at, msg))
			}
		}
	}
	ps = append(ps, checkLevels(r)...)
	switch r.MissingData {
	case MissingDefault, MissingMissing, MissingBreaching, MissingNotBreaching, MissingIgnore:
	default:
		ps = append(ps, problemf("missing_data", "missing_data: unknown policy %q (want missing, breaching, not_breaching or ignore)", r.MissingData))
	}
	return append(ps, checkMofN(r, mnGiven)...)
}

// checkLevels checks warn, crit and clear together: clear needs a level,
// warn and crit point the same way with crit the stricter, and the
// severity label is theirs to set.
func checkLevels(r *Rule) []problem {
	var ps []problem
	if r.Clear != nil && r.Warn == nil && r.Crit == nil {
		ps = append(ps, problemf("clear", "clear: needs warn or crit (it ends what they start)"))
	}
	if r.Warn != nil || r.Crit != nil {
		if _, ok := r.Labels["severity"]; ok {
			ps = append(ps, problemf("labels.severity", "labels.severity: set by warn and crit (warning or critical); remove it"))
		}
	}
	w, c := r.Warn, r.Crit
	if w == nil || c == nil {
		return ps
	}
	switch {
	case w.upward() && c.downward(), w.downward() && c.upward():
		ps = append(ps, problemf("crit", "crit: %q and warn %q point in opposite directions", c.String(), w.String()))
	case w.upward() && c.upward() && c.Value < w.Value,
		w.downward() && c.downward() && c.Value > w.Value:
		ps = append(ps, problemf("crit", "crit: %q is less strict than warn %q, so warn would never show", c.String(), w.String()))
	}
	return ps
}

// checkMofN checks datapoints_to_alarm (M) and evaluation_periods (N):
// both at least 1 when given, M at most N, N at most a day of minutes.
func checkMofN(r *Rule, given bool) []problem {
	m, n := r.DatapointsToAlarm, r.EvaluationPeriods
	if !given && m == 0 && n == 0 {
		return nil
	}
	var ps []problem
	switch {
	case m < 1:
		ps = append(ps, problemf("datapoints_to_alarm", "datapoints_to_alarm: must be at least 1, got %d", m))
	case n < 1:
		ps = append(ps, problemf("evaluation_periods", "evaluation_periods: must be at least 1, got %d", n))
	case m > n:
		ps = append(ps, problemf("datapoints_to_alarm", "datapoints_to_alarm: %d is more than evaluation_periods (%d)", m, n))
	}
	if n > maxEvaluationPeriods {
		ps = append(ps, problemf("evaluation_periods", "evaluation_periods: %d is more than %d", n, maxEvaluationPeriods))
	}
	return ps
}

// duplicateMsg says that r repeats the rule at line.
func duplicateMsg(r *Rule, line int) string {
	return fmt.Sprintf("duplicate rule: same %s name, expr and labels as the rule at line %d", kindName(r.Kind), line)
}
