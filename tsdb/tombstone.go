package tsdb

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// Tombstones record deleted data: series IDs and a time range, applied
// at read time to head chunks, flush jobs and day files alike, so deleted
// samples never come back through WAL replay or a flush. They are kept in
// index.db's bucket "tombstones" (absent until the first delete), one key
// per delete in ascending sequence order (append-only, like the index):
//
//	key   uint64 sequence, big endian
//	value varint mint, varint maxt, portable roaring bitmap of series IDs
//
// A delete's range ends at the time it ran (see DB.DeleteSeries), so data
// written afterwards with newer timestamps is visible, as in Prometheus.
const indexBucketTombstones = "tombstones"

// tombstone is one delete: the samples of ids in [mint, maxt].
type tombstone struct {
	seq        uint64 // its key in index.db (and in day files, tombstone_days.go)
	ids        *roaring.Bitmap
	mint, maxt int64
}

// interval is an inclusive time range of deleted samples.
type interval struct{ mint, maxt int64 }

// tombstones is the store's set of deletes, loaded at open.
type tombstones struct {
	mu    sync.RWMutex
	list  []tombstone
	any   *roaring.Bitmap // union of every tombstone's ids
	next  uint64          // sequence of the next delete
	empty bool            // no tombstone: the read paths skip every check
}

func newTombstones() *tombstones { return &tombstones{any: roaring.New(), empty: true} }

// loadTombstones reads the tombstones bucket of index.db, if any.
func (ix *index) loadTombstones(ts *tombstones) error {
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return ErrClosed
	}
	return ix.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(indexBucketTombstones))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			t, err := decodeTombstone(v)
			if err != nil || len(k) != 8 {
				return fmt.Errorf("tombstone %x: corrupt: %v", k, err)
			}
			t.seq = binary.BigEndian.Uint64(k)
			ts.add(t)
			ts.next = max(ts.next, binary.BigEndian.Uint64(k)+1)
			return nil
		})
	})
}

// putTombstone appends t to index.db and syncs it.
func (ix *index) putTombstone(seq uint64, t tombstone) error {
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return ErrClosed
	}
	v, err := encodeTombstone(t)
	if err != nil {
		return err
	}
	return ix.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(indexBucketTombstones))
		if err != nil {
			return err
		}
		b.FillPercent = 1
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), v)
	})
}

func encodeTombstone(t tombstone) ([]byte, error) {
	b := binary.AppendVarint(nil, t.mint)
	b = binary.AppendVarint(b, t.maxt)
	bm, err := t.ids.ToBytes()
	if err != nil {
		return nil, err
	}
	return append(b, bm...), nil
}

func decodeTombstone(v []byte) (tombstone, error) {
	mint, n := binary.Varint(v)
	if n <= 0 {
		return tombstone{}, errors.New("bad mint")
	}
	maxt, m := binary.Varint(v[n:])
	if m <= 0 {
		return tombstone{}, errors.New("bad maxt")
	}
	ids := roaring.New()
	if _, err := ids.FromBuffer(slices.Clone(v[n+m:])); err != nil {
		return tombstone{}, err
	}
	return tombstone{ids: ids, mint: mint, maxt: maxt}, nil
}

func (ts *tombstones) add(t tombstone) {
	ts.list = append(ts.list, t)
	ts.any.Or(t.ids)
	ts.empty = false
}

// has reports whether the tombstone seq is loaded. The caller holds ts.mu.
func (ts *tombstones) has(seq uint64) bool {
	return slices.ContainsFunc(ts.list, func(t tombstone) bool { return t.seq == seq })
}

// get returns the tombstone seq, if it is loaded.
func (ts *tombstones) get(seq uint64) (tombstone, bool) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for _, t := range ts.list {
		if t.seq == seq {
			return t, true
		}
	}
	return tombstone{}, false
}

// snapshot returns the tombstones in sequence order. Their bitmaps are
// shared: a tombstone is never changed once added.
func (ts *tombstones) snapshot() []tombstone {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := slices.Clone(ts.list)
	slices.SortFunc(out, func(a, b tombstone) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// remove forgets the tombstone seq (its data is gone from every file).
func (ts *tombstones) remove(seq uint64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.list = slices.DeleteFunc(ts.list, func(t tombstone) bool { return t.seq == seq })
	ts.any = roaring.New()
	for _, t := range ts.list {
		ts.any.Or(t.ids)
	}
	ts.empty = len(ts.list) == 0
}

// deleteTombstone removes tombstone seq from index.db and syncs it.
func (ix *index) deleteTombstone(seq uint64) error {
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return ErrClosed
	}
	return ix.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(indexBucketTombstones))
		if b == nil {
			return nil
		}
		return b.Delete(binary.BigEndian.AppendUint64(nil, seq))
	})
}

// intervals appends to dst the deleted ranges of series id that overlap
// [mint, maxt], sorted and merged.
func (ts *tombstones) intervals(dst []interval, id uint32, mint, maxt int64) []interval {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if ts.empty || !ts.any.Contains(id) {
		return dst
	}
	n := len(dst)
	for _, t := range ts.list {
		if t.mint <= maxt && t.maxt >= mint && t.ids.Contains(id) {
			dst = append(dst, interval{t.mint, t.maxt})
		}
	}
	if len(dst)-n < 2 {
		return dst
	}
	iv := dst[n:]
	slices.SortFunc(iv, func(a, b interval) int { return cmpInt64(a.mint, b.mint) })
	out := iv[:1]
	for _, x := range iv[1:] {
		last := &out[len(out)-1]
		if x.mint <= last.maxt {
			last.maxt = max(last.maxt, x.maxt)
			continue
		}
		out = append(out, x)
	}
	return dst[:n+len(out)]
}

// touched returns the IDs of ids that have a tombstone, nil when none.
func (ts *tombstones) touched(ids *roaring.Bitmap) *roaring.Bitmap {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if ts.empty || !ids.Intersects(ts.any) {
		return nil
	}
	return roaring.And(ids, ts.any)
}

// covers reports whether ivs (sorted, merged) cover all of [mint, maxt].
func covers(ivs []interval, mint, maxt int64) bool {
	for _, iv := range ivs {
		if iv.mint <= mint && iv.maxt >= maxt {
			return true
		}
	}
	return false
}

// deleted reports whether t is in one of the series' deleted intervals.
// The iterator only moves forward, so intervals before t are passed for
// good: a sample costs O(1) whatever the number of tombstones.
func (it *Iterator) deleted(t int64) bool {
	ivs := it.d.dels
	for it.di < len(ivs) && ivs[it.di].maxt < t {
		it.di++
	}
	return it.di < len(ivs) && ivs[it.di].mint <= t
}

// dropDeleted removes from ts, vs (in time order, after every sample the
// iterator gave before) the deleted samples, in place.
func (it *Iterator) dropDeleted(ts []int64, vs []float64) ([]int64, []float64) {
	k := 0
	for i, t := range ts {
		if it.deleted(t) {
			continue
		}
		ts[k], vs[k] = t, vs[i]
		k++
	}
	return ts[:k], vs[:k]
}
