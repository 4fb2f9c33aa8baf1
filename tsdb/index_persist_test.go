package tsdb

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// indexOpenNoCleanup opens path; the caller closes it.
func indexOpenNoCleanup(t testing.TB, path string) *index {
	t.Helper()
	ix, err := openIndex(path, 0, nil)
	if err != nil {
		t.Fatalf("openIndex: %v", err)
	}
	return ix
}

// indexCopyFile copies a (committed) index.db, as a crash would leave it,
// into a new temporary directory.
func indexCopyFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "index.db")
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// indexRandomSeries returns n distinct random series over a few labels,
// some of them absent, with values of low and high cardinality.
func indexRandomSeries(rng *rand.Rand, n int) []Labels {
	seen := make(map[string]bool)
	var out []Labels
	for len(out) < n {
		nv := []string{MetricName, fmt.Sprintf("m%d", rng.IntN(6))}
		for _, name := range []string{"a", "b", "c", "region", "id"} {
			if rng.IntN(4) == 0 {
				continue // label absent
			}
			var v string
			switch name {
			case "region":
				v = []string{"us-east", "us-west", "eu-west", "ap", "us"}[rng.IntN(5)]
			case "id":
				v = fmt.Sprintf("id%d", rng.IntN(5*n))
			default:
				v = fmt.Sprintf("%s%d", name, rng.IntN(8))
			}
			nv = append(nv, name, v)
		}
		ls := FromStrings(nv...)
		if !seen[ls.String()] {
			seen[ls.String()] = true
			out = append(out, ls)
		}
	}
	return out
}

// indexSnapshot captures everything observable about an index.
func indexSnapshot(t *testing.T, ix *index) map[string]string {
	t.Helper()
	s := make(map[string]string)
	for id := uint32(1); id < ix.nextID; id++ {
		if ls, ok := ix.labels(id); ok {
			s[fmt.Sprint("series ", id)] = fmt.Sprint(ls, " metric ", ix.metricID(id))
		}
	}
	s["names"] = strings.Join(ix.labelNames(nil), ",")
	for _, name := range ix.labelNames(nil) {
		vals := ix.labelValues(name, nil)
		s["values "+name] = strings.Join(vals, ",")
		for _, v := range vals {
			bm, err := ix.postings([]*Matcher{MustNewMatcher(MatchEqual, name, v)})
			if err != nil {
				t.Fatal(err)
			}
			s["postings "+name+"="+v] = fmt.Sprint(bm.ToArray())
		}
	}
	return s
}

func TestIndex_Persist_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	ix := indexOpenNoCleanup(t, path)
	series := indexRandomSeries(rand.New(rand.NewPCG(1, 2)), 600)
	for i, ls := range series {
		mustGetOrCreate(t, ix, ls)
		if i == 200 || i == 450 {
			if err := ix.persist(); err != nil {
				t.Fatal(err)
			}
			if n := ix.unpersisted(); n != 0 {
				t.Fatalf("unpersisted after persist = %d", n)
			}
		}
	}
	if n := ix.unpersisted(); n != 149 {
		t.Fatalf("unpersisted = %d, want 149", n)
	}
	want := indexSnapshot(t, ix)
	if err := ix.close(); err != nil { // close persists the rest
		t.Fatal(err)
	}
	re := indexOpenNoCleanup(t, path)
	defer re.close()
	t.Run("same state", func(t *testing.T) {
		got := indexSnapshot(t, re)
		if len(got) != len(want) {
			t.Fatalf("reopened index has %d facts, want %d", len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: got %s, want %s", k, got[k], v)
			}
		}
		if re.unpersisted() != 0 || re.syms.strs[1] != MetricName {
			t.Fatalf("unpersisted %d, symbol 1 %q", re.unpersisted(), re.syms.strs[1])
		}
	})
	t.Run("same IDs", func(t *testing.T) {
		for i, ls := range series {
			if id, created := mustGetOrCreate(t, re, ls); id != uint32(i+1) || created {
				t.Fatalf("%s: got %d %v, want %d false", ls, id, created, i+1)
			}
		}
		if id, created := mustGetOrCreate(t, re, FromStrings(MetricName, "new")); id != 601 || !created {
			t.Fatalf("new series: got %d %v, want 601 true", id, created)
		}
	})
}

// TestIndex_Persist_CrashReplay checks what metricID's contract relies on: a
// crash loses the unpersisted series, and replaying them in ID order gives
// back the same symbol IDs, hence the same metric IDs.
func TestIndex_Persist_CrashReplay(t *testing.T) {
	ix, path := indexOpenTest(t, 0)
	series := indexRandomSeries(rand.New(rand.NewPCG(3, 4)), 300)
	for _, ls := range series[:100] {
		mustGetOrCreate(t, ix, ls)
	}
	if err := ix.persist(); err != nil {
		t.Fatal(err)
	}
	for _, ls := range series[100:] {
		mustGetOrCreate(t, ix, ls)
	}
	crashed := indexOpenNoCleanup(t, indexCopyFile(t, path))
	defer crashed.close()
	if crashed.numSeries() != 100 || crashed.nextID != 101 {
		t.Fatalf("after crash: %d series, nextID %d, want 100 and 101", crashed.numSeries(), crashed.nextID)
	}
	for i, ls := range series[100:] {
		if err := crashed.add(uint32(101+i), ls); err != nil {
			t.Fatal(err)
		}
	}
	for id := uint32(1); id <= 300; id++ {
		if a, b := ix.metricID(id), crashed.metricID(id); a != b || a == 0 {
			t.Fatalf("series %d: metricID %d before the crash, %d after replay", id, a, b)
		}
	}
	if crashed.unpersisted() != 200 {
		t.Fatalf("replayed series pending = %d, want 200", crashed.unpersisted())
	}
}

// indexWriteRaw builds an index.db by hand for the corruption cases.
func indexWriteRaw(t *testing.T, fill func(tx *bolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fill); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func indexKey(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

// indexRawFile returns a fill function for a well-formed file with the
// given version, symbols and series (raw values), after which edit runs.
func indexRawFile(version uint32, syms []string, series map[uint32][]byte) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte(indexBucketMeta))
		sb, _ := tx.CreateBucket([]byte(indexBucketSymbols))
		se, _ := tx.CreateBucket([]byte(indexBucketSeries))
		if err := meta.Put([]byte(indexKeyVersion), indexKey(version)); err != nil {
			return err
		}
		for i, s := range syms {
			if err := sb.Put(indexKey(uint32(i+1)), []byte(s)); err != nil {
				return err
			}
		}
		for id, v := range series {
			if err := se.Put(indexKey(id), v); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestIndex_Open_Corrupt(t *testing.T) {
	syms := []string{MetricName, "up", "job", "x"}
	good := indexAppendEncoded(nil, []uint32{1, 2, 3, 4}) // __name__="up", job="x"
	f := func(name string, fill func(tx *bolt.Tx) error, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			path := indexWriteRaw(t, fill)
			ix, err := openIndex(path, 0, nil)
			if err == nil {
				ix.close()
				t.Fatalf("open succeeded, want an error containing %q", want)
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the path and %q", err, want)
			}
		})
	}
	f("newer version", indexRawFile(3, syms, nil), "format version 3 is newer")
	f("version zero", indexRawFile(0, syms, nil), "unknown format version 0")
	f("foreign file", func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("alerts")); return err }, `unexpected bucket "alerts"`)
	f("missing bucket", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte(indexBucketMeta))
		return err
	}, "2 of the buckets")
	f("symbol gap", func(tx *bolt.Tx) error {
		indexRawFile(1, syms, nil)(tx)
		return tx.Bucket([]byte(indexBucketSymbols)).Put(indexKey(9), []byte("y"))
	}, "where symbol 5 belongs")
	f("duplicate symbol", indexRawFile(1, []string{MetricName, "up", "up"}, nil), "symbol 3 \"up\" is a duplicate")
	f("missing symbol", indexRawFile(1, syms, map[uint32][]byte{1: indexAppendEncoded(nil, []uint32{1, 2, 3, 40})}), "corrupt series 1: label 1 refers to a missing symbol")
	f("trailing bytes", indexRawFile(1, syms, map[uint32][]byte{1: append(slices.Clone(good), 0)}), "corrupt series 1: 1 trailing bytes")
	f("truncated", indexRawFile(1, syms, map[uint32][]byte{1: good[:3]}), "corrupt series 1")
	f("unsorted", indexRawFile(1, syms, map[uint32][]byte{1: indexAppendEncoded(nil, []uint32{3, 4, 1, 2})}), "out of order")
	f("duplicate series", indexRawFile(1, syms, map[uint32][]byte{1: good, 2: good}), "corrupt series 2: same labels as series 1")
	f("ID zero", indexRawFile(1, syms, map[uint32][]byte{0: good}), "corrupt series 0: ID out of range")
	f("huge count", indexRawFile(1, syms, map[uint32][]byte{3: {0xff, 0xff, 0xff, 0x0f}}), "corrupt series 3")
	t.Run("not a bbolt file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "index.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("garbage!", 1024)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := openIndex(path, 0, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("open garbage: %v, want an error naming the path", err)
		}
	})
	t.Run("good file", func(t *testing.T) {
		ix, err := openIndex(indexWriteRaw(t, indexRawFile(1, syms, map[uint32][]byte{7: good})), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.close()
		if ls, _ := ix.labels(7); ls.String() != `up{job="x"}` || ix.nextID != 8 {
			t.Fatalf("labels(7) = %s, nextID %d", ls, ix.nextID)
		}
	})
}
