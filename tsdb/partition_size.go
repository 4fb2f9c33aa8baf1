package tsdb

import (
	"bytes"
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
			binary.BigEndian.PutUint32(key[:4], metricOf(id))
			binary.BigEndian.PutUint32(key[4:], id)
			for step := 0; k != nil && step < maxSizeSteps && bytes.Compare(k, key[:]) < 0; step++ {
				k, v = c.Next()
			}
			if k == nil || bytes.Compare(k, key[:]) != 0 {
				k, v = c.Seek(key[:])
			}
			if v != nil && bytes.Equal(k, key[:]) {
				add(id, len(v))
			}
		}
		return nil
	})
}

// maxSizeSteps is how many keys chunkSizes steps over before it seeks.
const maxSizeSteps = 4
