package tsdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// indexOpenTest opens an index.db in a fresh temporary directory; it is
// closed when the test ends.
func indexOpenTest(t testing.TB, maxSeries int) (*index, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := openIndex(path, maxSeries, nil)
	if err != nil {
		t.Fatalf("openIndex: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return ix, path
}

// indexTestSeries returns n distinct series of the metric name.
func indexTestSeries(name string, n int) []Labels {
	out := make([]Labels, n)
	for i := range out {
		out[i] = FromStrings(MetricName, name, "host", fmt.Sprintf("h%d", i%7), "i", fmt.Sprint(i))
	}
	return out
}

func mustGetOrCreate(t testing.TB, ix *index, ls Labels) (uint32, bool) {
	t.Helper()
	id, created, err := ix.getOrCreate(ls)
	if err != nil {
		t.Fatalf("getOrCreate(%s): %v", ls, err)
	}
	return id, created
}

func TestIndex_GetOrCreate_RoundTrip(t *testing.T) {
	ix, _ := indexOpenTest(t, 0)
	series := append(indexTestSeries("cpu", 50), indexTestSeries("mem", 50)...)
	series = append(series, FromStrings(MetricName, "up"), FromStrings(MetricName, "x", "A", "upper", "e", ""))
	t.Run("create", func(t *testing.T) {
		for i, ls := range series {
			id, created := mustGetOrCreate(t, ix, ls)
			if id != uint32(i+1) || !created {
				t.Fatalf("series %s: got id %d created %v, want %d true", ls, id, created, i+1)
			}
		}
	})
	t.Run("hit", func(t *testing.T) {
		for i, ls := range series {
			id, created := mustGetOrCreate(t, ix, ls.Copy())
			if id != uint32(i+1) || created {
				t.Fatalf("series %s: got id %d created %v, want %d false", ls, id, created, i+1)
			}
		}
		if got := ix.numSeries(); got != len(series) {
			t.Fatalf("numSeries = %d, want %d", got, len(series))
		}
	})
	t.Run("labels", func(t *testing.T) {
		for i, ls := range series {
			got, ok := ix.labels(uint32(i + 1))
			if !ok || !got.Equal(ls) {
				t.Fatalf("labels(%d) = %s %v, want %s", i+1, got, ok, ls)
			}
			buf := Labels{{Name: "keep", Value: "me"}}
			got, ok = ix.appendLabels(buf, uint32(i+1))
			if !ok || !got[1:].Equal(ls) || got[0].Name != "keep" {
				t.Fatalf("appendLabels(%d) = %s %v", i+1, got, ok)
			}
		}
		for _, id := range []uint32{0, uint32(len(series) + 1), 1 << 20, indexMaxID} {
			if got, ok := ix.labels(id); ok || got != nil {
				t.Fatalf("labels(%d) = %s %v, want nothing", id, got, ok)
			}
		}
	})
	t.Run("metricID", func(t *testing.T) {
		cpu, mem := ix.metricID(1), ix.metricID(51)
		if cpu == 0 || mem == 0 || cpu == mem {
			t.Fatalf("metricID cpu %d mem %d: want distinct and non-zero", cpu, mem)
		}
		for i := 2; i <= 50; i++ {
			if got := ix.metricID(uint32(i)); got != cpu {
				t.Fatalf("metricID(%d) = %d, want %d", i, got, cpu)
			}
		}
		if got := ix.metricID(9999); got != 0 {
			t.Fatalf("metricID of unknown series = %d, want 0", got)
		}
		if got := ix.syms.strs[ix.metricID(uint32(len(series)))]; got != "x" {
			t.Fatalf("metricID of a series with a label before __name__ names %q, want x", got)
		}
	})
	t.Run("caller buffer is copied", func(t *testing.T) {
		b := []byte("reused-value")
		ls := Labels{{Name: MetricName, Value: "buf"}, {Name: "k", Value: string(b)}}
		id, _ := mustGetOrCreate(t, ix, ls)
		ls[1].Value = "changed"
		got, _ := ix.labels(id)
		if got.Get("k") != "reused-value" {
			t.Fatalf("stored labels follow the caller's buffer: %s", got)
		}
	})
}

func TestIndex_GetOrCreate_HashCollision(t *testing.T) {
	for _, mask := range []uint64{0, 1, 0xff00000000000000} {
		t.Run(fmt.Sprintf("mask=%#x", mask), func(t *testing.T) {
			ix, path := indexOpenTest(t, 0)
			ix.hashMask = mask // forces many series onto the same hash
			series := indexTestSeries("coll", 300)
			for i, ls := range series {
				if id, created := mustGetOrCreate(t, ix, ls); id != uint32(i+1) || !created {
					t.Fatalf("create %s: id %d created %v", ls, id, created)
				}
			}
			for i, ls := range series {
				if id, created := mustGetOrCreate(t, ix, ls); id != uint32(i+1) || created {
					t.Fatalf("lookup %s: id %d created %v, want %d", ls, id, created, i+1)
				}
			}
			if err := ix.persist(); err != nil {
				t.Fatal(err)
			}
			copyPath := indexCopyFile(t, path)
			re := indexOpenNoCleanup(t, copyPath)
			defer re.close()
			if got := re.numSeries(); got != len(series) {
				t.Fatalf("reopened numSeries = %d", got)
			}
		})
	}
}

func TestIndex_GetOrCreate_Limit(t *testing.T) {
	ix, _ := indexOpenTest(t, 3)
	series := indexTestSeries("lim", 5)
	for _, ls := range series[:3] {
		mustGetOrCreate(t, ix, ls)
	}
	t.Run("new series refused", func(t *testing.T) {
		id, created, err := ix.getOrCreate(series[3])
		if !errors.Is(err, ErrTooManySeries) || id != 0 || created {
			t.Fatalf("got %d %v %v, want ErrTooManySeries", id, created, err)
		}
		if !strings.Contains(err.Error(), `i="3"`) || !strings.Contains(err.Error(), "limit 3") {
			t.Fatalf("error %q does not name the series and the limit", err)
		}
		if ix.numSeries() != 3 || ix.unpersisted() != 3 {
			t.Fatalf("numSeries %d unpersisted %d after refusal, want 3 3", ix.numSeries(), ix.unpersisted())
		}
		if vals := ix.labelValues("i", nil); !slices.Equal(vals, []string{"0", "1", "2"}) {
			t.Fatalf("refused series left values behind: %q", vals)
		}
	})
	t.Run("existing series resolve", func(t *testing.T) {
		for i, ls := range series[:3] {
			if id, created := mustGetOrCreate(t, ix, ls); id != uint32(i+1) || created {
				t.Fatalf("got %d %v, want %d false", id, created, i+1)
			}
		}
	})
	t.Run("replay is not limited", func(t *testing.T) {
		if err := ix.add(9, series[4]); err != nil {
			t.Fatalf("add over the limit: %v", err)
		}
		if got := ix.numSeries(); got != 4 {
			t.Fatalf("numSeries = %d, want 4", got)
		}
	})
}

func TestIndex_Add_Replay(t *testing.T) {
	ix, _ := indexOpenTest(t, 0)
	a, b, c := FromStrings(MetricName, "a"), FromStrings(MetricName, "b"), FromStrings(MetricName, "c")
	t.Run("out of order", func(t *testing.T) {
		for _, e := range []struct {
			id uint32
			ls Labels
		}{{5, a}, {3, b}, {5, a}} {
			if err := ix.add(e.id, e.ls); err != nil {
				t.Fatalf("add(%d, %s): %v", e.id, e.ls, err)
			}
		}
		if ix.numSeries() != 2 {
			t.Fatalf("numSeries = %d, want 2", ix.numSeries())
		}
	})
	t.Run("conflicts", func(t *testing.T) {
		f := func(id uint32, ls Labels, want string) {
			t.Helper()
			err := ix.add(id, ls)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("add(%d, %s) = %v, want an error containing %q", id, ls, err, want)
			}
		}
		f(5, c, "already belongs to a{}")
		f(7, a, "already registered as series 5")
		f(0, c, "out of range")
		f(indexMaxID+1, c, "out of range")
	})
	t.Run("create continues above", func(t *testing.T) {
		if id, created := mustGetOrCreate(t, ix, c); id != 6 || !created {
			t.Fatalf("got %d %v, want 6 true", id, created)
		}
		if id, created := mustGetOrCreate(t, ix, a); id != 5 || created {
			t.Fatalf("got %d %v, want 5 false", id, created)
		}
		if err := ix.add(100, FromStrings(MetricName, "d")); err != nil {
			t.Fatal(err)
		}
		if id, _ := mustGetOrCreate(t, ix, FromStrings(MetricName, "e")); id != 101 {
			t.Fatalf("got %d, want 101", id)
		}
	})
}

func TestIndex_Close_RefusesNewSeries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	ix := indexOpenNoCleanup(t, path)
	old := FromStrings(MetricName, "old")
	mustGetOrCreate(t, ix, old)
	if err := ix.close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ix.getOrCreate(FromStrings(MetricName, "new")); !errors.Is(err, ErrClosed) {
		t.Fatalf("create after close: %v, want ErrClosed", err)
	}
	if id, created := mustGetOrCreate(t, ix, old); id != 1 || created {
		t.Fatalf("existing series after close: %d %v", id, created)
	}
	if err := ix.persist(); !errors.Is(err, ErrClosed) {
		t.Fatalf("persist after close: %v, want ErrClosed", err)
	}
	if err := ix.close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestIndex_GetOrCreate_Concurrent(t *testing.T) {
	ix, _ := indexOpenTest(t, 0)
	series := append(indexTestSeries("con", 1500), indexTestSeries("cur", 500)...)
	const workers = 8
	got := make([][]uint32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ids := make([]uint32, len(series))
			order := rand.New(rand.NewPCG(uint64(w), 7)).Perm(len(series))
			for k, i := range order {
				id, _, err := ix.getOrCreate(series[i])
				if err != nil {
					t.Errorf("getOrCreate: %v", err)
					return
				}
				ids[i] = id
				if k%97 == 0 { // queries and persists race with creation
					if _, err := ix.postings([]*Matcher{MustNewMatcher(MatchRegexp, "host", "h[12]")}); err != nil {
						t.Errorf("postings: %v", err)
					}
					if w == 0 {
						if err := ix.persist(); err != nil {
							t.Errorf("persist: %v", err)
						}
					}
				}
			}
			got[w] = ids
		})
	}
	wg.Wait()
	seen := make(map[uint32]int)
	for i := range series {
		id := got[0][i]
		for w := 1; w < workers; w++ {
			if got[w][i] != id {
				t.Fatalf("series %s: worker 0 got %d, worker %d got %d", series[i], id, w, got[w][i])
			}
		}
		if j, dup := seen[id]; dup {
			t.Fatalf("ID %d given to %s and %s", id, series[j], series[i])
		}
		seen[id] = i
		if ls, _ := ix.labels(id); !ls.Equal(series[i]) {
			t.Fatalf("labels(%d) = %s, want %s", id, ls, series[i])
		}
	}
	if ix.numSeries() != len(series) || int(ix.nextID) != len(series)+1 {
		t.Fatalf("numSeries %d nextID %d, want %d and %d", ix.numSeries(), ix.nextID, len(series), len(series)+1)
	}
	bm, err := ix.postings([]*Matcher{MustNewMatcher(MatchEqual, MetricName, "con")})
	if err != nil || bm.GetCardinality() != 1500 {
		t.Fatalf("postings of con: %v %v, want 1500 series", bm.GetCardinality(), err)
	}
}
