package alerting

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"testing"
)

// fingerprint is FNV-1a over the sorted labels, as hash/fnv computes it:
// the fingerprints stored in alerting.db and sent to receivers must not
// change with its implementation.
func TestFingerprint_IsFNV1a(t *testing.T) {
	want := func(ls map[string]string) string {
		h := fnv.New64a()
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			h.Write([]byte(k))
			h.Write([]byte{0xff})
			h.Write([]byte(ls[k]))
			h.Write([]byte{0xfe})
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	big := map[string]string{}
	for i := range 40 {
		big[fmt.Sprintf("label_%02d", i)] = fmt.Sprint(i * i)
	}
	for _, ls := range []map[string]string{
		nil,
		{},
		{"alertname": "DiskFull"},
		{"alertname": "DiskFull", "host": "web-001", "path": "/", "severity": "critical"},
		{"": "", "ünïcödé": "\xff\xfe", "a": "b\x00c"},
		big,
	} {
		if got, w := fingerprint(ls), want(ls); got != w {
			t.Errorf("fingerprint(%v) = %s, want %s", ls, got, w)
		}
	}
}
