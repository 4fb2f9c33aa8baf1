package query

import (
	"math"
	"strconv"

	"outpost/tsdb"
)

// Rollups whose outputs depend on the data: histogram_over_time gives a
// series per vmrange bucket seen, count_values_over_time a series per
// value seen. Their rollup functions return nothing themselves and write
// into the series' dynOut instead, which the runner hands to a dynSink.

// dynOut collects the outputs of one input series, by label value.
type dynOut struct {
	points int
	idx    map[string]int
	names  []string
	vals   [][]float64
	// histogram_over_time's sliding window: the bucket of each sample
	// in it, oldest first, and their counts, so a sample's bucket is
	// found once however many windows hold it.
	hist    vmrHist
	slideT  []int64
	slideB  []int
	slideAt int     // slideT[slideAt:] are in the window
	lastT   int64   // the newest sample counted
	byIdx   []int32 // output number + 1 per bucket, 0 for none yet
}

// reset prepares d for another series; the previous outputs belong to
// whoever took them.
func (d *dynOut) reset(points int) {
	d.points, d.idx, d.names, d.vals = points, map[string]int{}, nil, nil
	d.hist.reset()
	d.slideT, d.slideB, d.slideAt, d.lastT = d.slideT[:0], d.slideB[:0], 0, math.MinInt64
	clear(d.byIdx)
}

// atBucket is at for the vmrange bucket idx, without building its name
// again.
func (d *dynOut) atBucket(idx int) []float64 {
	if d.byIdx == nil {
		d.byIdx = make([]int32, vmrBuckets+2)
	}
	if k := d.byIdx[idx+1]; k > 0 {
		return d.vals[k-1]
	}
	vs := d.at(vmrangeName(idx))
	d.byIdx[idx+1] = int32(len(d.vals))
	return vs
}

// at returns the values of the output labelled name, NaN-filled when new.
func (d *dynOut) at(name string) []float64 {
	if i, ok := d.idx[name]; ok {
		return d.vals[i]
	}
	vs := make([]float64, d.points)
	for i := range vs {
		vs[i] = nan
	}
	d.idx[name] = len(d.vals)
	d.names, d.vals = append(d.names, name), append(d.vals, vs)
	return vs
}

// rollupHistogramOverTime counts the window's samples per vmrange bucket.
// Windows move forward, so it takes back the samples that left the window
// since the last step and counts those that entered.
func rollupHistogramOverTime(a *rollupArgs) float64 {
	d := a.dyn
	tStart := a.currT - a.window
	for d.slideAt < len(d.slideT) && d.slideT[d.slideAt] <= tStart {
		if b := d.slideB[d.slideAt]; b != vmrNone {
			d.hist.subIdx(b)
		}
		d.slideAt++
	}
	if d.slideAt > 1024 && d.slideAt > len(d.slideT)/2 {
		n := copy(d.slideT, d.slideT[d.slideAt:])
		copy(d.slideB, d.slideB[d.slideAt:])
		d.slideT, d.slideB, d.slideAt = d.slideT[:n], d.slideB[:n], 0
	}
	for i, t := range a.timestamps {
		if t <= d.lastT {
			continue
		}
		b, ok := vmrangeIndex(a.values[i])
		if ok {
			d.hist.addIdx(b)
		} else {
			b = vmrNone
		}
		d.slideT, d.slideB, d.lastT = append(d.slideT, t), append(d.slideB, b), t
	}
	d.hist.visit(func(idx int, n float64) { d.atBucket(idx)[a.idx] = n })
	return nan
}

// vmrNone marks a sample no bucket counts (negative).
const vmrNone = math.MinInt32

// rollupCountValuesOverTime counts the window's samples per value.
func rollupCountValuesOverTime(a *rollupArgs) float64 {
	var buf [32]byte
	for _, v := range a.values {
		vs := a.dyn.at(string(strconv.AppendFloat(buf[:0], v, 'g', -1, 64)))
		if isNaN(vs[a.idx]) {
			vs[a.idx] = 0
		}
		vs[a.idx]++
	}
	return nan
}

func dynLabelVMRange(rollupParams) (string, error) { return vmrangeLabel, nil }

func dynLabelCountValues(p rollupParams) (string, error) {
	if len(p.strs) != 1 || len(p.nums) != 0 {
		return "", errorf(ErrBadArgument, "count_values_over_time takes a label name and a range vector")
	}
	if err := checkLabelName(p.strs[0]); err != nil {
		return "", err
	}
	return p.strs[0], nil
}

// rollupOutlierIQR returns the window's last sample when it lies outside
// [q1 - 1.5·IQR, q3 + 1.5·IQR] of the window, nothing otherwise.
func rollupOutlierIQR(a *rollupArgs) float64 {
	n := len(a.values)
	if n < 2 {
		return nan
	}
	var buf [64]float64
	vs := append(buf[:0], a.values...)
	lo, hi := iqrBounds(vs)
	if v := a.values[n-1]; v < lo || v > hi {
		return v
	}
	return nan
}

// dynSeries turns the outputs collected for one input series into series.
func (ev *evaluator) dynSeries(rr *rollupRunner, ls tsdb.Labels, d *dynOut) ([]*timeseries, error) {
	if len(d.names) == 0 {
		return nil, nil
	}
	if err := ev.hold(len(d.names), d.points); err != nil {
		return nil, err
	}
	base := rr.outputLabels(ls, rollupOutput{})
	out := make([]*timeseries, len(d.names))
	for i, name := range d.names {
		out[i] = &timeseries{labels: setLabel(base, rr.dynLabel, name), values: d.vals[i]}
	}
	d.names, d.vals = nil, nil
	return out, nil
}

// dynSink keeps the outputs of a data-dependent rollup, in selection
// order.
type dynSink struct {
	ev  *evaluator
	out [][]*timeseries
}

func (s *dynSink) ownsValues() bool { return false }

func (s *dynSink) ordered() bool { return true }

func (s *dynSink) setSize(series, _ int) { s.out = make([][]*timeseries, series) }

func (s *dynSink) add(int, int, tsdb.Labels, *rollupRunner, [][]float64) error { return nil }

func (s *dynSink) addDyn(idx int, ls tsdb.Labels, rr *rollupRunner, d *dynOut) error {
	tss, err := s.ev.dynSeries(rr, ls, d)
	s.out[idx] = tss
	return err
}

func (s *dynSink) result() []*timeseries {
	var out []*timeseries
	for _, tss := range s.out {
		out = append(out, tss...)
	}
	return out
}
