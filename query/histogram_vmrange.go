package query

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// VictoriaMetrics' histograms: buckets labelled vmrange="lo...hi" (the
// format of github.com/VictoriaMetrics/metrics and of histogram_over_time),
// counting the observations in (lo, hi] each, not cumulatively. Every
// histogram function converts them to cumulative le buckets first
// (vmrangeToLE), as MetricsQL does.

// The log-spaced bucket scheme: 18 buckets per power of ten from 1e-9 to
// 1e18, plus one below and one above.
const (
	vmrE10Min     = -9
	vmrE10Max     = 18
	vmrPerDecade  = 18
	vmrBuckets    = (vmrE10Max - vmrE10Min) * vmrPerDecade
	vmrLowerIdx   = -1
	vmrUpperIdx   = vmrBuckets
	vmrangeLabel  = "vmrange"
	vmrLowerRange = "0...1.000e-09"
	vmrUpperRange = "1.000e+18...+Inf"
)

// vmrangeNames holds the vmrange label of every bucket, built once: the
// bounds are successive products by 10^(1/18) from 1e-9, printed with
// four significant digits (a lookup table).
var vmrangeNames = func() [vmrBuckets]string {
	var names [vmrBuckets]string
	mul := math.Pow(10, 1.0/vmrPerDecade)
	v := math.Pow10(vmrE10Min)
	start := fmt.Sprintf("%.3e", v)
	for i := range names {
		v *= mul
		end := fmt.Sprintf("%.3e", v)
		names[i] = start + "..." + end
		start = end
	}
	return names
}()

// vmrangeIndex returns the bucket of an observation: vmrLowerIdx below
// 1e-9 (0 included), vmrUpperIdx from 1e18; ok is false for NaN and
// negative values, which VictoriaMetrics' histograms do not count.
// Buckets include their upper bound.
func vmrangeIndex(v float64) (idx int, ok bool) {
	if isNaN(v) || v < 0 {
		return 0, false
	}
	f := (math.Log10(v) - vmrE10Min) * vmrPerDecade
	switch {
	case f < 0:
		return vmrLowerIdx, true
	case f >= vmrBuckets:
		return vmrUpperIdx, true
	}
	i := int(f)
	if f == float64(i) && i > 0 {
		i--
	}
	return i, true
}

// vmrangeName returns the vmrange label of bucket idx.
func vmrangeName(idx int) string {
	switch idx {
	case vmrLowerIdx:
		return vmrLowerRange
	case vmrUpperIdx:
		return vmrUpperRange
	}
	return vmrangeNames[idx]
}

// vmrHist counts observations per vmrange bucket; index 0 is the lower
// bucket, 1+i bucket i, the last the upper one.
type vmrHist struct {
	counts [vmrBuckets + 2]uint32
	used   []int // indexes with a count, unsorted
}

func (h *vmrHist) reset() {
	for _, i := range h.used {
		h.counts[i] = 0
	}
	h.used = h.used[:0]
}

func (h *vmrHist) add(v float64) {
	if idx, ok := vmrangeIndex(v); ok {
		h.addIdx(idx)
	}
}

// addIdx counts an observation in bucket idx (vmrangeIndex's numbering).
func (h *vmrHist) addIdx(idx int) {
	if h.counts[idx+1] == 0 {
		h.used = append(h.used, idx+1)
	}
	h.counts[idx+1]++
}

// subIdx takes back an observation addIdx counted.
func (h *vmrHist) subIdx(idx int) { h.counts[idx+1]-- }

// visit calls f for every non-empty bucket in bound order, with the
// bucket's vmrangeIndex number.
func (h *vmrHist) visit(f func(idx int, n float64)) {
	used := h.used[:0]
	for _, i := range h.used {
		if h.counts[i] > 0 {
			used = append(used, i)
		}
	}
	slices.Sort(used)
	h.used = slices.Compact(used) // an index emptied and filled again is listed twice
	for _, i := range h.used {
		f(i-1, float64(h.counts[i]))
	}
}

// vmrBucket is one vmrange series being converted.
type vmrBucket struct {
	lo, hi       float64
	loStr, hiStr string
	ts           *timeseries
}

// vmrangeToLE converts vmrange buckets to cumulative le buckets: per
// histogram (the labels less vmrange and le), buckets without a positive
// value are dropped, a zero bucket le=lo is added before each gap, an
// le="+Inf" bucket at the end, and every bucket counts all below it (a
// missing value counts 0). Series with an le label pass as they are; those
// with neither, or with a malformed vmrange, are dropped.
func vmrangeToLE(tss []*timeseries) []*timeseries {
	if !slices.ContainsFunc(tss, func(ts *timeseries) bool { return ts.labels.Has(vmrangeLabel) }) {
		return tss
	}
	out := make([]*timeseries, 0, len(tss))
	groups := map[string][]vmrBucket{}
	var order []string
	var key []byte
	for _, ts := range tss {
		vr := ts.labels.Get(vmrangeLabel)
		if vr == "" {
			if ts.labels.Get("le") != "" {
				out = append(out, ts)
			}
			continue
		}
		loStr, hiStr, found := strings.Cut(vr, "...")
		lo, err1 := strconv.ParseFloat(loStr, 64)
		hi, err2 := strconv.ParseFloat(hiStr, 64)
		if !found || err1 != nil || err2 != nil {
			continue
		}
		ls := labelsWithout(ts.labels, vmrangeLabel, "le")
		key = appendLabelsKey(key[:0], ls)
		if _, ok := groups[string(key)]; !ok {
			order = append(order, string(key))
		}
		groups[string(key)] = append(groups[string(key)], vmrBucket{lo, hi, loStr, hiStr, &timeseries{labels: ls, values: ts.values}})
	}
	for _, k := range order {
		out = append(out, vmrangeGroupToLE(groups[k])...)
	}
	return out
}

// vmrangeGroupToLE converts the buckets of one histogram.
func vmrangeGroupToLE(bs []vmrBucket) []*timeseries {
	slices.SortStableFunc(bs, func(a, b vmrBucket) int { return cmpFloat(a.hi, b.hi) })
	zeroLike := func(src *timeseries, le string) *timeseries {
		return &timeseries{labels: setLabel(src.labels, "le", le), values: make([]float64, len(src.values))}
	}
	var res []*timeseries
	byLE := map[string]*timeseries{}
	prevHi := 0.0
	var last *vmrBucket
	for i := range bs {
		b := &bs[i]
		if !slices.ContainsFunc(b.ts.values, func(v float64) bool { return v > 0 }) {
			continue
		}
		if b.lo != prevHi && byLE[b.loStr] == nil {
			z := zeroLike(b.ts, b.loStr)
			byLE[b.loStr] = z
			res = append(res, z)
		}
		if p := byLE[b.hiStr]; p != nil {
			for j, v := range b.ts.values {
				if isNaN(p.values[j]) {
					p.values[j] = v
				}
			}
		} else {
			ts := &timeseries{labels: setLabel(b.ts.labels, "le", b.hiStr), values: b.ts.values}
			byLE[b.hiStr] = ts
			res = append(res, ts)
		}
		prevHi, last = b.hi, b
	}
	if last != nil && !math.IsInf(last.hi, 1) {
		res = append(res, zeroLike(last.ts, "+Inf"))
	}
	if len(res) == 0 {
		return nil
	}
	acc := make([]float64, len(res[0].values)) // running counts, a series at a time
	for _, ts := range res {
		for i, v := range ts.values {
			if v > 0 {
				acc[i] += v
			}
			ts.values[i] = acc[i]
		}
	}
	return res
}

func tfPrometheusBuckets(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	return vmrangeToLE(tss), nil
}

// tfBucketsLimit keeps at most limit buckets per histogram (at least 3:
// the first and last are kept), merging the adjacent pair with the fewest
// observations over the range until few enough remain; runs of empty
// buckets at either end are dropped first.
func tfBucketsLimit(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	limits, err := ev.evalScalarArg(ec, fe.Args[0], "limit")
	if err != nil {
		return nil, err
	}
	limit := limits[0]
	if isNaN(limit) || limit <= 0 || limit > math.MaxInt32 {
		return nil, errorf(ErrBadArgument, "limit must be a positive integer, got %v", limit)
	}
	lim := max(int(limit), 3)
	tss, err := ev.argSeries(ec, fe, 1)
	if err != nil {
		return nil, err
	}
	tss = vmrangeToLE(tss)
	type lb struct {
		le   float64
		hits float64
		ts   *timeseries
	}
	groups := map[string][]lb{}
	var order []string
	var key []byte
	for _, ts := range tss {
		le, err := strconv.ParseFloat(ts.labels.Get("le"), 64)
		if err != nil {
			continue
		}
		key = appendLabelsKey(key[:0], labelsWithout(ts.labels, "le"))
		if _, ok := groups[string(key)]; !ok {
			order = append(order, string(key))
		}
		groups[string(key)] = append(groups[string(key)], lb{le: le, ts: ts})
	}
	out := make([]*timeseries, 0, len(tss))
	for _, k := range order {
		g := groups[k]
		if len(g) > lim {
			slices.SortStableFunc(g, func(a, b lb) int { return cmpFloat(a.le, b.le) })
			for i := range ec.points() {
				prev := 0.0
				for j := range g {
					v := g[j].ts.values[i]
					g[j].hits += v - prev
					prev = v
				}
			}
			empty := func(h float64) bool { return !isNaN(h) && math.Abs(h) < 1e-9 }
			l, r := 0, len(g)-1
			for r-l+1 > lim && empty(g[r].hits) {
				r--
			}
			for r-l+1 > lim && empty(g[l].hits) {
				l++
			}
			g = g[l : r+1]
			for len(g) > lim {
				at, least := 1, g[1].hits+g[2].hits
				for j := 2; j < len(g)-2; j++ {
					if m := g[j].hits + g[j+1].hits; m < least {
						at, least = j, m
					}
				}
				g[at+1].hits += g[at].hits
				g = slices.Delete(g, at, at+1)
			}
		}
		for _, b := range g {
			out = append(out, b.ts)
		}
	}
	return out, nil
}

// histogramMoments returns the mean and variance of a histogram at step i,
// each bucket's observations taken at its middle; the +Inf bucket is left
// out. Buckets are used as they are (not evened out), as MetricsQL does.
func histogramMoments(h *histogram, i int) (avg, variance float64) {
	var lePrev, vPrev, sum, sum2, total float64
	for _, b := range h.buckets {
		if isInf(b.le) {
			continue
		}
		mid := (b.le + lePrev) / 2
		v := b.ts.values[i]
		w := v - vPrev
		sum += mid * w
		sum2 += mid * mid * w
		total += w
		lePrev, vPrev = b.le, v
	}
	if total == 0 {
		return nan, nan
	}
	avg = sum / total
	return avg, max(0, sum2/total-avg*avg)
}

func tfHistogramAvg(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return histogramEval(ev, ec, fe.Args[0], func(h *histogram, i int, _ []float64) float64 {
		avg, _ := histogramMoments(h, i)
		return avg
	})
}

func tfHistogramStddev(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return histogramEval(ev, ec, fe.Args[0], func(h *histogram, i int, _ []float64) float64 {
		_, v := histogramMoments(h, i)
		return math.Sqrt(v)
	})
}

func tfHistogramStdvar(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return histogramEval(ev, ec, fe.Args[0], func(h *histogram, i int, _ []float64) float64 {
		_, v := histogramMoments(h, i)
		return v
	})
}

// histogramSeries builds one le-bucket series set per group from per-step
// vmrange counts: the result of the histogram aggregation.
func histogramSeries(ls tsdb.Labels, points int, h *vmrHist, byName map[string]*timeseries, order *[]string, i int) {
	h.visit(func(idx int, n float64) {
		name := vmrangeName(idx)
		ts := byName[name]
		if ts == nil {
			ts = &timeseries{labels: setLabel(ls, vmrangeLabel, name), values: make([]float64, points)}
			byName[name] = ts
			*order = append(*order, name)
		}
		ts.values[i] = n
	})
}
