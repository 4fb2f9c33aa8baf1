package tsdb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// indexBrute returns the IDs of the series of all (ID i+1 is all[i]) that
// match every matcher, by Prometheus' definition.
func indexBrute(all []Labels, ms []*Matcher) []uint32 {
	var out []uint32
	for i, ls := range all {
		ok := true
		for _, m := range ms {
			if !m.Matches(ls.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, uint32(i+1))
		}
	}
	return out
}

func indexMatchersString(ms []*Matcher) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.String())
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func TestIndex_Postings_Kinds(t *testing.T) {
	ix, _ := indexOpenTest(t, 0)
	series := []Labels{
		FromStrings(MetricName, "cpu", "region", "us-east", "host", "a"),  // 1
		FromStrings(MetricName, "cpu", "region", "us-west", "host", "b"),  // 2
		FromStrings(MetricName, "cpu", "region", "eu-west", "host", "c"),  // 3
		FromStrings(MetricName, "cpu", "host", "d"),                       // 4
		FromStrings(MetricName, "mem", "region", "us-east", "host", "a"),  // 5
		FromStrings(MetricName, "mem", "region", "", "host", "e"),         // 6
		FromStrings(MetricName, "disk", "region", "us", "dev", "sda|sdb"), // 7
	}
	for _, ls := range series {
		mustGetOrCreate(t, ix, ls)
	}
	m := MustNewMatcher
	f := func(want []uint32, ms ...*Matcher) {
		t.Helper()
		got, err := ix.postings(ms)
		if err != nil {
			t.Fatalf("postings%s: %v", indexMatchersString(ms), err)
		}
		if !slices.Equal(got.ToArray(), want) || !slices.Equal(indexBrute(series, ms), want) {
			t.Fatalf("postings%s = %v, want %v (brute force %v)", indexMatchersString(ms), got.ToArray(), want, indexBrute(series, ms))
		}
	}
	f([]uint32{1, 2, 3, 4, 5, 6, 7})
	f([]uint32{1, 2, 3, 4}, m(MatchEqual, MetricName, "cpu"))
	f(nil, m(MatchEqual, MetricName, "nope"))
	f(nil, m(MatchEqual, "nolabel", "x"))
	f([]uint32{1, 2, 3, 4, 5, 6, 7}, m(MatchEqual, "nolabel", ""))
	f([]uint32{7}, m(MatchEqual, "host", ""), m(MatchNotEqual, MetricName, "x"))
	f([]uint32{4, 6}, m(MatchEqual, "region", ""))
	f([]uint32{1, 2, 3, 5, 7}, m(MatchNotEqual, "region", ""))
	f([]uint32{2, 3, 4, 6, 7}, m(MatchNotEqual, "region", "us-east"))
	f([]uint32{1, 2}, m(MatchRegexp, "region", "us-.*"), m(MatchEqual, MetricName, "cpu"))
	f([]uint32{1, 5, 7}, m(MatchRegexp, "region", "us-east|us"))
	f([]uint32{1, 4, 5, 6}, m(MatchRegexp, "region", "us-east|"))
	f([]uint32{2, 3, 7}, m(MatchNotRegexp, "region", "us-east|"))
	f([]uint32{2, 3, 4, 6}, m(MatchNotRegexp, "region", "us-east|us"))
	f([]uint32{4, 6}, m(MatchRegexp, "region", ""))
	f([]uint32{1, 2, 3, 5, 7}, m(MatchNotRegexp, "region", ""))
	f([]uint32{1, 2, 3, 4, 5, 6, 7}, m(MatchRegexp, "region", ".*"))
	f([]uint32{1, 2, 3, 5, 7}, m(MatchRegexp, "region", ".+"))
	f([]uint32{4, 6}, m(MatchNotRegexp, "region", ".+"))
	f(nil, m(MatchNotRegexp, "region", ".*"))
	f([]uint32{3}, m(MatchRegexp, "region", "(?i)EU.*"))
	f([]uint32{3, 4, 6}, m(MatchNotRegexp, "region", "us.*"))
	f([]uint32{7}, m(MatchEqual, "dev", "sda|sdb"))
	f(nil, m(MatchRegexp, "dev", "sda|sdb"))
	f([]uint32{1, 2, 3, 4, 5, 6}, m(MatchNotRegexp, "dev", "sd.*"))
	f(nil, m(MatchRegexp, "nolabel", "x.*"))
	f([]uint32{1, 2, 3, 4, 5, 6, 7}, m(MatchNotRegexp, "nolabel", "x.*"))
	f([]uint32{5}, m(MatchEqual, "host", "a"), m(MatchRegexp, "region", "us.*"), m(MatchNotEqual, MetricName, "cpu"))
	f(nil, m(MatchEqual, MetricName, "cpu"), m(MatchEqual, MetricName, "mem"))

	t.Run("matcher not built by NewMatcher", func(t *testing.T) {
		if _, err := ix.postings([]*Matcher{{Type: MatchRegexp, Name: "a", Value: "x.*"}}); err == nil {
			t.Fatal("want an error")
		}
		if _, err := ix.postings([]*Matcher{{Type: MatchType(9), Name: "a"}}); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("result is owned", func(t *testing.T) {
		bm, _ := ix.postings([]*Matcher{m(MatchEqual, MetricName, "cpu")})
		bm.Clear()
		again, _ := ix.postings([]*Matcher{m(MatchEqual, MetricName, "cpu")})
		all, _ := ix.postings(nil)
		all.Clear()
		if again.GetCardinality() != 4 || ix.post.all.GetCardinality() != 7 {
			t.Fatalf("clearing a result changed the index: %v", again.ToArray())
		}
	})
}

func TestIndex_Postings_LiteralPrefix(t *testing.T) {
	prefix, _ := MustNewMatcher(MatchRegexp, "region", "us-.*").re.LiteralPrefix()
	if prefix != "us-" {
		t.Fatalf("LiteralPrefix of an anchored matcher = %q, want us-: scans lose their prefilter", prefix)
	}
}

// indexRandomMatcher returns a random matcher over the labels of
// indexRandomSeries, of every kind and with empty values.
func indexRandomMatcher(rng *rand.Rand) *Matcher {
	names := []string{MetricName, "a", "b", "c", "region", "id", "absent"}
	name := names[rng.IntN(len(names))]
	typ := MatchType(rng.IntN(4))
	vals := []string{"", "m1", "a3", "b5", "c0", "us-east", "us", "id17", "id3"}
	res := []string{".*", ".+", "us-.*", "m[0-2]", "a1|a2", "a1|", "b.*|c1", "id1.*", "id.*7", "us|eu-west", "(?i)US.*", "x|y|z", "id[0-9]"}
	v := vals[rng.IntN(len(vals))]
	if typ == MatchRegexp || typ == MatchNotRegexp {
		if rng.IntN(5) > 0 {
			v = res[rng.IntN(len(res))]
		}
	}
	return MustNewMatcher(typ, name, v)
}

func TestIndex_Postings_BruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ix, _ := indexOpenTest(t, 0)
	series := indexRandomSeries(rng, 2000)
	for _, ls := range series {
		mustGetOrCreate(t, ix, ls)
	}
	for q := range 200 {
		ms := make([]*Matcher, 1+rng.IntN(3))
		for i := range ms {
			ms[i] = indexRandomMatcher(rng)
		}
		t.Run(fmt.Sprint(q, indexMatchersString(ms)), func(t *testing.T) {
			want := indexBrute(series, ms)
			got, err := ix.postings(ms)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.ToArray(), want) {
				t.Fatalf("got %d series, want %d\ngot  %v\nwant %v", got.GetCardinality(), len(want), got.ToArray(), want)
			}
			indexCheckNamesValues(t, ix, series, got)
		})
	}
}

// indexCheckNamesValues compares labelNames and labelValues restricted to
// ids with a brute-force computation.
func indexCheckNamesValues(t *testing.T, ix *index, series []Labels, ids *roaring.Bitmap) {
	t.Helper()
	names := make(map[string]map[string]bool)
	for _, id := range ids.ToArray() {
		for _, l := range series[id-1] {
			if names[l.Name] == nil {
				names[l.Name] = make(map[string]bool)
			}
			names[l.Name][l.Value] = true
		}
	}
	var wantNames []string
	for n := range names {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if got := ix.labelNames(ids); !slices.Equal(got, wantNames) {
		t.Fatalf("labelNames = %q, want %q", got, wantNames)
	}
	for _, n := range []string{MetricName, "region", "id", "absent"} {
		var want []string
		for v := range names[n] {
			want = append(want, v)
		}
		slices.Sort(want)
		if got := ix.labelValues(n, ids); !slices.Equal(got, want) {
			t.Fatalf("labelValues(%s) = %q, want %q", n, got, want)
		}
	}
}

func TestIndex_LabelValues_All(t *testing.T) {
	ix, _ := indexOpenTest(t, 0)
	for _, ls := range []Labels{
		FromStrings(MetricName, "b", "z", "2"),
		FromStrings(MetricName, "a", "z", "1"),
		FromStrings(MetricName, "a", "y", "1"),
	} {
		mustGetOrCreate(t, ix, ls)
	}
	f := func(got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	f(ix.labelNames(nil), []string{MetricName, "y", "z"})
	f(ix.labelValues(MetricName, nil), []string{"a", "b"})
	f(ix.labelValues("z", nil), []string{"1", "2"})
	f(ix.labelValues("nope", nil), nil)
	f(ix.labelValues("z", roaring.BitmapOf(1)), []string{"2"})
	f(ix.labelValues("z", roaring.BitmapOf(3, 99)), []string{})
	f(ix.labelNames(roaring.BitmapOf(3)), []string{MetricName, "y"})
	f(ix.labelNames(roaring.New()), []string{})
}
