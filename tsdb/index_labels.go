package tsdb

// labels returns the labels of series id, and false when there is no such
// series. The slice is new and owned by the caller; its strings are the
// index's interned copies, shared and immutable like every Go string.
// appendLabels avoids the allocation.
func (ix *index) labels(id uint32) (Labels, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.locs.get(id) == 0 {
		return nil, false
	}
	return ix.appendLabelsLocked(nil, id), true
}

// appendLabels appends the labels of series id to dst, reporting false (and
// returning dst unchanged) when there is no such series.
func (ix *index) appendLabels(dst Labels, id uint32) (Labels, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.locs.get(id) == 0 {
		return dst, false
	}
	return ix.appendLabelsLocked(dst, id), true
}

// appendLabelsLocked appends the labels of series id, which exists.
func (ix *index) appendLabelsLocked(dst Labels, id uint32) Labels {
	b := ix.arena.at(ix.locs.get(id))
	n, off := indexNextRef(b, 0)
	dst = indexGrowLabels(dst, int(n))
	strs := ix.syms.strs
	var nr, vr uint32
	for range n {
		nr, off = indexNextRef(b, off)
		vr, off = indexNextRef(b, off)
		dst = append(dst, Label{Name: strs[nr], Value: strs[vr]})
	}
	return dst
}

// indexGrowLabels grows dst so that n more labels fit without reallocation.
func indexGrowLabels(dst Labels, n int) Labels {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	grown := make(Labels, len(dst), len(dst)+n)
	copy(grown, dst)
	return grown
}

// metricID returns a small, stable ID of the metric name of series id: the
// symbol ID of its MetricName value. It returns 0 for an unknown series or
// one without a metric name. Symbol IDs are stable once persisted, so the
// store must persist the index before it writes a metric ID to disk (a
// partition key); until then a crash could renumber the symbols created
// since the last persist, when the WAL replays them in a different order.
func (ix *index) metricID(id uint32) uint32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	v, _ := ix.valueRefLocked(id, ix.nameSym)
	return v
}

// valueRefLocked returns the value symbol of label nameSym of series id, and
// whether the series has that label. mu must be held.
func (ix *index) valueRefLocked(id, nameSym uint32) (uint32, bool) {
	loc := ix.locs.get(id)
	if loc == 0 || nameSym == 0 {
		return 0, false
	}
	b := ix.arena.at(loc)
	n, off := indexNextRef(b, 0)
	var nr, vr uint32
	for range n {
		nr, off = indexNextRef(b, off)
		vr, off = indexNextRef(b, off)
		if nr == nameSym {
			return vr, true
		}
	}
	return 0, false
}

// numSeries returns the number of series in the index.
func (ix *index) numSeries() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.table.n
}

// unpersisted returns the number of series not yet written to index.db.
func (ix *index) unpersisted() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.pending)
}

// sizeBytes returns a rough estimate of the index's memory, for the status
// page: symbols (strings, table and map), label arena, locations, hash
// table and postings.
func (ix *index) sizeBytes() int64 {
	const symEntry = 16 + 40 // slice element, plus map key, value and slack
	ix.mu.RLock()
	n := ix.syms.size + int64(len(ix.syms.strs))*symEntry
	n += ix.arena.size + ix.locs.sizeBytes()
	n += int64(len(ix.table.slots))*8 + int64(cap(ix.pending))*4
	ix.mu.RUnlock()
	ix.pmu.RLock()
	n += ix.post.sizeBytes()
	ix.pmu.RUnlock()
	return n
}
