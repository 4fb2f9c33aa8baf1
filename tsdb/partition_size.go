package tsdb

import (
	"encoding/binary"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// chunkSizes calls add, for every id in want, with the stored size of
// each of its chunks in buckets whose samples overlap [mint, maxt]: the
// length of the bbolt value, read without copying it. It is the sizing
// half of read (partition.go), which a SeriesSet calls first so that it
// can take the bytes from its budget before read copies them. One cursor
// per bucket walks the keys in order, stepping to a nearby key and seeking
// a far one (Bucket.Get allocates a cursor and searches from the root).
func (p *partition) chunkSizes(mint, maxt int64, want *roaring.Bitmap, metricOf func(uint32) uint32, add func(id uint32, n int)) error {
	var key [8]byte
	return p.eachFlush(mint, maxt, func(_ int64, _ uint16, b *bolt.Bucket, meta *flushMeta) error {
		c := b.Cursor()
		var k, v []byte
		ids := roaring.And(meta.ids, want)
		for it := ids.Iterator(); it.HasNext(); {
			id := it.Next()
			want := uint64(metricOf(id))<<32 | uint64(id)
			for step := 0; k != nil && step < maxSizeSteps && keyBefore(k, want); step++ {
				k, v = c.Next()
			}
			if k == nil || len(k) != 8 || binary.BigEndian.Uint64(k) != want {
				binary.BigEndian.PutUint64(key[:], want)
				k, v = c.Seek(key[:])
			}
			if v != nil && len(k) == 8 && binary.BigEndian.Uint64(k) == want {
				add(id, len(v))
			}
		}
		return nil
	})
}

// keyBefore reports whether bucket key k sorts before the chunk key want
// (metricID<<32 | seriesID); the longer meta key sorts after every chunk.
func keyBefore(k []byte, want uint64) bool {
	return len(k) == 8 && binary.BigEndian.Uint64(k) < want
}

// maxSizeSteps is how many keys chunkSizes steps over before it seeks.
const maxSizeSteps = 4
