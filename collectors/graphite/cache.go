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

// cacheBytes bounds the memory of the cache whatever the paths' length:
// without it, 2^18 paths of 64 KiB (graphite.max_line_bytes) would take
// 2^18 × (two copies of the path + labels) ≈ 40 GiB. An entry is charged
// its key, its labels (labelsBytes) and cacheEntryBytes.
const cacheBytes = 64 << 20

// cacheEntryBytes is what a cache entry costs besides its key and labels:
// the map's bucket slot, the key's string header and the labels' slice
// header.
const cacheEntryBytes = 64

// seriesCache maps a path as sent (tags included) to its series. It is
// shared by the connections of one Listener and safe for concurrent use.
// The cached Labels are never modified, so points of several batches may
// share them (a Writer does not retain them).
type seriesCache struct {
	seed          maphash.Seed
	perShard      int   // entries
	perShardBytes int64 // cacheBytes / cacheShards
	shards        [cacheShards]struct {
		mu    sync.RWMutex // guards m and bytes
		m     map[string]tsdb.Labels
		bytes int64 // what the entries of m cost
	}
}

// newSeriesCache returns a cache of about size entries and at most
// cacheBytes.
func newSeriesCache(size int) *seriesCache {
	c := &seriesCache{seed: maphash.MakeSeed(), perShard: max(size/cacheShards, 1), perShardBytes: cacheBytes / cacheShards}
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

// put remembers the series of path. A full shard (by entries or by bytes)
// is emptied first: simpler than an LRU, and a steady sender refills it
// within one round of its paths.
func (c *seriesCache) put(path []byte, ls tsdb.Labels) {
	cost := int64(len(path)) + labelsBytes(ls) + cacheEntryBytes
	if cost > c.perShardBytes {
		return // one huge path is not worth a shard
	}
	sh := &c.shards[c.shard(path)]
	sh.mu.Lock()
	if len(sh.m) >= c.perShard || sh.bytes+cost > c.perShardBytes {
		clear(sh.m)
		sh.bytes = 0
	}
	if _, ok := sh.m[string(path)]; !ok {
		sh.bytes += cost
	}
	sh.m[string(path)] = ls
	sh.mu.Unlock()
}
