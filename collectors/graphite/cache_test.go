package graphite

import (
	"fmt"
	"strings"
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

// TestSeriesCache_Put_BoundedBytes puts paths of 60 KiB: the shards are
// emptied by their byte bound long before their entry count, and a path
// too large for a shard is not cached at all.
func TestSeriesCache_Put_BoundedBytes(t *testing.T) {
	c := newSeriesCache(defaultCacheSize)
	c.perShardBytes = 256 << 10 // 4 MiB in all, so that the test stays small
	long := strings.Repeat("x", 60<<10)
	for i := range 400 {
		p := fmt.Appendf(nil, "%s%d", long, i)
		c.put(p, lbl(string(p)))
	}
	for i := range c.shards {
		sh := &c.shards[i]
		if sh.bytes > c.perShardBytes || len(sh.m) > int(c.perShardBytes/(60<<10)) {
			t.Fatalf("shard %d: %d entries, %d bytes; bound %d bytes", i, len(sh.m), sh.bytes, c.perShardBytes)
		}
	}
	huge := []byte(strings.Repeat("y", 512<<10))
	c.put(huge, lbl(string(huge)))
	if _, ok := c.get(huge); ok {
		t.Fatal("a path larger than a shard's bound was cached")
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
