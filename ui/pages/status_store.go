package pages

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"outpost/tsdb"
)

// StoreStats returns the store's figures; *tsdb.DB's Stats is one. It
// returns what it could gather with the errors of what it could not.
type StoreStats func(ctx context.Context) (tsdb.Stats, error)

// storeStatsTimeout bounds the time the status page waits for the store's
// figures (tsdb bounds its own work too).
const storeStatsTimeout = 5 * time.Second

// storageView is the storage section of the status page.
type storageView struct {
	Wired                 bool // Deps.Store is set: everything below is filled
	Dir                   string
	TotalBytes            int64
	Series                string // known to the index
	HeadSeries            string // with samples in memory
	Samples               string // flushed (counted or estimated) plus in memory
	HeadSamples           string
	BytesPerSample        string // chunk bytes per sample; "" when unknown
	DiskBytesPerSample    string // day file bytes per sample; "" when unknown
	Counted               string // "12 of 40 flushes counted so far" while counting
	Oldest, Newest        time.Time
	DayBytes, IndexBytes  int64
	WALBytes              int64
	WALSegments           int
	IndexMemory, HeadMem  int64
	Days                  []dayRow
	Damaged               []tsdb.DamagedFile
	CorruptChunks         uint64
	Health                string
	Metrics               []metricRow
	Labels                []labelRow
	MetricNames, LabelsIn int
}

// dayRow is one day file of the storage table.
type dayRow struct {
	Day     string
	Path    string
	Bytes   int64
	Series  string
	Samples string // "" when not counted yet
	Flushes string
	Sealed  bool
	Damage  string
	Span    string // first and last sample, UTC times of day
}

// metricRow is one metric name of the cardinality table.
type metricRow struct {
	Name   string
	Series string
	Pct    float64 // of every series
	Share  string  // Pct printed
}

// labelRow is one label name of the cardinality table.
type labelRow struct {
	Name   string
	Values string
	Series string
}

// storage gathers the storage section: from Deps.Store when it is wired,
// else the data directory's size and Deps.Series only.
func (p *Pages) storage(ctx context.Context) (storageView, error) {
	if p.d.Store == nil {
		v := storageView{Dir: p.d.DataDir, TotalBytes: dirSize(p.d.DataDir)}
		if p.d.Series != nil {
			v.Series = statusCount(int64(p.d.Series()))
		}
		return v, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeStatsTimeout)
	defer cancel()
	st, err := p.d.Store(ctx)
	v := storageView{Wired: true, Dir: st.Dir, TotalBytes: st.TotalBytes, Series: statusCount(int64(st.Series)),
		HeadSeries: statusCount(int64(st.HeadSeries)), HeadSamples: statusCount(st.HeadSamples), Oldest: st.MinTime, Newest: st.MaxTime,
		DayBytes: st.DayBytes, IndexBytes: st.IndexBytes, WALBytes: st.WALBytes, WALSegments: st.WALSegments,
		IndexMemory: st.IndexMemory, HeadMem: st.HeadBytes, Damaged: st.Damaged, CorruptChunks: st.CorruptChunks,
		Health: st.Health, MetricNames: st.Cardinality.MetricNames, LabelsIn: st.Cardinality.LabelNames}
	v.Samples = statusCount(st.EstimatedSamples() + st.HeadSamples)
	if st.FlushesCounted < st.Flushes {
		v.Samples = "≈ " + v.Samples
		v.Counted = fmt.Sprintf("%d of %d flushes counted so far, the others estimated from the time they span; reload to count more",
			st.FlushesCounted, st.Flushes)
	}
	if b := st.BytesPerSample(); b > 0 {
		v.BytesPerSample = strconv.FormatFloat(b, 'f', 2, 64)
	}
	if b := st.DiskBytesPerSample(); b > 0 {
		v.DiskBytesPerSample = strconv.FormatFloat(b, 'f', 2, 64)
	}
	for _, d := range st.Days {
		r := dayRow{Day: d.Day.Format("2006-01-02"), Path: d.Path, Bytes: d.Bytes, Series: statusCount(int64(d.Series)),
			Flushes: strconv.Itoa(d.Flushes), Sealed: d.Sealed, Damage: d.Damage}
		if d.FlushesCounted == d.Flushes {
			r.Samples = statusCount(d.Samples)
		} else {
			r.Flushes = fmt.Sprintf("%d (%d counted)", d.Flushes, d.FlushesCounted)
		}
		if !d.MinTime.IsZero() {
			r.Span = d.MinTime.Format("15:04") + "–" + d.MaxTime.Format("15:04")
		}
		v.Days = append(v.Days, r)
	}
	for _, m := range st.Cardinality.Metrics {
		pct := 0.0
		if st.Series > 0 {
			pct = 100 * float64(m.Series) / float64(st.Series)
		}
		v.Metrics = append(v.Metrics, metricRow{Name: m.Name, Series: statusCount(int64(m.Series)), Pct: pct, Share: statusPercent(pct)})
	}
	for _, l := range st.Cardinality.Labels {
		v.Labels = append(v.Labels, labelRow{Name: l.Name, Values: statusCount(int64(l.Values)), Series: statusCount(int64(l.Series))})
	}
	return v, err
}

// statusCount prints n with thousands separated by commas.
func statusCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// statusPercent prints a percentage briefly.
func statusPercent(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + "%"
}
