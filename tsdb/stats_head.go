package tsdb

import "slices"

// HeadStats are the head's figures for Prometheus' /api/v1/status/tsdb.
type HeadStats struct {
	Series  int   // series with a chunk in the head
	Chunks  int   // head chunks, open and being flushed
	Samples int64 // samples in those chunks, late ones included
	MinTime int64 // oldest sample in the head (ms); 0 when it is empty
	MaxTime int64 // newest sample in the head (ms); 0 when it is empty
}

// HeadStats counts the head's series and chunks and its time span.
func (db *DB) HeadStats() HeadStats {
	var hs HeadStats
	mint, maxt := int64(maxTime), int64(minTime)
	for _, page := range *db.head.pages.Load() {
		for i := range page {
			s := page[i].Load()
			if s == nil {
				continue
			}
			s.mu.Lock()
			if len(s.chunks) > 0 {
				hs.Series++
				hs.Chunks += len(s.chunks)
			}
			for _, c := range s.chunks {
				hs.Samples += int64(c.xor.Len() + len(c.ooo))
				if c.xor.Len() > 0 {
					mint, maxt = min(mint, c.xor.MinT()), max(maxt, c.xor.MaxT())
				}
				for _, o := range c.ooo {
					mint, maxt = min(mint, o.T), max(maxt, o.T)
				}
			}
			s.mu.Unlock()
		}
	}
	db.head.mu.Lock()
	jobs := slices.Clone(db.head.flushing)
	db.head.mu.Unlock()
	for _, j := range jobs {
		hs.Chunks += len(j.chunks)
		for _, c := range j.chunks {
			hs.Samples += int64(c.xor.Len() + len(c.ooo))
			if c.xor.Len() > 0 {
				mint, maxt = min(mint, c.xor.MinT()), max(maxt, c.xor.MaxT())
			}
		}
	}
	if mint <= maxt {
		hs.MinTime, hs.MaxTime = mint, maxt
	}
	return hs
}
