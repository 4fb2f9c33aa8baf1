package graphite

import (
	"hash/maphash"
	"sync"

	"outpost/tsdb"
)

// cacheShards splits the series cache so that connections on different
// cores rarely wait on the same lock.
const cacheShards = 16

// defaultCacheSize bounds the paths a Listener remembers, all connections
// together: about 50 MB with typical paths. A sender cycling through more
// paths than this pays the mapping again, nothing worse.
const defaultCacheSize = 1 << 18

// seriesCache maps a path as sent (tags included) to its series. It is
// shared by the connections of one Listener and safe for concurrent use.
// The cached Labels are never modified, so points of several batches may
// share them (a Writer does not retain them).
type seriesCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]struct {
		mu sync.RWMutex // guards m
		m  map[string]tsdb.Labels
	}
}

// newSeriesCache returns a cache of about size entries.
func newSeriesCache(size int) *seriesCache {
	c := &seriesCache{seed: maphash.MakeSeed(), perShard: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]tsdb.Labels)
	}
	return c
}

// shard returns the shard of key's index.
func (c *seriesCache) shard(key []byte) int {
	return int(maphash.Bytes(c.seed, key) % cacheShards)
}

// get returns the series of path, if cached. It does not allocate.
func (c *seriesCache) get(path []byte) (tsdb.Labels, bool) {
	sh := &c.shards[c.shard(path)]
	sh.mu.RLock()
	ls, ok := sh.m[string(path)]
	sh.mu.RUnlock()
	return ls, ok
}

// put remembers the series of path. A full shard is emptied first: simpler
// than an LRU, and a steady sender refills it within one round of its paths.
func (c *seriesCache) put(path []byte, ls tsdb.Labels) {
	sh := &c.shards[c.shard(path)]
	sh.mu.Lock()
	if len(sh.m) >= c.perShard {
		clear(sh.m)
	}
	sh.m[string(path)] = ls
	sh.mu.Unlock()
}
