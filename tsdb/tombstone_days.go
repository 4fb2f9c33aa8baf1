package tsdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// Tombstones in day files. A delete writes its tombstone into every day
// file its range overlaps (and the day files of the head epochs it
// overlaps, created if need be) before index.db, so that an index.db
// rebuilt from the day files still has every tombstone whose data a file
// may hold: the store loads the day files' tombstones at open and adds
// those index.db lacks. The bucket "deletes" of a day file holds them:
//
//	key   't' | uint64 sequence, big endian (index.db's key)
//	value index.db's tombstone encoding | crc32c(4) of the key and the value
//
// A file rewritten by a compaction (compact.go) has every tombstone known
// then applied to its chunks, and holds none. A tombstone is dropped from
// index.db once no head epoch overlaps its range and no day file holding
// it has data of its series in its range: it is first removed from the
// files that hold it, then from index.db, so a crash in between leaves it
// in index.db, from where the next drop removes it.
var deletesBucket = []byte("deletes") // not 10 bytes long: flush bucket names are

func dayTombKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte{'t'}, seq) }

// putTombstone writes t into the file, synced.
func (p *partition) putTombstone(t tombstone) error {
	if err := p.writable(); err != nil {
		return err
	}
	v, err := encodeTombstone(t)
	if err != nil {
		return err
	}
	k := dayTombKey(t.seq)
	v = binary.LittleEndian.AppendUint32(v, crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, v))
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return ErrClosed
	}
	err = p.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(deletesBucket)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		return b.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("write tombstone %d to %q: %w", t.seq, p.path, err)
	}
	p.lmu.Lock()
	p.tombSeqs[t.seq] = true
	p.lmu.Unlock()
	return nil
}

// removeTombstone deletes tombstone seq from the file.
func (p *partition) removeTombstone(seq uint64) error {
	if err := p.writable(); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return ErrClosed
	}
	err := p.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(deletesBucket); b != nil {
			return b.Delete(dayTombKey(seq))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove tombstone %d from %q: %w", seq, p.path, err)
	}
	p.lmu.Lock()
	delete(p.tombSeqs, seq)
	p.lmu.Unlock()
	return nil
}

// loadTombstones reads the tombstones the file holds and records their
// sequence numbers. One that fails its checksum is reported and skipped:
// index.db has it too, unless it was lost as well.
func (p *partition) loadTombstones() ([]tombstone, error) {
	var out []tombstone
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return nil, nil
	}
	err := p.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(deletesBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			t, err := decodeDayTombstone(k, v)
			if err != nil {
				p.dmg.corruptRecord(p.path, deletesBucket, k, err)
				return nil
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read tombstones of %q: %w", p.path, err)
	}
	p.lmu.Lock()
	for _, t := range out {
		p.tombSeqs[t.seq] = true
	}
	p.lmu.Unlock()
	return out, nil
}

func decodeDayTombstone(k, v []byte) (tombstone, error) {
	if len(k) != 9 || k[0] != 't' || len(v) < 4 {
		return tombstone{}, fmt.Errorf("tombstone record: key of %d bytes, value of %d", len(k), len(v))
	}
	body := v[:len(v)-4]
	if crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, body) != binary.LittleEndian.Uint32(v[len(body):]) {
		return tombstone{}, errChecksum
	}
	t, err := decodeTombstone(body)
	t.seq = binary.BigEndian.Uint64(k[1:])
	return t, err
}

// holdsTombstones returns the sequence numbers of the tombstones the file holds.
func (p *partition) holdsTombstones() []uint64 {
	p.lmu.Lock()
	defer p.lmu.Unlock()
	out := make([]uint64, 0, len(p.tombSeqs))
	for s := range p.tombSeqs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// hasDataOf reports whether the file may hold samples t deletes: a flush
// bucket overlapping t's range lists one of its series.
func (p *partition) hasDataOf(t tombstone) (bool, error) {
	acc := roaring.New()
	if err := p.seriesIn(t.mint, t.maxt, acc); err != nil {
		return false, err
	}
	return acc.Intersects(t.ids), nil
}

// loadDayTombstones adds to index.db and to the loaded set the tombstones
// that day files hold and index.db lacks (index.db was rebuilt, or a
// delete crashed after writing the day files), and moves the next
// sequence number past every one seen.
func (db *DB) loadDayTombstones() error {
	db.tombs.mu.Lock()
	defer db.tombs.mu.Unlock()
	for _, p := range db.parts.sorted() {
		ts, err := p.loadTombstones()
		if err != nil {
			return err
		}
		for _, t := range ts {
			db.tombs.next = max(db.tombs.next, t.seq+1)
			if db.tombs.has(t.seq) {
				continue
			}
			if err := db.ix.putTombstone(t.seq, t); err != nil {
				return fmt.Errorf("restore tombstone %d from %q into the series index: %w", t.seq, p.path, err)
			}
			db.tombs.add(t)
			db.logger.Info("tombstone restored from a day file", "path", p.path, "seq", t.seq)
		}
	}
	return nil
}

// tombstoneDays returns the partitions a delete of [mint, maxt] writes its
// tombstone into: the day files overlapping the range and the days of the
// head epochs and flush jobs overlapping it, their files created. The
// caller holds db.flushMu.
func (db *DB) tombstoneDays(mint, maxt int64) ([]*partition, error) {
	parts := db.parts.overlapping(mint, maxt)
	for _, start := range db.head.overlapping(mint, maxt) {
		day := floorDiv(start, dayMs)
		if slices.ContainsFunc(parts, func(p *partition) bool { return p.day == day }) {
			continue
		}
		p, err := db.parts.get(day, true)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// overlapping returns the starts of the head epochs and flush jobs that
// overlap [mint, maxt].
func (h *head) overlapping(mint, maxt int64) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int64
	in := func(start int64) bool { return start <= maxt && start+epochMs > mint }
	for s := range h.epochs {
		if in(s) {
			out = append(out, s)
		}
	}
	for _, j := range h.flushing {
		if in(j.start) {
			out = append(out, j.start)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dropTombstones drops the tombstones whose data is gone: no head epoch
// overlaps the range, and no day file holding the tombstone still has data
// of its series there (a compaction rewrote it, or it never had any). The
// caller holds db.flushMu, so no flush or delete runs meanwhile.
func (db *DB) dropTombstones() (int, error) {
	dropped := 0
	for _, t := range db.tombs.snapshot() {
		if len(db.head.overlapping(t.mint, t.maxt)) > 0 {
			continue
		}
		var holders []*partition
		pending := false
		for _, p := range db.parts.sorted() {
			if !slices.Contains(p.holdsTombstones(), t.seq) {
				continue
			}
			has, err := p.hasDataOf(t)
			if err != nil {
				return dropped, err
			}
			if has {
				pending = true
				break
			}
			holders = append(holders, p)
		}
		if pending {
			continue
		}
		for _, p := range holders {
			if err := p.removeTombstone(t.seq); err != nil {
				return dropped, err
			}
		}
		if err := db.ix.deleteTombstone(t.seq); err != nil {
			return dropped, fmt.Errorf("drop tombstone %d from the series index: %w", t.seq, err)
		}
		db.tombs.remove(t.seq)
		dropped++
		db.ctr.tombstonesDropped.Add(1)
		db.logger.Info("tombstone dropped: its data is gone from every file", "seq", t.seq, "mint", t.mint, "maxt", t.maxt)
	}
	return dropped, nil
}
