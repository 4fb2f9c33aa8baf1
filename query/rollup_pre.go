package query

// preKind names a rewrite of a series' values that MetricsQL applies to
// the whole series before cutting windows: the rollup_delta, rollup_deriv
// and rollup_scrape_interval families summarise these values rather than
// the raw samples.
type preKind uint8

const (
	preNone     preKind = iota
	preDelta            // at sample i: v[i+1]-v[i]; the last sample repeats the one before (0 if alone)
	preDeriv            // preDelta per second of t[i+1]-t[i]
	preInterval         // at sample i: t[i]-t[i-1] in seconds; the first repeats the second
)

// preState is the cursor's state for a preKind: the sample held back
// until its neighbour is known.
type preState struct {
	kind    preKind
	held    bool
	heldT   int64
	heldV   float64
	lastPre float64 // the last value given (preDelta, preDeriv)
	first   bool    // the held sample is the series' first (preInterval)
}

// preAdd feeds the next usable sample to the rewrite and buffers what it
// gives; it reports whether anything was buffered.
func (c *cursor) preAdd(t int64, v float64) bool {
	p := &c.pre
	switch p.kind {
	case preDelta, preDeriv:
		pushed := false
		if p.held {
			d := v - p.heldV
			if p.kind == preDeriv {
				d /= float64(t-p.heldT) / 1e3
			}
			c.push(p.heldT, d)
			p.lastPre, pushed = d, true
		}
		p.held, p.heldT, p.heldV = true, t, v
		return pushed
	default: // preInterval
		if !p.held {
			p.held, p.heldT, p.first = true, t, true
			return false
		}
		d := float64(t-p.heldT) / 1e3
		if p.first {
			c.push(p.heldT, d)
			p.first = false
		}
		c.push(t, d)
		p.heldT = t
		return true
	}
}

// preFlush buffers the sample held back at the end of the series; it
// reports whether anything was buffered.
func (c *cursor) preFlush() bool {
	p := &c.pre
	if !p.held {
		return false
	}
	p.held = false
	if p.kind == preInterval {
		return false // an interval needs two samples; a lone one has none
	}
	c.push(p.heldT, p.lastPre)
	return true
}
