package tsdb

import "strings"

// outpost's own series and storage.max_series.
const (
	// SelfSeriesPrefix starts the metric name of outpost's own series (its
	// ingest counters, such as outpost_ingest_rejected_total).
	SelfSeriesPrefix = "outpost_"
	// SelfSeriesAllowance is how many series whose metric name starts with
	// SelfSeriesPrefix may be created past storage.max_series. When senders
	// fill the store up to the limit, outpost still records the counters
	// that say so (outpost_ingest_rejected_total{reason="too_many_series"}):
	// a store that hides its own refusals cannot be diagnosed. outpost
	// writes a few dozen such series; the allowance also bounds what a
	// sender can gain by naming its metrics outpost_*.
	SelfSeriesAllowance = 1000
)

// isSelfSeries reports whether ls is one of outpost's own series.
func isSelfSeries(ls Labels) bool {
	return strings.HasPrefix(ls.Get(MetricName), SelfSeriesPrefix)
}
