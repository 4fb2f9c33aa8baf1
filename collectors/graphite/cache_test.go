package graphite

import (
	"fmt"
	"sync"
	"testing"
)

func TestSeriesCache_Put_Bounded(t *testing.T) {
	c := newSeriesCache(cacheShards * 4)
	for i := range 1000 {
		p := fmt.Appendf(nil, "p%d", i)
		c.put(p, lbl(string(p)))
		if ls, ok := c.get(p); !ok || ls.Get("__name__") != string(p) {
			t.Fatalf("%s: just put, got %v %v", p, ls, ok)
		}
	}
	total := 0
	for i := range c.shards {
		if n := len(c.shards[i].m); n > c.perShard {
			t.Fatalf("shard %d holds %d entries, over %d", i, n, c.perShard)
		} else {
			total += n
		}
	}
	if total == 0 || total > cacheShards*4 {
		t.Fatalf("%d entries cached, want 1 to %d", total, cacheShards*4)
	}
}

func TestSeriesCache_Concurrent(t *testing.T) {
	c := newSeriesCache(64)
	p := mustParser(t, DefaultConfig())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			d := newDecoder(p, c)
			for i := range 2000 {
				line := fmt.Appendf(nil, "w.%d 1 1", (i*7+w)%100)
				pts, err := d.parse(nil, line, testNow)
				if err != nil || len(pts) != 1 || pts[0].Labels.Get("__name__") != fmt.Sprintf("w.%d", (i*7+w)%100) {
					t.Errorf("%s: %v %v", line, pts, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
