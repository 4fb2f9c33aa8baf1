package query

import "outpost/tsdb"

// cursor buffers the samples of one series between the current window's
// start and one sample past its end.
type cursor struct {
	it           sampleIter
	tit          *tsdb.Iterator // it, when it is a store iterator: read in batches
	ts           []int64
	vs           []float64
	head         int // ts[head:] are live
	done         bool
	pending      bool // it.At() holds a sample not yet buffered (after SeekTo)
	lastT        int64
	hasPrev      bool
	prevT        int64
	prevV        float64
	scanned      int
	removeResets bool
	keepStale    bool
	pre          preState
	// counter-reset removal state
	started          bool
	lastRaw, lastOut float64
	correction       float64
	// args is rollupRunner.run's, kept here so it is not allocated per series.
	args rollupArgs
	// dyn collects a data-dependent rollup's outputs (rollup_dyn.go).
	dyn dynOut
}

// reset prepares c for another series, keeping its buffers.
func (c *cursor) reset(it sampleIter, removeResets, keepStale bool, pre preKind) {
	*c = cursor{it: it, ts: c.ts[:0], vs: c.vs[:0], removeResets: removeResets, keepStale: keepStale, pre: preState{kind: pre}, dyn: c.dyn}
	c.tit, _ = it.(*tsdb.Iterator)
}

// readOne buffers the next usable sample (the next batch of them from a
// store iterator); NaNs are skipped (MetricsQL ignores them), staleness
// markers too unless the rollup wants them.
func (c *cursor) readOne() bool {
	if c.tit != nil {
		return c.readBatch()
	}
	for {
		var t int64
		var v float64
		if c.pending {
			c.pending = false
			t, v = c.it.At()
		} else {
			if !c.it.Next() {
				c.done = true
				return c.pre.kind != preNone && c.preFlush()
			}
			t, v = c.it.At()
		}
		c.lastT = t
		if c.add(t, v) {
			return true
		}
	}
}

// add buffers one sample read from the series, after skipping NaNs,
// removing counter resets and the pre-rewrite; it reports whether anything
// was buffered.
func (c *cursor) add(t int64, v float64) bool {
	if isNaN(v) && (c.removeResets || !c.keepStale || !isStaleNaN(v)) {
		return false
	}
	c.scanned++
	if c.removeResets {
		v = c.correct(v)
	}
	if c.pre.kind != preNone {
		return c.preAdd(t, v)
	}
	c.push(t, v)
	return true
}

// readBatch buffers the usable samples of the store iterator's next batch
// (an epoch's worth), skipping batches that hold none.
func (c *cursor) readBatch() bool {
	for {
		ts, vs, ok := c.tit.NextBatch()
		if !ok {
			c.done = true
			return c.pre.kind != preNone && c.preFlush()
		}
		c.lastT = ts[len(ts)-1]
		if !c.removeResets && c.pre.kind == preNone && !hasNaN(vs) {
			c.compact()
			c.ts, c.vs = append(c.ts, ts...), append(c.vs, vs...)
			c.scanned += len(ts)
			return true
		}
		if c.removeResets && c.pre.kind == preNone {
			// Counters: every NaN is skipped, resets are evened out.
			c.compact()
			n := len(c.ts)
			for i, v := range vs {
				if v == v {
					c.ts, c.vs = append(c.ts, ts[i]), append(c.vs, c.correct(v))
				}
			}
			c.scanned += len(c.ts) - n
			if len(c.ts) > n {
				return true
			}
			continue
		}
		added := false
		for i, v := range vs {
			if c.add(ts[i], v) {
				added = true
			}
		}
		if added {
			return true
		}
	}
}

// hasNaN reports whether vs holds a NaN.
func hasNaN(vs []float64) bool {
	for _, v := range vs {
		if v != v {
			return true
		}
	}
	return false
}

// push appends a sample to the buffer, first dropping the consumed head
// when it has grown large.
func (c *cursor) push(t int64, v float64) {
	c.compact()
	c.ts = append(c.ts, t)
	c.vs = append(c.vs, v)
}

// compact drops the consumed head of the buffer once it is more than half
// of it, so the buffer stays about a window (or a batch) long.
func (c *cursor) compact() {
	if c.head > 1024 && c.head > len(c.ts)/2 {
		n := copy(c.ts, c.ts[c.head:])
		copy(c.vs, c.vs[c.head:])
		c.ts, c.vs, c.head = c.ts[:n], c.vs[:n], 0
	}
}

// correct removes counter resets as MetricsQL does: a drop of more than
// an eighth of the previous value is a reset (the counter restarted from
// zero), a smaller one is jitter and is evened out.
func (c *cursor) correct(v float64) float64 {
	if !c.started {
		c.started = true
		c.lastRaw, c.lastOut = v, v
		return v
	}
	if d := v - c.lastRaw; d < 0 {
		if -d*8 < c.lastRaw {
			c.correction += c.lastRaw - v
		} else {
			c.correction += c.lastRaw
		}
	}
	c.lastRaw = v
	out := v + c.correction
	if out < c.lastOut {
		out = c.lastOut
	}
	c.lastOut = out
	return out
}

// fillN buffers up to n samples.
func (c *cursor) fillN(n int) {
	for len(c.ts) < n && !c.done {
		c.readOne()
	}
}

// fillPast buffers samples until one lies after t or the series ends.
func (c *cursor) fillPast(t int64) {
	for !c.done && (c.head == len(c.ts) || c.ts[len(c.ts)-1] <= t) {
		c.readOne()
	}
}

// dropThrough drops buffered samples at or before t, remembering the last.
func (c *cursor) dropThrough(t int64) {
	for c.head < len(c.ts) && c.ts[c.head] <= t {
		c.hasPrev, c.prevT, c.prevV = true, c.ts[c.head], c.vs[c.head]
		c.head++
	}
}

// seek skips to the first sample at or after t; on a store iterator, to
// the batch holding it.
func (c *cursor) seek(t int64) {
	if c.tit != nil {
		c.tit.SkipTo(t)
		return
	}
	if c.it.SeekTo(t) {
		c.pending = true
	} else {
		c.done = true
	}
}
