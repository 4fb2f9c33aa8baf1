package query

import (
	"math"
	"slices"
	"strconv"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// Classic (le-labelled) histogram functions.

// bucket is one cumulative bucket series of a histogram.
type bucket struct {
	le float64
	ts *timeseries
}

// histogram is the buckets of one histogram (one label set less "le"),
// sorted by le, buckets with equal le merged.
type histogram struct {
	labels  tsdb.Labels
	buckets []bucket
}

// groupBuckets groups bucket series into histograms. Series without a
// numeric le label are dropped.
func groupBuckets(tss []*timeseries) []*histogram {
	idx := map[string]*histogram{}
	var out []*histogram
	var key []byte
	for _, ts := range tss {
		le, err := strconv.ParseFloat(ts.labels.Get("le"), 64)
		if err != nil || isNaN(le) {
			continue
		}
		ls := labelsWithout(ts.labels, "le", tsdb.MetricName)
		key = appendLabelsKey(key[:0], ls)
		h := idx[string(key)]
		if h == nil {
			h = &histogram{labels: ls}
			idx[string(key)] = h
			out = append(out, h)
		}
		h.buckets = append(h.buckets, bucket{le: le, ts: ts})
	}
	for _, h := range out {
		slices.SortStableFunc(h.buckets, func(a, b bucket) int { return cmpFloat(a.le, b.le) })
		merged := h.buckets[:0]
		for _, b := range h.buckets {
			if n := len(merged); n > 0 && merged[n-1].le == b.le {
				for i, v := range b.ts.values {
					if !isNaN(v) {
						if isNaN(merged[n-1].ts.values[i]) {
							merged[n-1].ts.values[i] = 0
						}
						merged[n-1].ts.values[i] += v
					}
				}
				continue
			}
			merged = append(merged, b)
		}
		h.buckets = merged
	}
	return out
}

// counts returns the bucket counts at step i, made monotonic: a bucket
// larger than the next, or missing, takes the next one's count.
func (h *histogram) counts(i int, buf []float64) []float64 {
	buf = buf[:0]
	for _, b := range h.buckets {
		buf = append(buf, b.ts.values[i])
	}
	next := math.Inf(1)
	if n := len(buf); n > 0 {
		next = buf[n-1]
	}
	for j := len(buf) - 2; j >= 0; j-- {
		if isNaN(buf[j]) || buf[j] > next {
			buf[j] = next
		} else {
			next = buf[j]
		}
	}
	return buf
}

// quantile returns the phi-quantile at step i by linear interpolation
// inside the bucket that holds it.
func (h *histogram) quantile(phi float64, i int, buf []float64) float64 {
	q, _, _ := h.quantileBounds(phi, i, buf)
	return q
}

// quantileBounds returns the phi-quantile at step i and the bounds of the
// bucket it was interpolated in (histogram_quantile's third argument),
// with VictoriaMetrics' values at the edges.
func (h *histogram) quantileBounds(phi float64, i int, buf []float64) (q, lower, upper float64) {
	if isNaN(phi) || len(h.buckets) == 0 {
		return nan, nan, nan
	}
	cs := h.counts(i, buf)
	last := cs[len(cs)-1]
	if isNaN(last) || last == 0 {
		return nan, nan, nan
	}
	if phi < 0 {
		return math.Inf(-1), math.Inf(-1), cs[0]
	}
	if phi > 1 {
		return math.Inf(1), last, math.Inf(1)
	}
	want := last * phi
	vPrev, lePrev := 0.0, 0.0
	for j, v := range cs {
		le := h.buckets[j].le
		if v <= 0 {
			lePrev = le
			continue
		}
		if v < want {
			vPrev, lePrev = v, le
			continue
		}
		if isInf(le) {
			break
		}
		if v == vPrev {
			return lePrev, lePrev, v
		}
		return lePrev + (le-lePrev)*(want-vPrev)/(v-vPrev), lePrev, le
	}
	for j := len(h.buckets) - 1; j >= 0; j-- {
		if le := h.buckets[j].le; !isInf(le) {
			return le, le, math.Inf(1)
		}
	}
	return nan, nan, math.Inf(1)
}

// share returns the fraction of observations at or below le at step i.
func (h *histogram) share(le float64, i int, buf []float64) float64 {
	if len(h.buckets) == 0 || isNaN(le) {
		return nan
	}
	cs := h.counts(i, buf)
	last := cs[len(cs)-1]
	if isNaN(last) || last == 0 {
		return nan
	}
	if le < 0 {
		return 0
	}
	if math.IsInf(le, 1) {
		return 1
	}
	vPrev, lePrev := 0.0, 0.0
	for j, v := range cs {
		bl := h.buckets[j].le
		if bl == le {
			return v / last
		}
		if bl > le {
			if isInf(bl) {
				return vPrev / last
			}
			return (vPrev + (v-vPrev)*(le-lePrev)/(bl-lePrev)) / last
		}
		vPrev, lePrev = v, bl
	}
	return 1
}

// histogramEval evaluates the buckets argument and the per-step scalar
// parameters of a histogram function, then builds one series per
// histogram from f.
func histogramEval(ev *evaluator, ec *evalConfig, bucketsArg metricsql.Expr, f func(h *histogram, i int, buf []float64) float64) ([]*timeseries, error) {
	tss, err := ev.eval(ec, bucketsArg)
	if err != nil {
		return nil, err
	}
	tss = vmrangeToLE(tss)
	var out []*timeseries
	var buf []float64
	for _, h := range groupBuckets(tss) {
		res, err := ev.newSeries(ec)
		if err != nil {
			return nil, err
		}
		res.labels = h.labels
		for i := range res.values {
			res.values[i] = f(h, i, buf)
		}
		out = append(out, res)
	}
	return out, nil
}

func tfHistogramQuantile(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	phis, err := ev.evalScalarArg(ec, fe.Args[0], "phi")
	if err != nil {
		return nil, err
	}
	if len(fe.Args) < 3 {
		return histogramEval(ev, ec, fe.Args[1], func(h *histogram, i int, buf []float64) float64 {
			return h.quantile(phis[i], i, buf)
		})
	}
	// A bounds label: each result comes with two series more, labelled
	// lower and upper, holding the bounds of the bucket interpolated in.
	label, err := evalStringArg(fe.Args[2], "bounds label")
	if err != nil {
		return nil, err
	}
	if err := checkLabelName(label); err != nil {
		return nil, err
	}
	tss, err := ev.eval(ec, fe.Args[1])
	if err != nil {
		return nil, err
	}
	var out []*timeseries
	var buf []float64
	for _, h := range groupBuckets(vmrangeToLE(tss)) {
		var three [3]*timeseries
		for k := range three {
			if three[k], err = ev.newSeries(ec); err != nil {
				return nil, err
			}
		}
		q, lo, hi := three[0], three[1], three[2]
		q.labels, lo.labels, hi.labels = h.labels, setLabel(h.labels, label, "lower"), setLabel(h.labels, label, "upper")
		for i := range q.values {
			q.values[i], lo.values[i], hi.values[i] = h.quantileBounds(phis[i], i, buf)
		}
		out = append(out, q, lo, hi)
	}
	return out, nil
}

func tfHistogramQuantiles(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	label, err := evalStringArg(fe.Args[0], "label name")
	if err != nil {
		return nil, err
	}
	var out []*timeseries
	for _, a := range fe.Args[1 : len(fe.Args)-1] {
		phis, err := ev.evalScalarArg(ec, a, "phi")
		if err != nil {
			return nil, err
		}
		tss, err := histogramEval(ev, ec, fe.Args[len(fe.Args)-1], func(h *histogram, i int, buf []float64) float64 {
			return h.quantile(phis[i], i, buf)
		})
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			ts.labels = setLabel(ts.labels, label, FormatValue(phis[0]))
		}
		out = append(out, tss...)
	}
	return out, nil
}

func tfHistogramShare(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	les, err := ev.evalScalarArg(ec, fe.Args[0], "le")
	if err != nil {
		return nil, err
	}
	return histogramEval(ev, ec, fe.Args[1], func(h *histogram, i int, buf []float64) float64 {
		return h.share(les[i], i, buf)
	})
}

func tfHistogramFraction(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	los, err := ev.evalScalarArg(ec, fe.Args[0], "lower")
	if err != nil {
		return nil, err
	}
	his, err := ev.evalScalarArg(ec, fe.Args[1], "upper")
	if err != nil {
		return nil, err
	}
	if len(fe.Args) != 3 {
		return nil, errorf(ErrArgCount, "histogram_fraction takes lower, upper, buckets")
	}
	return histogramEval(ev, ec, fe.Args[2], func(h *histogram, i int, buf []float64) float64 {
		return h.share(his[i], i, buf) - h.share(los[i], i, buf)
	})
}
