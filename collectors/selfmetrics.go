package collectors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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

// SelfMetricsOptions carries what SelfMetrics needs besides its Writer
// and its source.
type SelfMetricsOptions struct {
	// Interval between writes; 0 means DefaultSelfMetricsInterval.
	Interval time.Duration
	// Labels are added to every series (for example host, this machine's
	// name); a label of the text with the same name wins.
	Labels tsdb.Labels
	// Logger receives write failures, at most one a minute; nil discards them.
	Logger *slog.Logger
	// Now stamps the samples; nil means time.Now.
	Now func() time.Time
}

// SelfMetrics is outpost scraping itself: every interval it renders the
// text of GET /metrics (Render), parses it (ParseText) and writes every
// sample as an ordinary series through a Writer, so that outpost's pages
// and alert rules can use them like any other metric, under the names
// and labels /metrics shows (a histogram as its _bucket, _sum and _count
// series, as Prometheus stores it). One source of truth: a figure added
// to /metrics is stored with no more code. Names starting with
// tsdb.SelfSeriesPrefix are kept past storage.max_series (up to
// tsdb.SelfSeriesAllowance): the counters that tell senders were refused
// for too many series are stored when it matters most; go_* and
// process_* series are then refused like any other.
type SelfMetrics struct {
	w      Writer
	render func(io.Writer) error
	opts   SelfMetricsOptions
}

// NewSelfMetrics returns a SelfMetrics that writes what render writes
// (the /metrics text) to w.
func NewSelfMetrics(w Writer, render func(io.Writer) error, opts SelfMetricsOptions) *SelfMetrics {
	if opts.Interval <= 0 {
		opts.Interval = DefaultSelfMetricsInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &SelfMetrics{w: w, render: render, opts: opts}
}

// Points renders and parses the text and returns its samples as points
// stamped t (a sample's own timestamp is kept). It returns the points of
// the text rendered before a render or parse error, with the error.
func (m *SelfMetrics) Points(t time.Time) ([]tsdb.Point, error) {
	var buf bytes.Buffer
	rerr := m.render(&buf)
	var pts []tsdb.Point
	perr := ParseText(buf.Bytes(), TextVisitor{Sample: func(s TextSample) error {
		ls := make(tsdb.Labels, 0, len(s.Labels)+len(m.opts.Labels)+1)
		ls = append(ls, tsdb.Label{Name: tsdb.MetricName, Value: s.Name})
		ls = append(ls, s.Labels...)
		for _, l := range m.opts.Labels {
			if s.Labels.Get(l.Name) == "" {
				ls = append(ls, l)
			}
		}
		ls.Sort()
		p := tsdb.Point{Labels: ls, T: t.UnixMilli(), V: s.Value}
		if s.HasT {
			p.T = s.T
		}
		pts = append(pts, p)
		return nil
	}})
	if err := errors.Join(rerr, perr); err != nil {
		return pts, fmt.Errorf("scrape own metrics: %w", err)
	}
	return pts, nil
}

// Run writes the figures at once and then every interval, until ctx is
// cancelled; it then returns nil. A failure is logged (at most once a
// minute) and the next tick tries again; what could be rendered is
// written all the same.
func (m *SelfMetrics) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	var lastLog time.Time
	for {
		pts, err := m.Points(m.opts.Now())
		if werr := m.w.Write(ctx, pts); werr != nil {
			err = errors.Join(err, werr)
		}
		if err != nil && ctx.Err() == nil && time.Since(lastLog) >= time.Minute {
			m.opts.Logger.Warn("record own metrics", "component", "selfmetrics", "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
