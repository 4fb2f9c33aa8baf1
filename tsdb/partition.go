package tsdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// A partition is one bbolt file holding one UTC day of sealed chunks,
// parts/YYYYMMDD.db. Each flush of an epoch becomes one top-level bucket,
// named epochKey(start)+seq, written once, keys in ascending order, so
// every bbolt write appends at the right edge of its bucket. Late samples
// for an epoch already flushed make a new bucket with the next seq; readers
// merge an epoch's buckets, the higher seq winning on equal timestamps.
//
// Inside a bucket: key metricID(4)|seriesID(4) big-endian -> encoded chunk
// (chunkenc), and after every chunk key the meta key (8 x 0xff, 0x00) ->
// flushMeta. A bucket without meta is the remains of a flush that crashed
// mid-way; it is deleted when the file is opened, and the WAL replays it.
type partition struct {
	day  int64 // day start, ms
	path string

	mu       sync.RWMutex // guards db and readOnly; held shared by readers, exclusively to reopen or close
	db       *bolt.DB
	readOnly bool
}

var metaKey = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}

const flushMetaVersion = 1

// flushMeta describes one flushed bucket.
type flushMeta struct {
	walSeg int             // every sample of the epoch in WAL segments <= walSeg is in this or an earlier bucket
	mint   int64           // smallest timestamp in the bucket
	maxt   int64           // largest timestamp in the bucket
	ids    *roaring.Bitmap // series present
}

func (m *flushMeta) marshal() ([]byte, error) {
	var b []byte
	b = append(b, flushMetaVersion)
	b = binary.AppendVarint(b, int64(m.walSeg))
	b = binary.AppendVarint(b, m.mint)
	b = binary.AppendVarint(b, m.maxt)
	bm, err := m.ids.ToBytes()
	if err != nil {
		return nil, fmt.Errorf("encode series bitmap: %w", err)
	}
	return append(b, bm...), nil
}

func unmarshalFlushMeta(b []byte) (*flushMeta, error) {
	if len(b) < 1 || b[0] != flushMetaVersion {
		return nil, fmt.Errorf("flush meta: unknown version")
	}
	b = b[1:]
	var m flushMeta
	var vals [3]int64
	for i := range vals {
		v, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("flush meta: truncated")
		}
		vals[i], b = v, b[n:]
	}
	m.walSeg, m.mint, m.maxt = int(vals[0]), vals[1], vals[2]
	m.ids = roaring.New()
	if err := m.ids.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("flush meta: series bitmap: %w", err)
	}
	return &m, nil
}

// epochKey encodes an epoch start so that byte order is time order.
func epochKey(start int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(start)^(1<<63))
}

func bucketName(start int64, seq uint16) []byte {
	return binary.BigEndian.AppendUint16(epochKey(start), seq)
}

func parseBucketName(name []byte) (start int64, seq uint16, ok bool) {
	if len(name) != 10 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(name) ^ (1 << 63)), binary.BigEndian.Uint16(name[8:]), true
}

func chunkKey(metric, id uint32) []byte {
	var k [8]byte
	binary.BigEndian.PutUint32(k[:4], metric)
	binary.BigEndian.PutUint32(k[4:], id)
	return k[:]
}

func dayFileName(day int64) string {
	return time.UnixMilli(day).UTC().Format("20060102") + ".db"
}

func parseDayFileName(name string) (int64, bool) {
	t, err := time.Parse("20060102", strings.TrimSuffix(name, ".db"))
	if err != nil || !strings.HasSuffix(name, ".db") {
		return 0, false
	}
	return t.UnixMilli(), true
}

// partitionPageSize is the bbolt page size of day files. Chunks are a few
// KiB, so with 4 KiB pages most leaf pages would hold one chunk and waste
// up to half of themselves; 64 KiB pages hold dozens, and the append-only
// writes fill them (FillPercent 1.0).
const partitionPageSize = 64 << 10

// partitionAllocSize is how much a day file grows at a time (bbolt's
// default, 16 MiB, would leave that much unused at the end of each file).
const partitionAllocSize = 1 << 20

var boltOptions = bolt.Options{
	Timeout:        5 * time.Second,
	NoFreelistSync: true,
	FreelistType:   bolt.FreelistMapType,
	PageSize:       partitionPageSize,
}

func openPartition(path string, day int64, readOnly bool) (*partition, error) {
	o := boltOptions
	o.ReadOnly = readOnly
	db, err := bolt.Open(path, 0o644, &o)
	if err != nil {
		return nil, fmt.Errorf("open partition %q: %w", path, err)
	}
	db.AllocSize = partitionAllocSize
	return &partition{day: day, path: path, db: db, readOnly: readOnly}, nil
}

// repair deletes the buckets of flushes that did not complete and returns
// the flush metas of the complete ones, by bucket name.
func (p *partition) repair() (map[string]*flushMeta, error) {
	metas := make(map[string]*flushMeta)
	var broken [][]byte
	err := p.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if _, _, ok := parseBucketName(name); !ok {
				return nil
			}
			v := b.Get(metaKey)
			if v == nil {
				broken = append(broken, slices.Clone(name))
				return nil
			}
			m, err := unmarshalFlushMeta(v)
			if err != nil {
				return fmt.Errorf("bucket %x: %w", name, err)
			}
			metas[string(name)] = m
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read partition %q: %w", p.path, err)
	}
	if len(broken) == 0 {
		return metas, nil
	}
	if err := p.writable(); err != nil {
		return nil, err
	}
	err = p.db.Update(func(tx *bolt.Tx) error {
		for _, name := range broken {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("drop incomplete flushes in %q: %w", p.path, err)
	}
	return metas, nil
}

// writable reopens a read-only partition for writing. The caller must not
// hold p.mu.
func (p *partition) writable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.readOnly {
		return nil
	}
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close partition %q: %w", p.path, err)
	}
	np, err := openPartition(p.path, p.day, false)
	if err != nil {
		return err
	}
	p.db, p.readOnly = np.db, false
	return nil
}

func (p *partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db == nil {
		return nil
	}
	err := p.db.Close()
	p.db = nil
	return err
}

// flushSource yields the chunks of one flush in ascending key order,
// encoding each only when its transaction needs it, so a flush holds one
// transaction's worth of encoded chunks at a time.
type flushSource interface {
	// count is the number of chunks.
	count() int
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
// number for that epoch, in transactions of about maxTxBytes, the meta key
// in the last.
func (p *partition) writeFlush(start int64, src flushSource) error {
	if err := p.writable(); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var name, arena []byte
	n := src.count()
	for i := 0; i == 0 || i < n; {
		err := p.db.Update(func(tx *bolt.Tx) error {
			var b *bolt.Bucket
			if name == nil {
				name = bucketName(start, nextSeq(tx, start))
				var err error
				if b, err = tx.CreateBucket(name); err != nil {
					return err
				}
			} else {
				b = tx.Bucket(name)
			}
			b.FillPercent = 1.0
			arena = arena[:0]
			for ; i < n && len(arena) < maxTxBytes; i++ {
				metric, id, chunk, grown, err := src.encode(i, arena)
				if err != nil {
					return err
				}
				arena = grown
				if len(chunk) == 0 {
					continue
				}
				if err := b.Put(chunkKey(metric, id), chunk); err != nil {
					return err
				}
			}
			if i < n {
				return nil
			}
			mb, err := src.meta().marshal()
			if err != nil {
				return err
			}
			return b.Put(metaKey, mb)
		})
		if err != nil {
			return fmt.Errorf("write epoch %s to %q: %w", time.UnixMilli(start).UTC().Format(time.RFC3339), p.path, err)
		}
		if n == 0 {
			break
		}
	}
	return nil
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

// partChunk is one chunk read from a partition.
type partChunk struct {
	start int64 // epoch
	seq   uint16
	data  []byte // copied out of the transaction
}

// eachFlush calls fn, in (epoch, seq) order, for every complete flush
// bucket whose samples overlap [mint, maxt], inside one read transaction.
func (p *partition) eachFlush(mint, maxt int64, fn func(start int64, seq uint16, b *bolt.Bucket, meta *flushMeta) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return nil
	}
	return p.db.View(func(tx *bolt.Tx) error {
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
			mv := b.Get(metaKey)
			if mv == nil {
				continue // a flush still being written
			}
			meta, err := unmarshalFlushMeta(mv)
			if err != nil {
				return fmt.Errorf("bucket %x: %w", k, err)
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
}

// read appends to out, for every id in want, the chunks of buckets whose
// samples overlap [mint, maxt], in (epoch, seq) order.
func (p *partition) read(mint, maxt int64, want *roaring.Bitmap, metricOf func(uint32) uint32, out map[uint32][]partChunk) error {
	return p.eachFlush(mint, maxt, func(start int64, seq uint16, b *bolt.Bucket, meta *flushMeta) error {
		ids := roaring.And(meta.ids, want)
		for it := ids.Iterator(); it.HasNext(); {
			id := it.Next()
			if v := b.Get(chunkKey(metricOf(id), id)); v != nil {
				out[id] = append(out[id], partChunk{start: start, seq: seq, data: slices.Clone(v)})
			}
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

// listDayFiles returns the day starts of the partition files in dir, sorted.
func listDayFiles(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list partitions in %q: %w", dir, err)
	}
	var days []int64
	for _, e := range ents {
		if d, ok := parseDayFileName(e.Name()); ok && !e.IsDir() {
			days = append(days, d)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days, nil
}

func dayPath(dir string, day int64) string { return filepath.Join(dir, dayFileName(day)) }
