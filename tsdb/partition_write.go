package tsdb

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// flushSource yields the chunks of one flush in ascending key order,
// encoding each only when its transaction needs it, so a flush holds one
// transaction's worth of encoded chunks at a time.
type flushSource interface {
	// count is the number of chunks.
	count() int
	// series returns the key of chunk i without encoding it.
	series(i int) (metric, id uint32)
	// labels is where the labels of series new to the file come from.
	labels() labelSource
	// encode appends chunk i to arena and returns its key and bytes (a
	// slice of the returned arena). An empty chunk is skipped.
	encode(i int, arena []byte) (metric, id uint32, chunk, grown []byte, err error)
	// meta describes the whole flush; it is called after every encode.
	meta() *flushMeta
}

// maxTxBytes bounds the chunk bytes of one bbolt transaction while a flush
// is written, so a large epoch does not hold its whole encoded form, and
// bbolt's dirty pages for it, in memory at once.
const maxTxBytes = 8 << 20

// writeFlush writes one epoch flush as a new bucket with the next sequence
// number for that epoch, in transactions of about maxTxBytes: the labels of
// series new to the file (and the symbols they need) in the first, each
// chunk followed by its CRC32C, the meta key in the last.
func (p *partition) writeFlush(start int64, src flushSource) error {
	if err := p.writable(); err != nil {
		return err
	}
	w := &flushWriter{start: start, src: src, n: src.count()}
	ids := make([]uint32, w.n)
	for i := range w.n {
		_, ids[i] = src.series(i)
	}
	var err error
	if w.labels, err = p.newLabels(ids, src.labels()); err != nil {
		return fmt.Errorf("write epoch to %q: %w", p.path, err)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return fmt.Errorf("write epoch to %q: %w", p.path, ErrClosed)
	}
	for w.i == 0 || w.i < w.n {
		first := w.name == nil
		if err := p.db.Update(w.tx); err != nil {
			return fmt.Errorf("write epoch %s to %q: %w", time.UnixMilli(start).UTC().Format(time.RFC3339), p.path, err)
		}
		if first {
			p.markLabeled(w.labels)
		}
		if w.n == 0 {
			break
		}
	}
	p.lmu.Lock()
	p.flushes[start]++
	p.lmu.Unlock()
	return nil
}

// flushWriter is the state of one writeFlush across its transactions.
type flushWriter struct {
	start  int64
	src    flushSource
	labels *labelWrite
	n, i   int    // chunks, and the next to write
	seq    uint16 // of the bucket, once created
	name   []byte // of the bucket, once created
	arena  []byte // the chunks of the current transaction
}

// tx writes the next transaction's worth of chunks: the first creates the
// bucket after the labels, the last puts the meta.
func (w *flushWriter) tx(tx *bolt.Tx) error {
	var b *bolt.Bucket
	if w.name == nil {
		w.seq = nextSeq(tx, w.start)
		name := bucketName(w.start, w.seq)
		if err := w.labels.put(tx); err != nil {
			return err
		}
		var err error
		if b, err = tx.CreateBucket(name); err != nil {
			return err
		}
		w.name = name
	} else {
		b = tx.Bucket(w.name)
	}
	b.FillPercent = 1.0
	w.arena = w.arena[:0]
	for ; w.i < w.n && len(w.arena) < maxTxBytes; w.i++ {
		metric, id, chunk, grown, err := w.src.encode(w.i, w.arena)
		if err != nil {
			return err
		}
		w.arena = grown
		if len(chunk) == 0 {
			continue
		}
		k := chunkKey(metric, id)
		w.arena = appendChunkCRC(w.arena, w.name, k, len(chunk))
		if err := b.Put(k, w.arena[len(w.arena)-len(chunk)-4:]); err != nil {
			return err
		}
	}
	if w.i < w.n {
		return nil
	}
	m := w.src.meta()
	m.start, m.seq = w.start, w.seq
	mb, err := m.marshal()
	if err != nil {
		return err
	}
	return b.Put(metaKey, mb)
}

// nextSeq returns the sequence number the next flush of epoch start gets.
func nextSeq(tx *bolt.Tx, start int64) uint16 {
	prefix := epochKey(start)
	c := tx.Cursor()
	var seq uint16
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if _, s, ok := parseBucketName(k); ok && s >= seq {
			seq = s + 1
		}
	}
	return seq
}

// labelSource is where the labels written into a day file come from: the
// index (index_rebuild.go).
type labelSource interface {
	// encoded appends the index.db encoding of series id (symbol IDs).
	encoded(dst []byte, id uint32) ([]byte, bool)
	// symbol returns the string of symbol ID sym.
	symbol(sym uint32) (string, bool)
}

// labelWrite is what one write adds to a day file's series and symbols
// buckets.
type labelWrite struct {
	ids, syms          []uint32 // series and symbols added
	serKeys, serValues [][]byte
	symKeys, symValues [][]byte
}

// newLabels returns the blocks that give the file the labels of those of
// ids it lacks, with the symbols they need that it lacks. The caller must
// not hold p.mu.
func (p *partition) newLabels(ids []uint32, src labelSource) (*labelWrite, error) {
	if err := p.loadSymbols(); err != nil {
		return nil, err
	}
	p.lmu.Lock()
	var add []uint32
	for _, id := range ids {
		if !p.labeled.Contains(id) {
			add = append(add, id)
		}
	}
	p.lmu.Unlock()
	slices.Sort(add)
	add = slices.Compact(add)
	w := &labelWrite{}
	var encs [][]byte
	newSyms := roaring.New()
	var refs []uint32
	for _, id := range add {
		enc, ok := src.encoded(nil, id)
		if !ok {
			continue
		}
		var err error
		if refs, _, err = indexDecodeRefs(refs[:0], enc); err != nil {
			return nil, fmt.Errorf("labels of series %d: %w", id, err)
		}
		newSyms.AddMany(refs)
		w.ids, encs = append(w.ids, id), append(encs, enc)
	}
	p.lmu.Lock()
	newSyms.AndNot(p.syms)
	p.lmu.Unlock()
	w.syms = newSyms.ToArray()
	strs := make([][]byte, len(w.syms))
	for i, sym := range w.syms {
		str, ok := src.symbol(sym)
		if !ok {
			return nil, fmt.Errorf("labels: symbol %d unknown", sym)
		}
		strs[i] = appendString(nil, str)
	}
	w.symKeys, w.symValues = labelBlocks(labelBlockSymbols, w.syms, strs)
	w.serKeys, w.serValues = labelBlocks(labelBlockSeries, w.ids, encs)
	return w, nil
}

// labelBlocks cuts entries into blocks of at most labelBlockMax.
func labelBlocks(kind byte, ids []uint32, entries [][]byte) (keys, values [][]byte) {
	for len(ids) > 0 {
		n := min(len(ids), labelBlockMax)
		k, v := appendLabelBlock(nil, kind, ids[:n], entries[:n])
		keys, values = append(keys, k), append(values, v)
		ids, entries = ids[n:], entries[n:]
	}
	return keys, values
}

// put writes the blocks, creating the buckets.
func (w *labelWrite) put(tx *bolt.Tx) error {
	for _, bk := range []struct {
		name       []byte
		keys, vals [][]byte
	}{{symbolsBucket, w.symKeys, w.symValues}, {seriesBucket, w.serKeys, w.serValues}} {
		if len(bk.keys) == 0 {
			continue
		}
		b, err := tx.CreateBucketIfNotExists(bk.name)
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", bk.name, err)
		}
		b.FillPercent = 1.0
		for i, k := range bk.keys {
			if err := b.Put(k, bk.vals[i]); err != nil {
				return fmt.Errorf("put label block %x in %q: %w", k, bk.name, err)
			}
		}
	}
	return nil
}

// markLabeled records what a committed labelWrite added.
func (p *partition) markLabeled(w *labelWrite) {
	p.lmu.Lock()
	defer p.lmu.Unlock()
	p.labeled.AddMany(w.ids)
	p.syms.AddMany(w.syms)
	if !p.unlabeled.IsEmpty() {
		p.unlabeled.AndNot(roaring.BitmapOf(w.ids...))
	}
}

// addLabels writes the labels of the file's unlabeled series that src
// knows (files of format 1, salvaged files), and returns the series still
// without labels.
func (p *partition) addLabels(src labelSource) (*roaring.Bitmap, error) {
	p.lmu.Lock()
	todo := p.unlabeled.ToArray()
	p.lmu.Unlock()
	if len(todo) == 0 {
		return roaring.New(), nil
	}
	if err := p.writable(); err != nil {
		return nil, err
	}
	w, err := p.newLabels(todo, src)
	if err != nil {
		return nil, fmt.Errorf("add series labels to %q: %w", p.path, err)
	}
	orphans := roaring.BitmapOf(todo...)
	orphans.AndNot(roaring.BitmapOf(w.ids...))
	if len(w.ids) == 0 {
		return orphans, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.db.Update(w.put); err != nil {
		return nil, fmt.Errorf("add series labels to %q: %w", p.path, err)
	}
	p.markLabeled(w)
	return orphans, nil
}
