package collectors

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"outpost/tsdb"
)

// The ingest statistics' metric names, shared by /metrics and the series
// SelfMetrics writes, so that a query reads the same on both.
const (
	MetricSamples     = "outpost_ingest_samples_total"
	MetricRejected    = "outpost_ingest_rejected_total"
	MetricBytes       = "outpost_ingest_bytes_total"
	MetricConnections = "outpost_ingest_connections_total"
)

// family is one metric of the ingest statistics.
type family struct {
	name, help string
}

// families lists the metrics in the order they are exposed.
var families = [...]family{
	{MetricSamples, "Samples written to the store, by protocol."},
	{MetricRejected, "Lines, samples, packets or connections turned away, by protocol, kind (what) and reason."},
	{MetricBytes, "Payload bytes received, by protocol."},
	{MetricConnections, "Connections (TCP) or datagrams (UDP) accepted, by protocol."},
}

// statSample is one counter value of the statistics.
type statSample struct {
	family       int // index in families
	protocol     string
	what, reason string // set for MetricRejected only
	v            uint64
}

// collect snapshots every counter of stats, grouped by family, then in the
// order of stats, rejections sorted by what and reason.
func collect(stats []*Stats) []statSample {
	var out []statSample
	for _, s := range stats {
		out = append(out, statSample{family: 0, protocol: s.Protocol, v: s.Samples.Load()})
	}
	for _, s := range stats {
		for _, r := range s.Rejections() {
			out = append(out, statSample{family: 1, protocol: s.Protocol, what: r.What, reason: r.Reason, v: r.N})
		}
	}
	for _, s := range stats {
		out = append(out, statSample{family: 2, protocol: s.Protocol, v: s.Bytes.Load()})
	}
	for _, s := range stats {
		out = append(out, statSample{family: 3, protocol: s.Protocol, v: s.Connections.Load()})
	}
	return out
}

// WriteMetrics writes the counters of stats in the Prometheus text
// exposition format (version 0.0.4), for GET /metrics: for example
//
//	outpost_ingest_samples_total{protocol="graphite"} 123
//	outpost_ingest_rejected_total{protocol="graphite",what="lines",reason="parse"} 4
//
// Every family gets its # HELP and # TYPE lines, even with no sample yet.
// It returns the first write error.
func WriteMetrics(w io.Writer, stats ...*Stats) error {
	bw := bufio.NewWriter(w)
	samples := collect(stats)
	for fi, f := range families {
		bw.WriteString("# HELP " + f.name + " " + f.help + "\n")
		bw.WriteString("# TYPE " + f.name + " counter\n")
		for _, s := range samples {
			if s.family != fi {
				continue
			}
			bw.WriteString(f.name + `{protocol="` + escapeLabelValue(s.protocol) + `"`)
			if fi == 1 {
				bw.WriteString(`,what="` + escapeLabelValue(s.what) + `",reason="` + escapeLabelValue(s.reason) + `"`)
			}
			bw.WriteString("} " + strconv.FormatUint(s.v, 10) + "\n")
		}
	}
	return bw.Flush()
}

// labelEscaper escapes label values as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// escapeLabelValue escapes a label value for the text format.
func escapeLabelValue(s string) string { return labelEscaper.Replace(s) }

// DefaultSelfMetricsInterval is how often SelfMetrics writes the counters.
const DefaultSelfMetricsInterval = 10 * time.Second

// SelfMetricsOptions carries what SelfMetrics needs besides its Writer.
type SelfMetricsOptions struct {
	// Interval between writes; 0 means DefaultSelfMetricsInterval.
	Interval time.Duration
	// Logger receives write failures, at most one a minute; nil discards them.
	Logger *slog.Logger
	// Now stamps the samples; nil means time.Now.
	Now func() time.Time
}

// SelfMetrics writes the ingest statistics as ordinary series through a
// Writer, so that outpost's pages and alert rules can use them like any
// other metric: the same names and labels as WriteMetrics, the metric name
// in tsdb.MetricName. Every name starts with tsdb.SelfSeriesPrefix, so the
// store keeps these series past storage.max_series (up to
// tsdb.SelfSeriesAllowance): the counters that tell senders were refused
// for too many series are stored when it matters most.
type SelfMetrics struct {
	w     Writer
	stats []*Stats
	opts  SelfMetricsOptions
}

// NewSelfMetrics returns a SelfMetrics that writes stats to w.
func NewSelfMetrics(w Writer, opts SelfMetricsOptions, stats ...*Stats) *SelfMetrics {
	if opts.Interval <= 0 {
		opts.Interval = DefaultSelfMetricsInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &SelfMetrics{w: w, stats: stats, opts: opts}
}

// Points returns the counters as points stamped t.
func (m *SelfMetrics) Points(t time.Time) []tsdb.Point {
	samples := collect(m.stats)
	pts := make([]tsdb.Point, 0, len(samples))
	for _, s := range samples {
		ls := tsdb.Labels{{Name: tsdb.MetricName, Value: families[s.family].name}, {Name: "protocol", Value: s.protocol}}
		if s.family == 1 {
			ls = append(ls, tsdb.Label{Name: "reason", Value: s.reason}, tsdb.Label{Name: "what", Value: s.what})
		}
		pts = append(pts, tsdb.Point{Labels: ls, T: t.UnixMilli(), V: float64(s.v)})
	}
	return pts
}

// Run writes the counters at once and then every interval, until ctx is
// cancelled; it then returns nil. A failed write is logged (at most once a
// minute) and retried at the next tick.
func (m *SelfMetrics) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	var lastLog time.Time
	for {
		if err := m.w.Write(ctx, m.Points(m.opts.Now())); err != nil && ctx.Err() == nil {
			if time.Since(lastLog) >= time.Minute {
				m.opts.Logger.Warn("write ingest statistics", "component", "selfmetrics", "err", err)
				lastLog = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
