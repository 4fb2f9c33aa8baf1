package query

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"outpost/tsdb"
)

// latencyBuckets are the upper bounds, in seconds, of the API latency
// histogram's buckets (+Inf implied).
var latencyBuckets = [...]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// latency is one endpoint's request-duration histogram; atomic, so
// requests record without a lock.
type latency struct {
	counts [len(latencyBuckets) + 1]atomic.Int64 // per bucket, not cumulative; the last is +Inf
	nanos  atomic.Int64
}

// observe records one request that took d.
func (l *latency) observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets[:], s)
	l.counts[i].Add(1)
	l.nanos.Add(int64(d))
}

// apiMetrics holds the API's latency histograms by endpoint. The map only
// grows, when routes are mounted (Timed); mu guards it.
type apiMetrics struct {
	mu        sync.Mutex
	endpoints map[string]*latency
}

// engineCounters are the engine's running totals; each is atomic.
type engineCounters struct {
	queries, failed atomic.Int64 // evaluations run, and those that failed
	samples         atomic.Int64 // raw samples read plus points held (as query.max_samples counts)
}

// Timed wraps h so that the time of each request is recorded under
// endpoint (for example "/api/v1/query") in the latency histogram
// WriteMetrics exposes. Call it when mounting routes.
func (a *API) Timed(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	a.m.mu.Lock()
	l := a.m.endpoints[endpoint]
	if l == nil {
		l = &latency{}
		a.m.endpoints[endpoint] = l
	}
	a.m.mu.Unlock()
	return func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		h(w, r)
		l.observe(time.Since(began))
	}
}

// WriteMetrics writes the query figures in the Prometheus text format for
// GET /metrics: the API's request latency by endpoint (a histogram), the
// queries the engine evaluated and failed, the samples they read, and the
// engine's memory in use. It returns the first write error.
func (a *API) WriteMetrics(w io.Writer) error {
	tw := tsdb.NewTextWriter(w)
	const h = "outpost_query_request_duration_seconds"
	tw.Family(h, "histogram", "Time to answer Prometheus API requests, by endpoint.")
	a.m.mu.Lock()
	names := slices.Sorted(maps.Keys(a.m.endpoints))
	hists := make([]*latency, len(names))
	for i, n := range names {
		hists[i] = a.m.endpoints[n]
	}
	a.m.mu.Unlock()
	for i, n := range names {
		l := hists[i]
		var cum int64
		for i, le := range latencyBuckets {
			cum += l.counts[i].Load()
			tw.Sample(h+"_bucket", float64(cum), "endpoint", n, "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		cum += l.counts[len(latencyBuckets)].Load()
		tw.Sample(h+"_bucket", float64(cum), "endpoint", n, "le", "+Inf")
		tw.Sample(h+"_sum", time.Duration(l.nanos.Load()).Seconds(), "endpoint", n)
		tw.Sample(h+"_count", float64(cum), "endpoint", n)
	}
	c := &a.e.ctr
	tw.One("outpost_query_evaluations_total", "counter", "Queries evaluated by the engine (API, rules, pages).", float64(c.queries.Load()))
	tw.One("outpost_query_evaluation_failures_total", "counter", "Query evaluations that failed (bad query, limit, timeout).", float64(c.failed.Load()))
	tw.One("outpost_query_samples_read_total", "counter", "Raw samples read plus points held by evaluations (what query.max_samples bounds).", float64(c.samples.Load()))
	tw.One("outpost_query_memory_bytes", "gauge", "Memory charged by the queries running now (query.max_memory bounds it).", float64(a.e.mem.used.Load()))
	tw.One("outpost_query_running", "gauge", "Queries holding an evaluation slot now.", float64(len(a.e.sem)))
	return tw.Flush()
}
