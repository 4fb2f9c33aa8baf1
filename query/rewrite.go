package query

import (
	"fmt"

	"github.com/VictoriaMetrics/metricsql"
)

// ExcludeMetrics returns q with a filter `__name__!~"<names>"` added to
// every series selector, so the expression never reads those metrics:
// a flatline rule over `{host!=""}` must not see the ALERTS series the
// alerting rules write for the same host. names is a regular expression
// of metric names, such as "ALERTS|ALERTS_FOR_STATE".
func ExcludeMetrics(q, names string) (string, error) {
	e, err := metricsql.Parse(q)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", q, err)
	}
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		me, ok := x.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for i := range me.LabelFilterss {
			me.LabelFilterss[i] = append(me.LabelFilterss[i],
				metricsql.LabelFilter{Label: "__name__", Value: names, IsRegexp: true, IsNegative: true})
		}
	})
	return string(e.AppendString(nil)), nil
}
