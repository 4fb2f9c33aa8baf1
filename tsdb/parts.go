package tsdb

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// partitions is the set of day files under parts/.
type partitions struct {
	dir    string
	now    func() time.Time
	logger *slog.Logger
	dmg    *damageLog

	mu      sync.Mutex // guards days and covered
	days    map[int64]*partition
	covered map[int64]int // epoch start -> WAL segment up to which its samples are flushed
}

// readOnlyAge is how old a day must be for its file to be opened
// read-only; a late write reopens it for writing.
const readOnlyAge = 2 * dayMs

// openPartitions opens every day file in dir. A damaged one is set aside
// and what can be trusted of it salvaged into a new file (recorded in
// dmg); a file that cannot be read at all (permissions, I/O) fails the
// open with an error naming it.
func openPartitions(dir string, now func() time.Time, logger *slog.Logger, dmg *damageLog) (*partitions, error) {
	ps := &partitions{dir: dir, now: now, logger: logger, dmg: dmg, days: make(map[int64]*partition), covered: make(map[int64]int)}
	if err := dmg.findSetAside(dir); err != nil {
		return nil, err
	}
	// A salvage that crashed before its rename left its new file behind.
	// So did a compaction (compact.go): the old file is still in place.
	for _, pat := range []string{"*.db.salvage", "*.db" + compactSuffix} {
		tmps, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, t := range tmps {
			if err := os.Remove(t); err != nil {
				return nil, fmt.Errorf("remove unfinished rewrite of a day file: %w", err)
			}
		}
	}
	days, err := listDayFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, day := range days {
		p, metas, err := ps.openDay(day)
		if isDamage(err) {
			p, metas, err = ps.salvage(day, err)
		}
		if err != nil {
			ps.close()
			return nil, err
		}
		if p == nil {
			continue
		}
		for name, m := range metas {
			start, _, _ := parseBucketName([]byte(name))
			if c, ok := ps.covered[start]; !ok || m.walSeg > c {
				ps.covered[start] = m.walSeg
			}
		}
		ps.days[day] = p
	}
	return ps, nil
}

// openDay checks, opens and repairs the file of day.
func (ps *partitions) openDay(day int64) (*partition, map[string]*flushMeta, error) {
	path := dayPath(ps.dir, day)
	readOnly := ps.isOld(day)
	// A writable open walks every page (bbolt rebuilds its free list), so
	// check leaf keys too; a read-only one reads only what queries touch.
	if err := checkBoltFile(path, !readOnly); err != nil {
		return nil, nil, err
	}
	p, err := openPartition(path, day, readOnly, ps.dmg)
	if err != nil {
		return nil, nil, err
	}
	metas, err := p.repair()
	if err != nil {
		p.close()
		return nil, nil, err
	}
	return p, metas, nil
}

// salvage sets the damaged file of day aside, writes what its checksums
// vouch for into a new file for the day and opens that (nil when nothing
// was left). The damage is recorded and logged.
func (ps *partitions) salvage(day int64, damage error) (*partition, map[string]*flushMeta, error) {
	path := dayPath(ps.dir, day)
	tmp := path + ".salvage"
	st, err := salvageDayFile(path, tmp, day)
	if err != nil {
		return nil, nil, fmt.Errorf("salvage %q: %w", path, err)
	}
	moved, err := ps.dmg.setAside(path)
	if err != nil {
		return nil, nil, err
	}
	f := DamagedFile{Path: path, MovedTo: moved, Reason: damageReason(damage), Recovery: st.String()}
	if st.chunks == 0 {
		ps.dmg.add(f)
		if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, nil, fmt.Errorf("salvage %q: %w", path, err)
	}
	if err := syncDir(ps.dir); err != nil {
		return nil, nil, err
	}
	ps.dmg.add(f)
	return ps.openDay(day)
}

// damageReason is what a damage error says is wrong, without the path.
func damageReason(err error) string {
	var de *damageError
	if errors.As(err, &de) {
		return de.what
	}
	return err.Error()
}

// maxSeriesID returns the largest series ID in any day file's flush metas.
func (ps *partitions) maxSeriesID() uint32 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var m uint32
	for _, p := range ps.days {
		m = max(m, p.maxID)
	}
	return m
}

// sorted returns the partitions, oldest first.
func (ps *partitions) sorted() []*partition {
	return ps.overlapping(minTime, maxTime)
}

func (ps *partitions) isOld(day int64) bool {
	return day+readOnlyAge < ps.now().UnixMilli()
}

// coverage returns a copy of the epoch -> flushed WAL segment map.
func (ps *partitions) coverage() map[int64]int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make(map[int64]int, len(ps.covered))
	for k, v := range ps.covered {
		out[k] = v
	}
	return out
}

func (ps *partitions) cover(start int64, seg int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if c, ok := ps.covered[start]; !ok || seg > c {
		ps.covered[start] = seg
	}
}

// get returns the partition of day, creating its file when create is set.
// A file a read found broken is salvaged and set aside first (create is
// set only by the flush path, one at a time).
func (ps *partitions) get(day int64, create bool) (*partition, error) {
	ps.mu.Lock()
	p := ps.days[day]
	ps.mu.Unlock()
	if p != nil && p.broken.Load() && create {
		if err := ps.replaceBroken(p); err != nil {
			return nil, err
		}
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.days[day]; p != nil {
		return p, nil
	}
	if !create {
		return nil, nil
	}
	p, err := openPartition(dayPath(ps.dir, day), day, false, ps.dmg)
	if err != nil {
		return nil, err
	}
	if err := syncDir(ps.dir); err != nil {
		p.close()
		return nil, err
	}
	ps.days[day] = p
	return p, nil
}

// replaceBroken takes a broken partition out of service, salvages its file
// into a new one and opens that in its place.
func (ps *partitions) replaceBroken(p *partition) error {
	ps.mu.Lock()
	delete(ps.days, p.day)
	ps.mu.Unlock()
	if err := p.close(); err != nil {
		ps.logger.Warn("close broken partition", "path", p.path, "err", err)
	}
	np, metas, err := ps.salvage(p.day, &damageError{path: p.path, what: "a read found it broken"})
	if err != nil {
		return err
	}
	if np == nil {
		return nil
	}
	for name, m := range metas {
		start, _, _ := parseBucketName([]byte(name))
		ps.cover(start, m.walSeg)
	}
	ps.mu.Lock()
	ps.days[p.day] = np
	ps.mu.Unlock()
	return nil
}

// overlapping returns the partitions whose day overlaps [mint, maxt], oldest first.
func (ps *partitions) overlapping(mint, maxt int64) []*partition {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []*partition
	for day, p := range ps.days {
		if day <= maxt && (mint == minTime || day+dayMs > mint) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *partition) int { return cmp.Compare(a.day, b.day) })
	return out
}

// dropBefore deletes the day files that end at or before cutoff. Queries
// holding such a partition finish first (close takes its lock).
func (ps *partitions) dropBefore(cutoff int64) error {
	ps.mu.Lock()
	var drop []*partition
	for day, p := range ps.days {
		if day+dayMs <= cutoff {
			drop = append(drop, p)
			delete(ps.days, day)
		}
	}
	for start := range ps.covered {
		if start+epochMs <= cutoff {
			delete(ps.covered, start)
		}
	}
	ps.mu.Unlock()
	var errs []error
	for _, p := range drop {
		if err := p.close(); err != nil {
			errs = append(errs, fmt.Errorf("close expired partition %q: %w", p.path, err))
			continue
		}
		if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete expired partition: %w", err))
			continue
		}
		ps.logger.Info("retention: deleted partition", "path", p.path)
	}
	// Damaged files set aside expire with their day.
	aside, err := ps.dmg.expire(ps.dir, cutoff)
	if err != nil {
		errs = append(errs, err)
	}
	if len(drop) > 0 || aside > 0 {
		if err := syncDir(ps.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// seriesIn adds to acc the series with flushed samples in [mint, maxt].
func (ps *partitions) seriesIn(mint, maxt int64, acc *roaring.Bitmap) error {
	for _, p := range ps.overlapping(mint, maxt) {
		if err := p.seriesIn(mint, maxt, acc); err != nil {
			return err
		}
	}
	return nil
}

func (ps *partitions) close() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var errs []error
	for _, p := range ps.days {
		errs = append(errs, p.close())
	}
	return errors.Join(errs...)
}

// syncDir fsyncs a directory so that created and removed files persist.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
