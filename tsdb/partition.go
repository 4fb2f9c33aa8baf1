package tsdb

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
// (chunkenc) and its CRC32C, and after every chunk key the meta key (8 x
// 0xff, 0x00) -> flushMeta. A bucket without meta is the remains of a flush
// that crashed mid-way; it is deleted when the file is opened, and the WAL
// replays it. The series bucket holds the labels of every series the file
// has chunks of (partition_format.go).
type partition struct {
	day  int64 // day start, ms
	path string
	dmg  *damageLog // counts and logs corrupt chunks; shared by the store's partitions

	mu       sync.RWMutex // guards db and readOnly; held shared by readers, exclusively to reopen or close
	db       *bolt.DB
	readOnly bool

	// broken is set when a read finds the file damaged past what its
	// checksums cover (bbolt panicked): reads skip the file from then on,
	// and the next flush into its day sets it aside (partitions.get).
	broken atomic.Bool

	// lmu guards labeled, unlabeled, syms, flushes and tombSeqs, which the
	// flush path, deletes and compactions (one at a time) and open change.
	lmu       sync.Mutex
	labeled   *roaring.Bitmap // series whose labels the series bucket holds
	unlabeled *roaring.Bitmap // series with chunks here but no labels: files of format 1, salvaged files
	syms      *roaring.Bitmap // symbols the symbols bucket holds; nil until loadSymbols
	maxID     uint32          // largest series ID in a flush meta, set at open
	flushes   map[int64]int   // complete flush buckets per epoch (compact.go)
	tombSeqs  map[uint64]bool // tombstones the file holds (tombstone_days.go)
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

func openPartition(path string, day int64, readOnly bool, dmg *damageLog) (*partition, error) {
	o := boltOptions
	o.ReadOnly = readOnly
	db, err := openBolt(path, &o)
	if err != nil {
		return nil, fmt.Errorf("open partition %q: %w", path, err)
	}
	db.AllocSize = partitionAllocSize
	return &partition{day: day, path: path, dmg: dmg, db: db, readOnly: readOnly,
		labeled: roaring.New(), unlabeled: roaring.New(), flushes: make(map[int64]int), tombSeqs: make(map[uint64]bool)}, nil
}

// repair checks the flush metas, deletes the buckets of flushes that did
// not complete, and returns the metas of the complete ones, by bucket
// name. It also learns which series have labels in the file. A damaged
// meta is a *damageError.
func (p *partition) repair() (map[string]*flushMeta, error) {
	metas, broken, err := p.readMetas()
	if err != nil {
		return nil, &damageError{path: p.path, what: err.Error()}
	}
	if err := p.learnLabels(metas); err != nil {
		return nil, &damageError{path: p.path, what: err.Error()}
	}
	p.countFlushes(metas)
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

// readMetas returns the metas of the complete flush buckets and the names
// of those without meta (crashed flushes).
func (p *partition) readMetas() (map[string]*flushMeta, [][]byte, error) {
	metas := make(map[string]*flushMeta)
	var broken [][]byte
	err := p.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			start, seq, ok := parseBucketName(name)
			if !ok {
				return nil
			}
			v := b.Get(metaKey)
			if v == nil {
				// A crashed flush wrote chunk keys only; anything else
				// last is a meta key with a flipped bit.
				if k, _ := b.Cursor().Last(); k != nil && len(k) != 8 {
					return fmt.Errorf("bucket %x: no flush meta, and a last key %x that is no chunk key", name, k)
				}
				broken = append(broken, slices.Clone(name))
				return nil
			}
			m, err := unmarshalFlushMeta(v)
			if err == nil {
				err = m.checkName(start, seq)
			}
			if err != nil {
				return fmt.Errorf("bucket %x: %w", name, err)
			}
			metas[string(name)] = m
			return nil
		})
	})
	return metas, broken, err
}

// learnLabels sets which series of the metas the file has labels for, and
// the largest series ID.
func (p *partition) learnLabels(metas map[string]*flushMeta) error {
	labeled, check := roaring.New(), roaring.New()
	for _, m := range metas {
		if m.version == flushMetaV2 && m.flags&flushMetaSalvaged == 0 {
			labeled.Or(m.ids) // written with its labels
		} else {
			check.Or(m.ids)
		}
		if !m.ids.IsEmpty() {
			p.maxID = max(p.maxID, m.ids.Maximum())
		}
	}
	if check.AndNot(labeled); !check.IsEmpty() {
		// Buckets of format 1 or salvaged: read which labels the file has.
		have := roaring.New()
		err := p.eachLabelBlock(seriesBucket, func(_ byte, es []labelEntry) error {
			for _, e := range es {
				have.Add(e.id)
			}
			return nil
		}, func([]byte, error) {})
		if err != nil {
			return err
		}
		labeled.Or(roaring.And(check, have))
		check.AndNot(have)
		p.unlabeled = check
	}
	p.labeled = labeled
	return nil
}

// writable reopens a read-only partition for writing. The caller must not
// hold p.mu.
func (p *partition) writable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.readOnly {
		return nil
	}
	// bbolt's writable open asserts leaf key order, which the read-only
	// open's check skipped.
	if err := checkBoltFile(p.path, true); err != nil {
		if isDamage(err) {
			p.broken.Store(true)
			p.dmg.fileBroken(p.path, err)
		}
		return fmt.Errorf("reopen partition for writing: %w", err)
	}
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close partition %q: %w", p.path, err)
	}
	np, err := openPartition(p.path, p.day, false, p.dmg)
	if err != nil {
		p.db = nil
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
