package tsdb

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
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

	mu      sync.Mutex // guards days and covered
	days    map[int64]*partition
	covered map[int64]int // epoch start -> WAL segment up to which its samples are flushed
}

// readOnlyAge is how old a day must be for its file to be opened
// read-only; a late write reopens it for writing.
const readOnlyAge = 2 * dayMs

func openPartitions(dir string, now func() time.Time, logger *slog.Logger) (*partitions, error) {
	ps := &partitions{dir: dir, now: now, logger: logger, days: make(map[int64]*partition), covered: make(map[int64]int)}
	days, err := listDayFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, day := range days {
		p, err := openPartition(dayPath(dir, day), day, ps.isOld(day))
		if err != nil {
			ps.close()
			return nil, err
		}
		metas, err := p.repair()
		if err != nil {
			p.close()
			ps.close()
			return nil, err
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
func (ps *partitions) get(day int64, create bool) (*partition, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.days[day]; p != nil {
		return p, nil
	}
	if !create {
		return nil, nil
	}
	p, err := openPartition(dayPath(ps.dir, day), day, false)
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
	if len(drop) > 0 {
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
