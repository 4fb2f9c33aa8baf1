package tsdb

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"

	"outpost/tsdb/chunkenc"
)

// compactBatchBytes bounds the chunk bytes a day rewrite reads at a time
// (one batch of series of one epoch); their merged and encoded form is
// about as large again.
const compactBatchBytes = 4 << 20

// dayRewriter writes the compacted form of one day file into a new bbolt
// file: per epoch, one bucket merging every flush bucket of the epoch
// (higher seq winning on equal timestamps, as reads merge them), without
// the samples tombstones delete; then the labels of the series left, and
// the symbols they use. The old file is only read.
type dayRewriter struct {
	db       *DB
	p        *partition
	out      *bolt.DB
	salvaged bool            // the old file has series without labels: mark the metas
	kept     *roaring.Bitmap // series with a chunk in the new file

	// What the rewrite did, for its stats.
	bucketsIn, bucketsOut int
	samplesDropped        int64

	// Scratch, reused from batch to batch and series to series.
	read    []byte     // copied chunk bytes of the batch
	enc     []byte     // encoded chunks of the batch, each with its CRC
	keys    [][8]byte  // keys of enc's chunks
	ends    []int      // end offsets in enc
	ts, mts []int64    // merged samples
	vs, mvs []float64  // merged samples
	ivs     []interval // deleted intervals of a series
}

// epochInput is one epoch's flush buckets in the old file, seq ascending.
type epochInput struct {
	start int64
	names [][]byte
	metas []*flushMeta
}

// batchSeries is one series of a batch: its key and its chunks (offsets
// into the read arena), oldest flush first.
type batchSeries struct {
	key    [8]byte
	chunks [][2]int
}

// epochInputs groups the complete flush buckets of the file by epoch.
func (r *dayRewriter) epochInputs() ([]*epochInput, error) {
	r.p.mu.RLock()
	metas, _, err := r.p.readMetas()
	r.p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	by := make(map[int64]*epochInput)
	for name, m := range metas {
		start, _, _ := parseBucketName([]byte(name))
		in := by[start]
		if in == nil {
			in = &epochInput{start: start}
			by[start] = in
		}
		in.names, in.metas = append(in.names, []byte(name)), append(in.metas, m)
	}
	out := make([]*epochInput, 0, len(by))
	for _, in := range by {
		idx := make([]int, len(in.names))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(in.names[a], in.names[b]) })
		names, ms := make([][]byte, len(idx)), make([]*flushMeta, len(idx))
		for i, j := range idx {
			names[i], ms[i] = in.names[j], in.metas[j]
		}
		in.names, in.metas = names, ms
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b *epochInput) int { return cmp.Compare(a.start, b.start) })
	return out, nil
}

// epoch writes the merged bucket of one epoch, a batch of series at a
// time, the meta last. An epoch left with no samples still gets its bucket
// and meta: the meta records which WAL segments the epoch's flushes cover,
// so that a replay does not bring deleted samples back.
func (r *dayRewriter) epoch(in *epochInput) error {
	m := flushMeta{version: flushMetaV2, start: in.start, walSeg: -1, mint: maxTime, maxt: minTime, ids: roaring.New()}
	if r.salvaged {
		m.flags = flushMetaSalvaged
	}
	for _, im := range in.metas {
		m.walSeg = max(m.walSeg, im.walSeg)
	}
	name := bucketName(in.start, 0)
	r.bucketsIn += len(in.names)
	r.bucketsOut++
	var from []byte
	for {
		batch, next, err := r.readBatch(in, from)
		if err != nil {
			return err
		}
		if err := r.encodeBatch(name, batch, &m); err != nil {
			return err
		}
		var meta *flushMeta
		if next == nil {
			meta = &m
		}
		if err := r.writeBatch(name, meta); err != nil {
			return fmt.Errorf("write compacted epoch %d: %w", in.start, err)
		}
		if next == nil {
			return nil
		}
		from = next
	}
}

// readBatch copies, from key from on (nil: the first), the chunks of the
// epoch's buckets series by series until about compactBatchBytes, in one
// read transaction of the old file. next is the first key not read, nil at
// the end. A chunk failing its CRC is left out and reported, as reads do.
func (r *dayRewriter) readBatch(in *epochInput, from []byte) (batch []batchSeries, next []byte, err error) {
	r.read = r.read[:0]
	r.p.mu.RLock()
	defer r.p.mu.RUnlock()
	if r.p.db == nil {
		return nil, nil, ErrClosed
	}
	err = r.p.view(func(tx *bolt.Tx) error {
		n := len(in.names)
		curs := make([]*bolt.Cursor, n)
		keys, vals := make([][]byte, n), make([][]byte, n)
		for j, name := range in.names {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			curs[j] = b.Cursor()
			if from == nil {
				keys[j], vals[j] = curs[j].First()
			} else {
				keys[j], vals[j] = curs[j].Seek(from)
			}
		}
		for {
			var low []byte
			for _, k := range keys {
				if len(k) == 8 && (low == nil || bytes.Compare(k, low) < 0) {
					low = k
				}
			}
			if low == nil {
				return nil
			}
			if len(r.read) >= compactBatchBytes {
				next = slices.Clone(low)
				return nil
			}
			s := batchSeries{key: [8]byte(low)}
			for j, k := range keys {
				if len(k) != 8 || !bytes.Equal(k, s.key[:]) {
					continue
				}
				chunk := vals[j]
				if in.metas[j].version >= flushMetaV2 {
					var err error
					if chunk, err = verifyChunk(in.names[j], k, chunk); err != nil {
						r.p.dmg.corruptRecord(r.p.path, in.names[j], k, err)
						chunk = nil
					}
				}
				if len(chunk) > 0 {
					at := len(r.read)
					r.read = append(r.read, chunk...)
					s.chunks = append(s.chunks, [2]int{at, len(r.read)})
				}
				keys[j], vals[j] = curs[j].Next()
			}
			batch = append(batch, s)
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %q: %w", r.p.path, err)
	}
	return batch, next, nil
}

// encodeBatch merges each series' chunks, leaves out its deleted samples
// and encodes what is left into r.enc, adding it to m.
func (r *dayRewriter) encodeBatch(name []byte, batch []batchSeries, m *flushMeta) error {
	r.enc, r.keys, r.ends = r.enc[:0], r.keys[:0], r.ends[:0]
	for _, s := range batch {
		id := binary.BigEndian.Uint32(s.key[4:])
		if err := r.merge(s); err != nil {
			return fmt.Errorf("decode chunks of series %d in %q: %w", id, r.p.path, err)
		}
		r.dropDeleted(id)
		if len(r.ts) == 0 {
			continue
		}
		at := len(r.enc)
		grown, err := chunkenc.Encode(r.enc, r.ts, r.vs)
		if err != nil {
			return fmt.Errorf("encode chunk of series %d: %w", id, err)
		}
		r.enc = appendChunkCRC(grown, name, s.key[:], len(grown)-at)
		r.keys, r.ends = append(r.keys, s.key), append(r.ends, len(r.enc))
		m.mint, m.maxt = min(m.mint, r.ts[0]), max(m.maxt, r.ts[len(r.ts)-1])
		m.ids.Add(id)
		r.kept.Add(id)
	}
	return nil
}

// merge decodes a series' chunks, oldest flush first, into r.ts, r.vs: one
// sample per timestamp, the newest flush winning.
func (r *dayRewriter) merge(s batchSeries) error {
	ts, vs := r.ts[:0], r.vs[:0]
	for _, c := range s.chunks {
		n := len(ts)
		var err error
		if ts, vs, err = chunkenc.Decode(r.read[c[0]:c[1]], ts, vs); err != nil {
			return err
		}
		if n == 0 || len(ts) == n || ts[n] > ts[n-1] {
			continue
		}
		mts, mvs := mergeNewer(ts[:n], vs[:n], ts[n:], vs[n:], r.mts[:0], r.mvs[:0])
		r.mts, r.mvs = ts, vs
		ts, vs = mts, mvs
	}
	r.ts, r.vs = ts, vs
	return nil
}

// dropDeleted removes from r.ts, r.vs the samples of series id that a
// tombstone deletes.
func (r *dayRewriter) dropDeleted(id uint32) {
	if len(r.ts) == 0 {
		return
	}
	r.ivs = r.db.tombs.intervals(r.ivs[:0], id, r.ts[0], r.ts[len(r.ts)-1])
	n := len(r.ts)
	r.ts, r.vs = dropIntervals(r.ts, r.vs, r.ivs)
	r.samplesDropped += int64(n - len(r.ts))
}

// writeBatch puts the batch's encoded chunks into bucket name of the new
// file, in one transaction, and meta after them when it is not nil.
func (r *dayRewriter) writeBatch(name []byte, meta *flushMeta) error {
	return r.out.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		b.FillPercent = 1.0
		at := 0
		for i, k := range r.keys {
			if err := b.Put(k[:], r.enc[at:r.ends[i]]); err != nil {
				return err
			}
			at = r.ends[i]
		}
		if meta == nil {
			return nil
		}
		meta.ids.RunOptimize()
		mb, err := meta.marshal()
		if err != nil {
			return err
		}
		return b.Put(metaKey, mb)
	})
}

// writeLabels copies into the new file the label blocks of the series it
// kept, the other entries left out (a deleted series' labels go with its
// chunks), then the symbols those series use.
func (r *dayRewriter) writeLabels() error {
	syms := roaring.New()
	var refs []uint32
	var entries [][]byte
	var ids []uint32
	err := r.copyBlocks(seriesBucket, func(es []labelEntry) ([]uint32, [][]byte) {
		ids, entries = ids[:0], entries[:0]
		for _, e := range es {
			if r.kept.Contains(e.id) {
				refs = append(refs[:0], e.refs...)
				syms.AddMany(refs)
				ids, entries = append(ids, e.id), append(entries, indexAppendEncoded(nil, refs))
			}
		}
		return ids, entries
	})
	if err != nil {
		return err
	}
	return r.copyBlocks(symbolsBucket, func(es []labelEntry) ([]uint32, [][]byte) {
		ids, entries = ids[:0], entries[:0]
		for _, e := range es {
			if syms.Contains(e.id) {
				ids, entries = append(ids, e.id), append(entries, appendString(nil, e.str))
			}
		}
		return ids, entries
	})
}

// copyBlocks writes, for each block of the old file's bucket, the block
// of the entries keep returns (ascending, as in the old block), keyed by
// its first ID, in transactions of up to maxTxBytes.
func (r *dayRewriter) copyBlocks(bucket []byte, keep func([]labelEntry) ([]uint32, [][]byte)) error {
	var keys, vals [][]byte
	size := 0
	put := func() error {
		if len(keys) == 0 {
			return nil
		}
		err := r.out.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			b.FillPercent = 1.0
			for i, k := range keys {
				if err := b.Put(k, vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		keys, vals, size = keys[:0], vals[:0], 0
		return err
	}
	var werr error
	err := r.p.eachLabelBlock(bucket, func(kind byte, es []labelEntry) error {
		ids, entries := keep(es)
		if len(ids) == 0 {
			return nil
		}
		k, v := appendLabelBlock(nil, kind, ids, entries)
		keys, vals, size = append(keys, k), append(vals, v), size+len(v)
		if size >= maxTxBytes {
			werr = put()
		}
		return werr
	}, func(key []byte, err error) { r.p.dmg.corruptRecord(r.p.path, bucket, key, err) })
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", bucket, werr)
	}
	if err := put(); err != nil {
		return fmt.Errorf("write %s: %w", bucket, err)
	}
	return nil
}
