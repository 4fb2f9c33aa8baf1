package tsdb

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"

	"outpost/tsdb/chunkenc"
)

// statsCache remembers the figures of flush buckets already counted. The
// zero value is ready; mu is held for a whole Stats call, so one scan runs
// at a time.
type statsCache struct {
	mu      sync.Mutex
	flushes map[flushRef]flushFigures
	days    map[string]dayFigures // by file path
}

// flushRef names a flush bucket: its file and bucket name.
type flushRef struct {
	path string
	name string
}

// flushFigures are one flush bucket's figures; sum is the CRC32C of its
// meta, which changes when the bucket is rewritten (a salvage). series
// (the chunks its meta lists) is known at once; chunks, samples and
// chunkSize once counted is set.
type flushFigures struct {
	sum                uint32
	mint, maxt         int64
	series, chunks     int64
	samples, chunkSize int64
	counted            bool
}

// dayFigures remembers a day's series count for the set of buckets
// (their sums, combined) it was computed from.
type dayFigures struct {
	sig    uint64
	series int
}

// dayStats fills st.Days and the flush figures, counting what the cache
// lacks within the budget.
func (db *DB) dayStats(ctx context.Context, st *Stats, sizes map[string]int64, budget int) error {
	c := &db.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flushes == nil {
		c.flushes, c.days = make(map[flushRef]flushFigures), make(map[string]dayFigures)
	}
	damage := make(map[string]string)
	for _, f := range st.Damaged {
		damage[f.Path] = f.Reason
	}
	parts := db.parts.sorted()
	slices.Reverse(parts)
	seen := make(map[flushRef]bool)
	seenDays := make(map[string]bool)
	var errs []error
	for _, p := range parts {
		ds, err := c.day(ctx, p, seen, &budget)
		if err != nil {
			errs = append(errs, fmt.Errorf("read figures of %q: %w", p.path, err))
		}
		seenDays[p.path] = true
		ds.Bytes, ds.Damage = sizes[p.path], damage[p.path]
		st.Days = append(st.Days, ds)
		st.DayBytes += ds.Bytes
		st.Flushes += ds.Flushes
		st.FlushesCounted += ds.FlushesCounted
		st.Samples += ds.Samples
		st.ChunkBytes += ds.ChunkBytes
		st.Chunks += ds.chunks
		st.UncountedChunks += ds.uncounted
		st.countedMs += ds.countedMs
		st.uncountedMs += ds.uncountedMs
		if !ds.MinTime.IsZero() {
			widen(st, ds.MinTime.UnixMilli(), ds.MaxTime.UnixMilli())
		}
	}
	for ref := range c.flushes { // files deleted by retention, buckets rewritten
		if !seen[ref] {
			delete(c.flushes, ref)
		}
	}
	for path := range c.days {
		if !seenDays[path] {
			delete(c.days, path)
		}
	}
	return errors.Join(errs...)
}

// statsBucket is a flush bucket as listed by day: its name and meta.
type statsBucket struct {
	name string
	meta []byte // copied out of the transaction
	sum  uint32
}

// day returns the figures of one day file: it lists the flush buckets and
// their metas in one short read transaction, then counts each bucket the
// cache lacks in a transaction of its own (so a flush into the file never
// waits long for a reader), while budget and ctx allow.
func (c *statsCache) day(ctx context.Context, p *partition, seen map[flushRef]bool, budget *int) (DayStats, error) {
	ds := DayStats{Day: time.UnixMilli(p.day).UTC(), Path: p.path}
	var buckets []statsBucket
	err := p.statsView(&ds.Sealed, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if _, _, ok := parseBucketName(name); !ok {
				return nil
			}
			mv := b.Get(metaKey)
			if mv == nil {
				return nil // a flush being written, or one that crashed
			}
			buckets = append(buckets, statsBucket{name: string(name), meta: slices.Clone(mv), sum: crc32.Checksum(mv, castagnoli)})
			return nil
		})
	})
	if err != nil {
		return ds, err
	}
	mint, maxt := int64(maxTime), int64(minTime)
	var sig uint64
	metas := make([]*flushMeta, len(buckets))
	for i, b := range buckets {
		ref := flushRef{p.path, b.name}
		seen[ref] = true
		sig = sig*31 + uint64(b.sum) + 1
		f, ok := c.flushes[ref]
		if !ok || f.sum != b.sum {
			m, err := unmarshalFlushMeta(b.meta)
			if err != nil {
				continue // reads report and skip it as well
			}
			metas[i] = m
			f = flushFigures{sum: b.sum, mint: m.mint, maxt: m.maxt, series: int64(m.ids.GetCardinality())}
		}
		if !f.counted && *budget > 0 && ctx.Err() == nil {
			n, err := p.countFlush([]byte(b.name), &f)
			if err != nil {
				return ds, err
			}
			*budget -= n
		}
		c.flushes[ref] = f
		ds.Flushes++
		if f.counted {
			ds.FlushesCounted++
			ds.Samples += f.samples
			ds.ChunkBytes += f.chunkSize
			ds.chunks += f.chunks
			ds.countedMs += float64(f.chunks) * float64(f.maxt-f.mint+1)
		} else {
			ds.uncounted += f.series
			ds.uncountedMs += float64(f.series) * float64(f.maxt-f.mint+1)
		}
		mint, maxt = min(mint, f.mint), max(maxt, f.maxt)
	}
	if mint <= maxt {
		ds.MinTime, ds.MaxTime = time.UnixMilli(mint).UTC(), time.UnixMilli(maxt).UTC()
	}
	ds.Series = c.daySeries(p.path, sig, buckets, metas)
	return ds, nil
}

// countFlush counts the samples and chunk bytes of one flush bucket into f
// from the chunk headers, and returns the number of chunks read. A chunk
// whose header does not decode is left out (reads report it).
func (p *partition) countFlush(name []byte, f *flushFigures) (int, error) {
	var chunks int
	err := p.statsView(nil, func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil // gone since it was listed (a salvage)
		}
		v2 := false
		if m, err := unmarshalFlushMeta(b.Get(metaKey)); err == nil {
			v2 = m.version == flushMetaV2
		}
		cur := b.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if len(k) != 8 {
				continue // the meta
			}
			chunk := v
			if v2 {
				if len(v) < 4 {
					continue
				}
				chunk = v[:len(v)-4]
			}
			n, err := chunkenc.Count(chunk)
			if err != nil {
				continue
			}
			chunks++
			f.chunks++
			f.samples += int64(n)
			f.chunkSize += int64(len(v))
		}
		f.counted = true
		return nil
	})
	return chunks, err
}

// statsView runs fn in a read transaction of p, unless p was closed
// (retention) or found broken; it sets *sealed, when not nil, to whether
// p is open read-only.
func (p *partition) statsView(sealed *bool, fn func(tx *bolt.Tx) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil || p.broken.Load() {
		return nil
	}
	if sealed != nil {
		*sealed = p.readOnly
	}
	err := p.view(fn)
	if isBoltPanic(err) { // as reads do: skip the file from now on
		p.broken.Store(true)
		p.dmg.fileBroken(p.path, err)
	}
	return err
}

// daySeries returns the number of series with samples in the day file at
// path: remembered while its buckets (sig) are unchanged, else the union
// of the series of their metas (those not decoded yet are decoded now).
func (c *statsCache) daySeries(path string, sig uint64, buckets []statsBucket, metas []*flushMeta) int {
	if d, ok := c.days[path]; ok && d.sig == sig {
		return d.series
	}
	bms := make([]*roaring.Bitmap, 0, len(buckets))
	for i, b := range buckets {
		m := metas[i]
		if m == nil {
			var err error
			if m, err = unmarshalFlushMeta(b.meta); err != nil {
				continue
			}
		}
		bms = append(bms, m.ids)
	}
	n := 0
	if len(bms) > 0 {
		n = int(roaring.FastOr(bms...).GetCardinality())
	}
	c.days[path] = dayFigures{sig: sig, series: n}
	return n
}
