package tsdb

import (
	"slices"
	"testing"
)

// FuzzIndexDecodeSeries feeds arbitrary index.db series records to the
// decoder that open uses: it must reject them with an error, never panic,
// and what it accepts must encode back to the same labels.
func FuzzIndexDecodeSeries(f *testing.F) {
	ix := newIndex(0, nil)
	for _, s := range []string{MetricName, "up", "job", "x", "", "zone"} {
		ix.syms.intern(s)
	}
	f.Add(indexAppendEncoded(nil, []uint32{1, 2, 3, 4}))
	f.Add(indexAppendEncoded(nil, []uint32{1, 2, 3, 5, 6, 4}))
	f.Add(indexAppendEncoded(nil, nil))
	f.Add([]byte{0x02, 0x01, 0x02})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, rec []byte) {
		if len(rec) > 1<<12 {
			return
		}
		refs, ls, err := ix.decodeSeries(nil, nil, rec)
		if err != nil {
			return
		}
		if len(refs) != 2*len(ls) {
			t.Fatalf("decoded %d refs for %d labels", len(refs), len(ls))
		}
		again, ls2, err := ix.decodeSeries(nil, nil, indexAppendEncoded(nil, refs))
		if err != nil || !slices.Equal(again, refs) || !ls2.Equal(ls) {
			t.Fatalf("re-encoding %v: %v %v %v", refs, again, ls2, err)
		}
		for i, l := range ls {
			if l.Name == "" || (i > 0 && ls[i-1].Name >= l.Name) {
				t.Fatalf("accepted labels out of order: %s", ls)
			}
		}
	})
}
