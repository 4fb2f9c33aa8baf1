package alerting

import (
	"context"
	"fmt"
	"time"

	"outpost/tsdb"
)

// recordRule evaluates a recording rule: every sample of its expression
// is stored as a series named after the rule, with the group's and the
// rule's labels added, at the evaluation time.
type recordRule struct {
	ruleBase
}

func (r *recordRule) eval(ctx context.Context, env *evalEnv, t time.Time) (*evalResult, error) {
	vec, err := env.query(ctx, r.spec.Expr, t)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", r.spec.Expr, err)
	}
	if lim := r.group.Limit; lim > 0 && len(vec) > lim {
		return nil, fmt.Errorf("%d series exceed the group's limit of %d", len(vec), lim)
	}
	res := &evalResult{points: make([]tsdb.Point, 0, len(vec))}
	seen := make(map[string]bool, len(vec))
	for _, s := range vec {
		m := make(map[string]string, len(s.Labels)+len(r.group.Labels)+len(r.spec.Labels)+1)
		for _, l := range s.Labels {
			m[l.Name] = l.Value
		}
		for k, v := range r.group.Labels {
			m[k] = v
		}
		for k, v := range r.spec.Labels {
			m[k] = v
		}
		m["__name__"] = r.spec.Name
		ls := tsdb.FromMap(m).WithoutEmpty()
		key := ls.String()
		if seen[key] {
			return nil, fmt.Errorf("two series give the same labels %s", key)
		}
		seen[key] = true
		res.points = append(res.points, tsdb.Point{Labels: ls, T: t.UnixMilli(), V: s.V})
	}
	return res, nil
}
