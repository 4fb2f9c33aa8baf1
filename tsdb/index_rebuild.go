package tsdb

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Rebuilding index.db. Every day file carries, in its series and symbols
// buckets, the labels of each series it has chunks of, as index.db's symbol
// IDs, and the strings of those symbols. A lost, damaged or stale index.db
// is rebuilt from them: every symbol gets back its ID (so the chunk keys,
// which lead with the metric name's symbol ID, resolve), every series its
// ID. The WAL then replays on top, adding the series only it holds. A series with chunks in some day
// file and labels in none cannot be read: the rebuild refuses, naming the
// file, rather than start without its samples unasked.

// rebuildStats says what rebuilding index.db found.
type rebuildStats struct {
	files  int // day files with a series bucket
	series int
	bad    int // series entries that failed their CRC
}

func (s rebuildStats) String() string {
	msg := fmt.Sprintf("rebuilt from the series labels of %d day files: %d series; the WAL replays on top", s.files, s.series)
	if s.bad > 0 {
		msg += fmt.Sprintf(" (%d damaged series entries skipped)", s.bad)
	}
	return msg
}

// openStorage opens index.db and the day files into db.ix and db.parts.
// Damaged day files are set aside and salvaged (openPartitions); a damaged,
// empty, missing or stale index.db is set aside and rebuilt from the day
// files. A file that cannot be read at all, a newer format, or an index
// that cannot be rebuilt without losing samples is an error naming the
// file.
func (db *DB) openStorage() error {
	dir := db.cfg.Path
	dmg := newDamageLog(db.logger, db.now)
	if err := dmg.findSetAside(dir); err != nil {
		return err
	}
	path := filepath.Join(dir, "index.db")
	var why, moved string // why index.db must be rebuilt, where it was set aside
	switch st, err := os.Stat(path); {
	case errors.Is(err, os.ErrNotExist):
		why = "missing"
	case err != nil:
		return fmt.Errorf("open series index: %w", err)
	case st.Size() == 0:
		why = "empty (0 bytes)"
	}
	ix, err := openIndex(path, db.cfg.MaxSeries, db.logger)
	if isDamage(err) {
		why = damageReason(err)
		if moved, err = dmg.setAside(path); err != nil {
			return err
		}
		ix, err = openIndex(path, db.cfg.MaxSeries, db.logger)
	}
	if err != nil {
		return err
	}
	db.ix = ix
	if db.parts, err = openPartitions(filepath.Join(dir, "parts"), db.now, db.logger, dmg); err != nil {
		return err
	}
	return db.ensureIndex(why, moved)
}

// ensureIndex rebuilds the index when why says it was lost or damaged, or
// when the day files hold series it does not know (an old copy restored),
// then writes the labels the index knows into day files that lack them.
func (db *DB) ensureIndex(why, moved string) error {
	path := db.ix.path
	inFiles := db.parts.maxSeriesID()
	switch known := db.ix.lastID(); {
	case inFiles == 0:
		if moved != "" {
			db.parts.dmg.add(DamagedFile{Path: path, MovedTo: moved, Reason: why,
				Recovery: "recreated empty: no day file holds series; the WAL replays its series"})
		}
		return db.parts.addLabels(db.ix)
	case why == "" && known >= inFiles:
		return db.parts.addLabels(db.ix)
	case why == "":
		why = fmt.Sprintf("stale: it knows series up to ID %d, the day files hold series up to ID %d", known, inFiles)
		if err := db.ix.close(); err != nil {
			return err
		}
		db.ix = nil
		var err error
		if moved, err = db.parts.dmg.setAside(path); err != nil {
			return err
		}
		if db.ix, err = openIndex(path, db.cfg.MaxSeries, db.logger); err != nil {
			return err
		}
	}
	st, err := rebuildIndex(db.ix, db.parts)
	if err != nil {
		return fmt.Errorf("series index %q is %s and cannot be rebuilt: %w", path, why, err)
	}
	db.parts.dmg.add(DamagedFile{Path: path, MovedTo: moved, Reason: why, Recovery: st.String()})
	return db.parts.addLabels(db.ix)
}

// lastID returns the largest series ID the index has handed out.
func (ix *index) lastID() uint32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.nextID - 1
}

// encoded appends the index.db encoding of series id: uvarint n, then n
// pairs of name and value symbol IDs.
func (ix *index) encoded(dst []byte, id uint32) ([]byte, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	loc := ix.locs.get(id)
	if loc == 0 {
		return dst, false
	}
	b := ix.arena.at(loc)
	_, n, err := indexDecodeRefs(nil, b)
	if err != nil {
		return dst, false
	}
	return append(dst, b[:n]...), true
}

// symbol returns the string of symbol sym.
func (ix *index) symbol(sym uint32) (string, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if sym == 0 || int(sym) >= len(ix.syms.strs) {
		return "", false
	}
	return ix.syms.strs[sym], true
}

// rebuildIndex fills ix, new and empty, from the series and symbols
// buckets of the day files, and persists it.
func rebuildIndex(ix *index, ps *partitions) (rebuildStats, error) {
	if ix.numSeries() != 0 || ix.syms.count() != 1 {
		return rebuildStats{}, fmt.Errorf("rebuild into an index that is not empty")
	}
	parts := ps.sorted()
	dl, err := readDayLabels(parts, ps.logger)
	if err != nil {
		return dl.st, err
	}
	labels := dl.resolve()
	for _, p := range parts {
		if err := checkOrphans(p, func(id uint32) bool { _, ok := labels[id]; return ok }); err != nil {
			return dl.st, err
		}
	}
	if err := rebuildSymbols(ix, dl.symAt); err != nil {
		return dl.st, err
	}
	ids := make([]uint32, 0, len(labels))
	for id := range labels {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var enc []byte
	var refs []uint32
	for _, id := range ids {
		if err := ix.add(id, labels[id]); err != nil {
			return dl.st, fmt.Errorf("%w (from %q)", err, dl.series[id].file)
		}
		enc, _ = ix.encoded(enc[:0], id)
		if refs, _, _ = indexDecodeRefs(refs[:0], enc); !slices.Equal(refs, dl.series[id].refs) {
			return dl.st, fmt.Errorf("series %d: symbols %v, want %v", id, refs, dl.series[id].refs)
		}
	}
	ix.pmu.Lock()
	ix.post.optimize()
	ix.post.optimizeAt = max(2*ix.post.n, postingsOptMin)
	ix.pmu.Unlock()
	dl.st.series = len(ids)
	return dl.st, ix.persist()
}

// dayLabels is what the day files say of series and symbols.
type dayLabels struct {
	symAt  map[uint32]string
	symOf  map[string]uint32
	series map[uint32]dayLabel
	st     rebuildStats
}

// dayLabel is one series' symbol IDs and the first file naming it.
type dayLabel struct {
	refs []uint32
	file string
}

// readDayLabels reads the label blocks of every day file; files that
// disagree on a symbol or a series are an error naming them.
func readDayLabels(parts []*partition, logger *slog.Logger) (*dayLabels, error) {
	dl := &dayLabels{symAt: make(map[uint32]string), symOf: make(map[string]uint32), series: make(map[uint32]dayLabel)}
	for _, p := range parts {
		n := 0
		fn := func(kind byte, es []labelEntry) error {
			for _, e := range es {
				if kind == labelBlockSymbols {
					if err := dl.addSymbol(e, p.path); err != nil {
						return err
					}
					continue
				}
				n++
				if f, ok := dl.series[e.id]; ok && !slices.Equal(f.refs, e.refs) {
					return fmt.Errorf("series %d differs between %q and %q", e.id, f.file, p.path)
				} else if !ok {
					dl.series[e.id] = dayLabel{e.refs, p.path}
				}
			}
			return nil
		}
		bad := func(key []byte, err error) {
			dl.st.bad++
			logger.Error("damaged label block skipped", "path", p.path, "key", fmt.Sprintf("%x", key), "err", err)
		}
		for _, bucket := range [][]byte{symbolsBucket, seriesBucket} {
			if err := p.eachLabelBlock(bucket, fn, bad); err != nil {
				return dl, err
			}
		}
		if n > 0 {
			dl.st.files++
		}
	}
	return dl, nil
}

func (dl *dayLabels) addSymbol(e labelEntry, file string) error {
	if s, ok := dl.symAt[e.id]; ok && s != e.str {
		return fmt.Errorf("symbol %d is %q in one day file and %q in %q", e.id, s, e.str, file)
	}
	if id, ok := dl.symOf[e.str]; ok && id != e.id {
		return fmt.Errorf("%q is symbol %d in one day file and %d in %q", e.str, id, e.id, file)
	}
	dl.symAt[e.id], dl.symOf[e.str] = e.str, e.id
	return nil
}

// resolve returns the labels of the series whose every symbol is known.
func (dl *dayLabels) resolve() map[uint32]Labels {
	labels := make(map[uint32]Labels, len(dl.series))
	for id, f := range dl.series {
		ls := make(Labels, 0, len(f.refs)/2)
		for i := 0; i+1 < len(f.refs); i += 2 {
			name, ok1 := dl.symAt[f.refs[i]]
			value, ok2 := dl.symAt[f.refs[i+1]]
			if !ok1 || !ok2 {
				ls = nil
				break
			}
			ls = append(ls, Label{Name: name, Value: value})
		}
		if ls != nil && ls.Validate() == nil {
			labels[id] = ls
		}
	}
	return labels
}

// checkOrphans fails when p has chunks of a series known reports false for.
func checkOrphans(p *partition, known func(uint32) bool) error {
	p.lmu.Lock()
	ids := p.labeled.Clone()
	ids.Or(p.unlabeled)
	p.lmu.Unlock()
	n, first := 0, uint32(0)
	for it := ids.Iterator(); it.HasNext(); {
		if id := it.Next(); !known(id) {
			if n == 0 {
				first = id
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("day file %q holds chunks of %d series whose labels no day file has (series %d first): "+
		"move that file away to start without its samples, or restore index.db", p.path, n, first)
}

// rebuildSymbols puts every symbol back at its ID in ix's new symbol
// table; an ID no day file holds (its series are gone) gets a placeholder
// no series refers to.
func rebuildSymbols(ix *index, symAt map[uint32]string) error {
	if s, ok := symAt[ix.nameSym]; ok && s != MetricName {
		return fmt.Errorf("a day file gives symbol %d, the symbol of %q, to %q", ix.nameSym, MetricName, s)
	}
	var top uint32
	for sym := range symAt {
		top = max(top, sym)
	}
	for sym := uint32(len(ix.syms.strs)); sym <= top; sym++ {
		s, ok := symAt[sym]
		if !ok {
			s = fmt.Sprintf("\x00outpost: symbol %d lost with index.db", sym)
		}
		if ix.syms.lookup(s) != 0 {
			return fmt.Errorf("symbol %q twice", s)
		}
		ix.syms.appendNew(strings.Clone(s))
	}
	return nil
}

// addLabels writes into each day file the labels of its series it lacks
// (files written before day files carried labels, salvaged files), from
// the index.
func (ps *partitions) addLabels(ix *index) error {
	for _, p := range ps.sorted() {
		orphans, err := p.addLabels(ix)
		if err != nil {
			return err
		}
		if !orphans.IsEmpty() {
			ps.logger.Error("day file holds chunks of series the index does not know; their samples cannot be read",
				"path", p.path, "series", orphans.GetCardinality())
		}
	}
	return nil
}
