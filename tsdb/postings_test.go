package tsdb

import (
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// postingsOf returns the series of label name=value, whatever its form.
func postingsOf(p *postingsIndex, name, value string) []uint32 {
	pn := p.names[name]
	if pn == nil {
		return nil
	}
	ref, ok := pn.vals[value]
	if !ok {
		return nil
	}
	return p.view(ref).bm.ToArray()
}

func TestPostingsIndex_Add_Forms(t *testing.T) {
	p := newPostingsIndex()
	ls := FromStrings(MetricName, "m", "k", "v")
	var want []uint32
	f := func(id uint32, form string) {
		t.Helper()
		p.add(id, ls)
		if i, found := slices.BinarySearch(want, id); !found {
			want = slices.Insert(want, i, id)
		}
		ref := p.names["k"].vals["v"]
		var got string
		switch {
		case ref&postingsListTag == 0:
			got = "single"
		case p.lists[ref&^postingsListTag].bm == nil:
			got = "small"
		default:
			got = "bitmap"
		}
		if got != form {
			t.Fatalf("after adding %d: form %s, want %s", id, got, form)
		}
		if ids := postingsOf(&p, "k", "v"); !slices.Equal(ids, want) {
			t.Fatalf("after adding %d: postings %v, want %v", id, ids, want)
		}
		if !p.intersects(ref, roaring.BitmapOf(id)) || p.intersects(ref, roaring.BitmapOf(1<<30)) {
			t.Fatalf("intersects is wrong for form %s", form)
		}
	}
	f(10, "single")
	f(10, "single") // duplicate
	f(5, "small")   // out of order
	f(5, "small")
	for id := uint32(100); len(want) < postingsSmallMax; id += 3 {
		f(id, "small")
	}
	f(7, "bitmap")
	f(7, "bitmap")
	f(1000, "bitmap")
	if got := postingsOf(&p, MetricName, "m"); !slices.Equal(got, want) {
		t.Fatalf("__name__ postings %v, want %v", got, want)
	}
	if got := p.names["k"].has.ToArray(); !slices.Equal(got, want) {
		t.Fatalf("has %v, want %v", got, want)
	}
}

func TestPostingsIndex_Optimize_KeepsContent(t *testing.T) {
	p := newPostingsIndex()
	for id := uint32(1); id <= 3*postingsOptMin; id++ {
		p.add(id, FromStrings(MetricName, "m", "k", string(rune('a'+id%3))))
	}
	if p.optimizeAt != 4*postingsOptMin { // optimized at 4096 and 8192 series
		t.Fatalf("optimizeAt = %d did not move", p.optimizeAt)
	}
	if !p.all.HasRunCompression() {
		t.Fatal("the all-series bitmap of consecutive IDs is not run-compressed")
	}
	if n := p.all.GetCardinality(); n != 3*postingsOptMin {
		t.Fatalf("all has %d series", n)
	}
	if got := len(postingsOf(&p, "k", "b")); got != postingsOptMin {
		t.Fatalf("k=b has %d series, want %d", got, postingsOptMin)
	}
	before := p.sizeBytes()
	p.add(3*postingsOptMin+1, FromStrings(MetricName, "m", "new", "x"))
	if after := p.sizeBytes(); before <= 0 || after <= before {
		t.Fatalf("sizeBytes %d then %d: want positive and growing", before, after)
	}
}
