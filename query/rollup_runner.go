package query

import (
	"math"
	"slices"

	"outpost/tsdb"
)

// rollupArgs is what a rollup function sees at one step: the samples of
// the window (tEnd-window, tEnd], and the samples around it.
type rollupArgs struct {
	values     []float64 // window samples, oldest first
	timestamps []int64
	prevValue  float64 // last sample before the window if close enough, else NaN
	prevT      int64   // its time; tStart-maxPrev when there is none
	realPrev   float64 // last sample before the window at any distance, else NaN
	realNext   float64 // first sample after the window, else NaN
	currT      int64   // the step's time (after offset)
	window     int64   // the window length in ms
	idx        int     // the step's index, for per-step parameters
	dyn        *dynOut // the series' outputs, for data-dependent rollups (rollup_dyn.go)
}

// rollupFunc computes one value from one window; NaN means no value.
type rollupFunc func(a *rollupArgs) float64

// rollupOutput is one result series of a rollup: most have one; rollup()
// and quantiles_over_time() have several, told apart by a label.
type rollupOutput struct {
	label, value string // added label, none when label is ""
	f            rollupFunc
}

// rollupRunner applies one rollup to series, one at a time. It is
// read-only once built, so workers share it.
type rollupRunner struct {
	spec      *rollupSpec
	outs      []rollupOutput
	grid      []int64 // step times, shifted by the offset
	end       int64   // the query's end, shifted: samples are read up to it
	window    int64   // explicit window, 0 when implicit
	step      int64
	lookback  int64 // LookbackDelta in ms, 0 for none
	isDefault bool
	// windowOnly: the rollup reads only its explicit window, so the series
	// need not be read before the first one.
	windowOnly bool
	keepName   bool
	// dynLabel is the label telling a data-dependent rollup's outputs
	// apart (rollup_dyn.go); "" for the others.
	dynLabel string
}

// outputLabels returns the labels of output o for an input series.
func (rr *rollupRunner) outputLabels(ls tsdb.Labels, o rollupOutput) tsdb.Labels {
	if !rr.keepName {
		ls = dropName(ls)
	}
	if o.label != "" {
		ls = setLabel(ls, o.label, o.value)
	}
	return ls
}

// run computes every output at every step for the series read from it,
// writing dst[k][i]. It returns the number of samples it read. Windows are
// found by moving forward: samples before a window are dropped, gaps are
// skipped with SeekTo, and no sample is read twice.
func (rr *rollupRunner) run(it sampleIter, dst [][]float64, c *cursor) (int, error) {
	c.reset(it, rr.spec.removeResets, rr.spec.keepStale, rr.spec.pre)
	c.fillN(21)
	maxPrev := maxPrevInterval(scrapeInterval(c.ts, rr.step))
	if rr.isDefault && len(rr.grid) == 1 {
		// An instant vector's lookback is the step itself, (t-step, t],
		// not widened to a sparse series' interval (current MetricsQL;
		// Prometheus' 5m lookback at the default instant step).
		maxPrev = rr.step
	}
	if rr.lookback > 0 && maxPrev > rr.lookback {
		maxPrev = rr.lookback
	}
	window := rr.window
	if window <= 0 {
		window = rr.step
		if rr.spec.adjustWindow && window < maxPrev {
			window = maxPrev
		}
		if rr.isDefault && rr.lookback > 0 && window > rr.lookback {
			window = rr.lookback
		}
	}
	canSeek := !rr.spec.removeResets && !rr.spec.noSeek
	a := &c.args // the cursor's, so that the call through o.f allocates none per series
	*a = rollupArgs{window: window}
	if rr.dynLabel != "" {
		c.dyn.reset(len(rr.grid))
		a.dyn = &c.dyn
	}
	for i, tEnd := range rr.grid {
		tStart := tEnd - window
		c.dropThrough(tStart)
		if canSeek && c.head == len(c.ts) && !c.done && c.lastT < tStart-maxPrev {
			c.seek(tStart - maxPrev + 1)
		}
		c.fillPast(tEnd)
		c.dropThrough(tStart)
		// The buffer ends past tEnd by up to a batch: find the window's end.
		j := len(c.ts)
		if j > c.head && c.ts[j-1] > tEnd {
			k, _ := slices.BinarySearch(c.ts[c.head:j], tEnd+1)
			j = c.head + k
		}
		a.values, a.timestamps = c.vs[c.head:j], c.ts[c.head:j]
		a.prevValue, a.prevT = nan, tStart-maxPrev
		if c.hasPrev && c.head < len(c.ts) && c.prevT > tStart-maxPrev {
			a.prevValue, a.prevT = c.prevV, c.prevT
		}
		a.realPrev, a.realNext = nan, nan
		if c.hasPrev {
			a.realPrev = c.prevV
		}
		if j < len(c.ts) {
			a.realNext = c.vs[j]
		}
		a.currT, a.idx = tEnd, i
		for k, o := range rr.outs {
			dst[k][i] = o.f(a)
		}
	}
	return c.scanned, c.it.Err()
}

// scrapeInterval estimates a series' sample interval as MetricsQL does:
// the 0.6 quantile of its first 20 intervals; def when there are fewer
// than two samples.
func scrapeInterval(ts []int64, def int64) int64 {
	if len(ts) < 2 {
		return def
	}
	n := min(len(ts)-1, 20)
	var buf [20]float64 // on the stack: this runs once per series
	iv := buf[:n]
	for i := range n {
		iv[i] = float64(ts[i+1] - ts[i])
	}
	slices.Sort(iv)
	si := int64(quantileSorted(0.6, iv))
	if si <= 0 {
		return def
	}
	return si
}

// maxPrevInterval is how far before a window the previous sample may lie:
// the scrape interval plus a margin that shrinks as the interval grows,
// so jitter does not open gaps.
func maxPrevInterval(si int64) int64 {
	switch {
	case si <= 2000:
		return si + 4*si
	case si <= 4000:
		return si + 2*si
	case si <= 8000:
		return si + si
	case si <= 16000:
		return si + si/2
	case si <= 32000:
		return si + si/4
	}
	return si + si/8
}

// quantileSorted returns the phi-quantile of sorted values by linear
// interpolation between closest ranks (Prometheus' and MetricsQL's rule).
func quantileSorted(phi float64, vs []float64) float64 {
	if len(vs) == 0 || isNaN(phi) {
		return nan
	}
	if phi < 0 {
		return math.Inf(-1)
	}
	if phi > 1 {
		return math.Inf(1)
	}
	n := float64(len(vs))
	rank := phi * (n - 1)
	lo := math.Max(0, math.Floor(rank))
	hi := math.Min(n-1, lo+1)
	w := rank - math.Floor(rank)
	return vs[int(lo)]*(1-w) + vs[int(hi)]*w
}
