package tsdb

import (
	"cmp"
	"slices"
)

// Cardinality is the series count of the most common metric names and
// the value count of the label names with the most values.
type Cardinality struct {
	// MetricNames and LabelNames are how many names there are in all.
	MetricNames, LabelNames int
	// Metrics are the metric names with the most series, most first.
	Metrics []NameCount
	// Labels are the label names with the most values, most first.
	Labels []LabelCount
}

// NameCount is a metric name and its number of series.
type NameCount struct {
	Name   string
	Series int
}

// LabelCount is a label name, its number of values and the number of
// series that carry it.
type LabelCount struct {
	Name   string
	Values int
	Series int
}

// Cardinality returns the n metric names with the most series and the n
// label names with the most values, from the in-memory postings (no I/O;
// it holds the postings' read lock for a pass over the metric names and
// the label names). Like NumSeries it counts every series the index
// knows.
func (db *DB) Cardinality(n int) Cardinality {
	ix := db.ix
	ix.pmu.RLock()
	var out Cardinality
	out.LabelNames = len(ix.post.names)
	if pn := ix.post.names[MetricName]; pn != nil {
		out.MetricNames = len(pn.vals)
		for v, ref := range pn.vals {
			out.Metrics = append(out.Metrics, NameCount{Name: v, Series: ix.post.count(ref)})
		}
	}
	for name, pn := range ix.post.names {
		out.Labels = append(out.Labels, LabelCount{Name: name, Values: len(pn.vals), Series: int(pn.has.GetCardinality())})
	}
	ix.pmu.RUnlock()
	slices.SortFunc(out.Metrics, func(a, b NameCount) int { return cmp.Or(b.Series-a.Series, cmp.Compare(a.Name, b.Name)) })
	slices.SortFunc(out.Labels, func(a, b LabelCount) int { return cmp.Or(b.Values-a.Values, cmp.Compare(a.Name, b.Name)) })
	out.Metrics = out.Metrics[:min(n, len(out.Metrics))]
	out.Labels = out.Labels[:min(n, len(out.Labels))]
	return out
}

// count returns the number of series in the postings ref.
func (p *postingsIndex) count(ref uint32) int {
	if ref&postingsListTag == 0 {
		return 1
	}
	pl := &p.lists[ref&^postingsListTag]
	if pl.bm != nil {
		return int(pl.bm.GetCardinality())
	}
	return len(pl.ids)
}
