package tsdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/tsdb/chunkenc"
)

// Run: go test -run 'Damage|BoltFile|Salvage' ./tsdb/

// damageNow is the clock of the damage tests: the store holds the 60 hours
// before it, in three day files.
var damageNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// damageSeries and damageStep shape the data: 40 series, a sample every 30 s.
const (
	damageSeries = 40
	damageStep   = 30_000
	damageHours  = 60
)

// damageStore writes the test data, closes the store (so every sample is
// in a day file and the WAL is empty) and returns its directory and what
// it holds. Each test copies it.
func damageStore(t *testing.T) (string, map[string][]Sample) {
	t.Helper()
	dir := t.TempDir()
	clock := newTestClock(damageNow)
	db := openTestDB(t, testConfig(dir), clock)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 8))
	vals := make([]float64, damageSeries)
	from := damageNow.Add(-damageHours * time.Hour).UnixMilli()
	var pts []Point
	for ts := from; ts < damageNow.UnixMilli(); ts += damageStep {
		for s := range damageSeries {
			vals[s] += rng.NormFloat64()
			pts = append(pts, pt(ts, math.Round(vals[s]*1000)/1000,
				"__name__", fmt.Sprintf("damage_metric_%d", s%4), "host", fmt.Sprintf("h%d", s)))
		}
		if len(pts) >= 8000 {
			if err := db.Write(ctx, pts); err != nil {
				t.Fatal(err)
			}
			pts = pts[:0]
		}
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, testConfig(dir), clock)
	want := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// copyDir copies a store directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// compareSamples counts the samples of want missing from got, and the
// samples of got that want does not hold (a wrong value or timestamp).
func compareSamples(want, got map[string][]Sample) (lost, wrong int) {
	for s, ws := range want {
		have := make(map[int64]float64, len(got[s]))
		for _, g := range got[s] {
			have[g.T] = g.V
		}
		for _, w := range ws {
			if _, ok := have[w.T]; !ok {
				lost++
			}
		}
	}
	for s, gs := range got {
		exp := make(map[int64]float64, len(want[s]))
		for _, w := range want[s] {
			exp[w.T] = w.V
		}
		for _, g := range gs {
			if v, ok := exp[g.T]; !ok || math.Float64bits(v) != math.Float64bits(g.V) {
				wrong++
			}
		}
	}
	return lost, wrong
}

// samplesOfDay counts the samples of want in the UTC day starting at day.
func samplesOfDay(want map[string][]Sample, day int64) int {
	n := 0
	for _, ws := range want {
		for _, w := range ws {
			if w.T >= day && w.T < day+dayMs {
				n++
			}
		}
	}
	return n
}

// Ways to damage a file.

func truncateTo(frac float64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(st.Size())*frac)); err != nil {
			t.Fatal(err)
		}
	}
}

// truncateUsed cuts a bbolt file to frac of the pages its meta says are in
// use (the file is longer: it grows ahead of them).
func truncateUsed(frac float64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		c := &boltChecker{f: f, size: st.Size()}
		m, err := c.readMeta()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(m.hwm*m.pageSize)*frac)); err != nil {
			t.Fatal(err)
		}
	}
}

// flipBitPerPage flips one random bit in every page of pageSize bytes.
func flipBitPerPage(pageSize int64, seed uint64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		for off := int64(0); off < int64(len(b)); off += pageSize {
			i := off + rng.Int64N(min(pageSize, int64(len(b))-off))
			b[i] ^= 1 << rng.IntN(8)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// flipIn flips a bit of the first occurrence of needle in the file.
func flipIn(needle string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), needle)
		if i < 0 {
			t.Fatalf("%q not in %s", needle, path)
		}
		b[i+len(needle)-1] ^= 0x04
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// zeroMetas zeroes both meta pages.
func zeroMetas(t *testing.T, path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [boltPageHeader + boltMetaSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		t.Fatal(err)
	}
	ps := int64(binary.LittleEndian.Uint32(h[boltPageHeader+8:]))
	if _, err := f.WriteAt(make([]byte, 2*ps), 0); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func reopenDamaged(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(testConfig(dir), Options{Now: newTestClock(damageNow).Now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatalf("open after damage: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDamage_DayFile(t *testing.T) {
	base, want := damageStore(t)
	for _, ago := range []time.Duration{24 * time.Hour, 48 * time.Hour} { // writable, then read-only
		t.Run(fmt.Sprintf("%s ago", ago), func(t *testing.T) { testDamageDay(t, base, want, damageNow.Add(-ago)) })
	}
}

func testDamageDay(t *testing.T, base string, want map[string][]Sample, at time.Time) {
	day := at.Truncate(24 * time.Hour).UnixMilli()
	inDay := samplesOfDay(want, day)
	total := 0
	for _, ws := range want {
		total += len(ws)
	}
	f := func(name string, damage func(t *testing.T, path string), maxLost int) {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, base)
			path := filepath.Join(dir, "parts", dayFileName(day))
			damage(t, path)
			db := reopenDamaged(t, dir)
			got := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
			lost, wrong := compareSamples(want, got)
			if wrong != 0 {
				t.Errorf("%d wrong samples served", wrong)
			}
			if lost > maxLost {
				t.Errorf("%d samples lost, want at most %d (the damaged day holds %d)", lost, maxLost, inDay)
			}
			named := false
			for _, d := range db.Damaged() {
				named = named || d.Path == path
			}
			if !named && lost > int(db.CorruptChunks())*120 { // a chunk holds an hour: 120 samples
				t.Errorf("%d samples lost, %d corrupt chunks reported and no damaged file: %+v", lost, db.CorruptChunks(), db.Damaged())
			}
			t.Logf("%s: lost %d of %d samples of the day (%d in all), wrong %d, corrupt chunks %d, damaged %+v",
				name, lost, inDay, total, wrong, db.CorruptChunks(), db.Damaged())
		})
	}
	f("cut to 0", truncateTo(0), inDay)
	f("cut to 25%", truncateTo(0.25), inDay)
	f("cut to 50%", truncateTo(0.5), inDay)
	f("bit flipped per page", flipBitPerPage(partitionPageSize, 1), inDay)
	f("bit flipped per 4 KiB", flipBitPerPage(4096, 2), inDay)
	f("meta pages zeroed", zeroMetas, 0)
}

func TestDamage_Index(t *testing.T) {
	base, want := damageStore(t)
	f := func(name string, damage func(t *testing.T, path string), found bool) {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, base)
			path := filepath.Join(dir, "index.db")
			damage(t, path)
			db := reopenDamaged(t, dir)
			got := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
			if lost, wrong := compareSamples(want, got); lost != 0 || wrong != 0 {
				t.Errorf("lost %d, wrong %d of %d samples", lost, wrong, len(want))
			}
			ds := db.Damaged()
			if found && (len(ds) != 1 || ds[0].Path != path || !strings.Contains(ds[0].Recovery, "rebuilt")) {
				t.Errorf("damage reported: %+v, want index.db rebuilt", ds)
			}
			t.Logf("%s: %+v", name, ds)
			// The rebuilt index serves new writes and survives a restart.
			ctx := context.Background()
			if err := db.Write(ctx, []Point{pt(damageNow.UnixMilli()-1000, 1, "__name__", "damage_new", "host", "h0")}); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = reopenDamaged(t, dir)
			got = readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
			if lost, wrong := compareSamples(want, got); lost != 0 || wrong != 1 {
				t.Errorf("after restart: lost %d, other %d (want 0, 1)", lost, wrong)
			}
		})
	}
	f("deleted", removeFile, true)
	f("emptied", truncateTo(0), true)
	f("cut to 50% of its pages", truncateUsed(0.5), true)
	f("bit flipped in a symbol", flipIn("damage_metric_1"), true)
	f("bit flipped per page", flipBitPerPage(4096, 3), false) // most land in free space
	f("meta pages zeroed", zeroMetas, true)
	t.Run("stale copy", func(t *testing.T) {
		// An index.db from before most series existed, restored over the
		// current one: the day files name series it does not know.
		dir := t.TempDir()
		clock := newTestClock(damageNow)
		db := openTestDB(t, testConfig(dir), clock)
		ctx := context.Background()
		if err := db.Write(ctx, []Point{pt(damageNow.UnixMilli()-5000, 1, "__name__", "damage_old", "host", "a")}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(filepath.Join(dir, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		db = openTestDB(t, testConfig(dir), clock)
		for i := range 10 {
			if err := db.Write(ctx, []Point{pt(damageNow.UnixMilli()-4000, float64(i), "__name__", "damage_new", "host", fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.db"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		db = reopenDamaged(t, dir)
		got := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
		if len(got) != 11 {
			t.Fatalf("after restoring a stale index.db: %d series, want 11", len(got))
		}
		if ds := db.Damaged(); len(ds) != 1 || !strings.Contains(ds[0].Reason, "stale") {
			t.Errorf("damage reported: %+v", ds)
		}
	})
}

// TestDamage_IndexNoLabels: with index.db lost, a day file holding chunks
// of series no day file names stops the start, with one line naming it.
func TestDamage_IndexNoLabels(t *testing.T) {
	base, _ := damageStore(t)
	dir := copyDir(t, base)
	day := filepath.Join(dir, "parts", dayFileName(damageNow.Truncate(24*time.Hour).UnixMilli()))
	db, err := bolt.Open(day, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the labels of the series in the other day files but one.
	err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(seriesBucket) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"parts/" + dayFileName(damageNow.Add(-24*time.Hour).Truncate(24*time.Hour).UnixMilli()),
		"parts/" + dayFileName(damageNow.Add(-48*time.Hour).Truncate(24*time.Hour).UnixMilli()), "index.db"} {
		removeFile(t, filepath.Join(dir, p))
	}
	_, err = Open(testConfig(dir), Options{Now: newTestClock(damageNow).Now})
	if err == nil || !strings.Contains(err.Error(), day) || !strings.Contains(err.Error(), "index.db") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("open = %v, want one line naming %s and index.db", err, day)
	}
}

// TestDamage_ChunkCRC flips one byte inside one chunk: reads leave that
// chunk out, count it once and name the file; nothing else changes.
func TestDamage_ChunkCRC(t *testing.T) {
	base, want := damageStore(t)
	dir := copyDir(t, base)
	path := filepath.Join(dir, "parts", dayFileName(damageNow.Truncate(24*time.Hour).UnixMilli()))
	off, n := firstChunk(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off+int64(n)/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db := reopenDamaged(t, dir)
	for range 2 {
		got := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
		lost, wrong := compareSamples(want, got)
		if wrong != 0 || lost == 0 || lost > 120 {
			t.Fatalf("lost %d, wrong %d: want one chunk (at most 120 samples) lost, none wrong", lost, wrong)
		}
	}
	if n := db.CorruptChunks(); n != 1 {
		t.Fatalf("CorruptChunks = %d, want 1", n)
	}
	if len(db.Damaged()) != 0 {
		t.Fatalf("Damaged = %+v: a bad chunk does not set the file aside", db.Damaged())
	}
}

// firstChunk returns the file offset and length of the first chunk of the
// first flush bucket of a day file.
func firstChunk(t *testing.T, path string) (int64, int) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var chunk []byte
	db.View(func(tx *bolt.Tx) error {
		c := tx.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if _, _, ok := parseBucketName(k); ok {
				_, v := tx.Bucket(k).Cursor().First()
				chunk = append([]byte(nil), v...)
				return nil
			}
		}
		return nil
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), string(chunk))
	if chunk == nil || i < 0 {
		t.Fatal("no chunk found")
	}
	return int64(i), len(chunk)
}

// TestDamage_BrokenWhileOpen damages a day file under a running store:
// reads skip the file (no panic, no wrong value), the damage is reported,
// and the next flush into that day salvages and replaces it.
func TestDamage_BrokenWhileOpen(t *testing.T) {
	base, want := damageStore(t)
	dir := copyDir(t, base)
	day := damageNow.Truncate(24 * time.Hour).UnixMilli()
	path := filepath.Join(dir, "parts", dayFileName(day))
	db := reopenDamaged(t, dir)
	// Overwrite every page but the metas with garbage.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	junk := make([]byte, len(b)-2*partitionPageSize)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(junk, 2*partitionPageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := readAll(t, db, MinTime, MaxTime, MustNewMatcher(MatchRegexp, "__name__", "damage_.*"))
	lost, wrong := compareSamples(want, got)
	if wrong != 0 || lost > samplesOfDay(want, day) {
		t.Fatalf("lost %d (the day holds %d), wrong %d", lost, samplesOfDay(want, day), wrong)
	}
	if ds := db.Damaged(); len(ds) != 1 || ds[0].Path != path || ds[0].MovedTo != "" {
		t.Fatalf("Damaged = %+v, want %s, still in place", ds, path)
	}
	// A flush into that day sets the file aside and starts a new one.
	ctx := context.Background()
	if err := db.Write(ctx, []Point{pt(damageNow.UnixMilli()-1000, 7, "__name__", "damage_late", "host", "x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ds := db.Damaged(); len(ds) != 1 || ds[0].MovedTo == "" {
		t.Fatalf("after a flush into the day: Damaged = %+v, want it set aside", ds)
	}
	if got := readAll(t, db, MinTime, MaxTime, eq("__name__", "damage_late")); len(got) != 1 {
		t.Fatalf("the new write reads back as %v", got)
	}
}

func TestCheckBoltFile(t *testing.T) {
	base, _ := damageStore(t)
	day := filepath.Join(base, "parts", dayFileName(damageNow.Truncate(24*time.Hour).UnixMilli()))
	if err := checkBoltFile(day, true); err != nil {
		t.Fatalf("healthy day file: %v", err)
	}
	if err := checkBoltFile(filepath.Join(base, "index.db"), true); err != nil {
		t.Fatalf("healthy index.db: %v", err)
	}
	f := func(name string, damage func(t *testing.T, path string), want string) {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.db")
			b, err := os.ReadFile(day)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			damage(t, p)
			err = checkBoltFile(p, true)
			if !isDamage(err) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("check = %v, want a damage error naming the file and %q", err, want)
			}
		})
	}
	f("empty", truncateTo(0), "empty")
	f("cut", truncateUsed(0.9), "truncated")
	f("metas zeroed", zeroMetas, "no valid meta page")
	f("root page zeroed", func(t *testing.T, p string) {
		pg := rootPage(t, p)
		f, _ := os.OpenFile(p, os.O_WRONLY, 0)
		defer f.Close()
		f.WriteAt(make([]byte, partitionPageSize), pg*partitionPageSize)
	}, "header says page 0")
	if err := checkBoltFile(filepath.Join(t.TempDir(), "none.db"), true); !errors.Is(err, os.ErrNotExist) || isDamage(err) {
		t.Fatalf("missing file: %v, want a plain not-exist error", err)
	}
}

// rootPage returns the root bucket's page of a bbolt file.
func rootPage(t *testing.T, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	c := &boltChecker{f: f, size: st.Size()}
	m, err := c.readMeta()
	if err != nil {
		t.Fatal(err)
	}
	return int64(m.root)
}

// FuzzCheckBoltFile feeds damaged day files to the checker and, when it
// passes them, to bbolt and the store's reads: no input may panic.
func FuzzCheckBoltFile(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(testConfig(dir), Options{Now: newTestClock(damageNow).Now, MaintainEvery: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	var pts []Point
	for i := range 2000 {
		pts = append(pts, pt(damageNow.UnixMilli()-int64(i)*1000, float64(i), "__name__", "fz", "i", fmt.Sprint(i%7)))
	}
	if err := db.Write(context.Background(), pts); err != nil {
		f.Fatal(err)
	}
	if err := db.Close(); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, "parts", dayFileName(damageNow.Truncate(24*time.Hour).UnixMilli())))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint64(1), uint16(3), byte(1))
	f.Fuzz(func(t *testing.T, at uint64, n uint16, x byte) {
		b := append([]byte(nil), seed...)
		rng := rand.New(rand.NewPCG(at, uint64(n)))
		for range int(n%64) + 1 {
			b[rng.IntN(len(b))] ^= x | 1
		}
		p := filepath.Join(t.TempDir(), dayFileName(damageNow.Truncate(24*time.Hour).UnixMilli()))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		now := damageNow.Add(time.Duration(n%2) * 72 * time.Hour) // odd n: the file is old, opened read-only
		ps, err := openPartitions(filepath.Dir(p), newTestClock(now).Now, log, newDamageLog(log, time.Now))
		if err != nil {
			return
		}
		defer ps.close()
		for _, part := range ps.sorted() {
			metric := fileMetrics(part)
			out := make(map[uint32][]partChunk)
			part.read(MinTime, MaxTime, part.labeled, func(id uint32) uint32 { return metric[id] }, out)
			for _, cs := range out {
				for _, c := range cs {
					if _, _, err := chunkenc.Decode(c.data, nil, nil); err != nil {
						t.Fatalf("a chunk that passed its CRC does not decode: %v", err)
					}
				}
			}
		}
	})
}

// fileMetrics returns the metric symbol of each series of a day file, from
// its label blocks.
func fileMetrics(p *partition) map[uint32]uint32 {
	syms := make(map[uint32]string)
	refs := make(map[uint32][]uint32)
	for _, b := range [][]byte{symbolsBucket, seriesBucket} {
		p.eachLabelBlock(b, func(kind byte, es []labelEntry) error {
			for _, e := range es {
				if kind == labelBlockSymbols {
					syms[e.id] = e.str
				} else {
					refs[e.id] = e.refs
				}
			}
			return nil
		}, func([]byte, error) {})
	}
	out := make(map[uint32]uint32)
	for id, rs := range refs {
		for i := 0; i+1 < len(rs); i += 2 {
			if syms[rs[i]] == MetricName {
				out[id] = rs[i+1]
			}
		}
	}
	return out
}
