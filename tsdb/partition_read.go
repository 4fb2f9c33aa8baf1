package tsdb

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// partChunk is one chunk read from a partition.
type partChunk struct {
	start int64 // epoch
	seq   uint16
	data  []byte // copied out of the transaction, its CRC checked and cut off
}

// view runs fn in a read transaction. The file's structure was checked
// when it was opened (checkBoltFile), but a page can go bad later: a bbolt
// panic, or a fault reading its mapping, becomes an error here instead of
// ending the process.
func (p *partition) view(fn func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errBoltPanic, r)
		}
	}()
	return p.db.View(fn)
}

// eachFlush calls fn, in (epoch, seq) order, for every complete flush
// bucket whose samples overlap [mint, maxt], inside one read transaction.
// A bucket whose meta fails its checksum is skipped and reported; a file
// bbolt cannot read is marked broken and skipped from then on, so that
// every other day keeps serving.
func (p *partition) eachFlush(mint, maxt int64, fn func(start int64, seq uint16, b *bolt.Bucket, meta *flushMeta) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil || p.broken.Load() {
		return nil
	}
	err := p.view(func(tx *bolt.Tx) error {
		c := tx.Cursor()
		for k, _ := c.Seek(epochKey(epochOf(max(mint, p.day)))); k != nil; k, _ = c.Next() {
			start, seq, ok := parseBucketName(k)
			if !ok {
				continue
			}
			if start > maxt {
				break
			}
			b := tx.Bucket(k)
			if b == nil {
				continue
			}
			mv := b.Get(metaKey)
			if mv == nil {
				continue // a flush still being written
			}
			meta, err := unmarshalFlushMeta(mv)
			if err == nil {
				err = meta.checkName(start, seq)
			}
			if err != nil {
				p.dmg.corruptRecord(p.path, k, metaKey, err)
				continue
			}
			if meta.maxt < mint || meta.mint > maxt {
				continue
			}
			if err := fn(start, seq, b, meta); err != nil {
				return err
			}
		}
		return nil
	})
	if isBoltPanic(err) {
		p.broken.Store(true)
		p.dmg.fileBroken(p.path, err)
		return nil
	}
	return err
}

// read appends to out, for every id in want, copies of the chunks of
// buckets whose samples overlap [mint, maxt], in (epoch, seq) order (see
// readChunks).
func (p *partition) read(mint, maxt int64, want *roaring.Bitmap, metricOf func(uint32) uint32, out map[uint32][]partChunk) error {
	ids := want.ToArray()
	return p.readChunks(mint, maxt, ids, want, metricOf, func(i int, start int64, seq uint16, chunk []byte) {
		out[ids[i]] = append(out[ids[i]], partChunk{start: start, seq: seq, data: slices.Clone(chunk)})
	})
}

// readChunks calls fn, for every series ids[i] (ascending, the members of
// want) with a chunk in a bucket whose samples overlap [mint, maxt], with
// i and that chunk, in (epoch, seq) order. The chunk is the store's memory,
// valid only during the call: fn copies what it keeps. A chunk whose CRC
// does not match is left out, counted and logged with the file: an error
// for that chunk, never a wrong value.
//
// One cursor per bucket walks the keys in order, stepping to a nearby key
// and seeking a far one, as the sizing pass (chunkSizes) does: Bucket.Get
// allocates a cursor and searches from the root for every key.
func (p *partition) readChunks(mint, maxt int64, ids []uint32, want *roaring.Bitmap, metricOf func(uint32) uint32,
	fn func(i int, start int64, seq uint16, chunk []byte)) error {
	var key [8]byte
	return p.eachFlush(mint, maxt, func(start int64, seq uint16, b *bolt.Bucket, meta *flushMeta) error {
		var name []byte
		c := b.Cursor()
		var k, v []byte
		i := 0
		for it := roaring.And(meta.ids, want).Iterator(); it.HasNext(); {
			id := it.Next()
			for i < len(ids) && ids[i] < id {
				i++
			}
			if i == len(ids) || ids[i] != id {
				continue // not in ids: want and ids disagree
			}
			wk := uint64(metricOf(id))<<32 | uint64(id)
			for step := 0; k != nil && step < maxSizeSteps && keyBefore(k, wk); step++ {
				k, v = c.Next()
			}
			if k == nil || len(k) != 8 || binary.BigEndian.Uint64(k) != wk {
				binary.BigEndian.PutUint64(key[:], wk)
				k, v = c.Seek(key[:])
			}
			if name == nil {
				name = bucketName(start, seq)
			}
			if v == nil || len(k) != 8 || binary.BigEndian.Uint64(k) != wk {
				// The meta lists the series, so its chunk was written: its
				// key is damaged (or out of order, hiding it from the search).
				p.dmg.corruptRecord(p.path, name, key[:], errMissingChunk)
				continue
			}
			chunk := v
			if meta.version >= flushMetaV2 {
				var err error
				if chunk, err = verifyChunk(name, k, v); err != nil {
					p.dmg.corruptRecord(p.path, name, k, err)
					continue
				}
			}
			fn(i, start, seq, chunk)
		}
		return nil
	})
}

// seriesIn adds to acc the series of the buckets whose samples overlap
// [mint, maxt].
func (p *partition) seriesIn(mint, maxt int64, acc *roaring.Bitmap) error {
	return p.eachFlush(mint, maxt, func(_ int64, _ uint16, _ *bolt.Bucket, meta *flushMeta) error {
		acc.Or(meta.ids)
		return nil
	})
}

// eachLabelBlock calls fn for every block of the series or symbols bucket
// that passes its checksum, and bad for every other. The caller must not
// hold p.mu.
func (p *partition) eachLabelBlock(bucket []byte, fn func(kind byte, es []labelEntry) error, bad func(key []byte, err error)) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return nil
	}
	err := p.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			kind, es, err := decodeLabelBlock(k, v)
			if err != nil {
				bad(k, err)
				continue
			}
			if err := fn(kind, es); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s of %q: %w", bucket, p.path, err)
	}
	return nil
}

// loadSymbols learns, once, which symbols the file holds, before labels
// are first written to it. The caller must not hold p.mu.
func (p *partition) loadSymbols() error {
	p.lmu.Lock()
	loaded := p.syms != nil
	p.lmu.Unlock()
	if loaded {
		return nil
	}
	syms := roaring.New()
	err := p.eachLabelBlock(symbolsBucket, func(_ byte, es []labelEntry) error {
		for _, e := range es {
			syms.Add(e.id)
		}
		return nil
	}, func(key []byte, err error) { p.dmg.corruptRecord(p.path, symbolsBucket, key, err) })
	if err != nil {
		return err
	}
	p.lmu.Lock()
	p.syms = syms
	p.lmu.Unlock()
	return nil
}
