package tsdb

import (
	"slices"
	"sync"
)

// keyCacheMax bounds the key cache. Past it the cache starts over: with
// more active series than this the cache helps less, never wrongly.
const keyCacheMax = 1 << 18

// keyCache maps Point.Key to series ID, so a known series is found with one
// hash of a contiguous key instead of hashing and comparing its labels.
// Series IDs are never reused, so an entry never goes stale. Each Write
// looks its points up under one read lock and adds what it found under one
// write lock.
type keyCache struct {
	mu sync.RWMutex // guards m
	m  map[string]uint32
}

// lookup sets ids[i] to the cached series of pts[i].Key, 0 when unknown.
func (c *keyCache) lookup(pts []Point, ids []uint32) []uint32 {
	ids = slices.Grow(ids[:0], len(pts))[:len(pts)]
	clear(ids)
	c.mu.RLock()
	if c.m != nil {
		for i := range pts {
			if k := pts[i].Key; k != nil {
				ids[i] = c.m[string(k)]
			}
		}
	}
	c.mu.RUnlock()
	return ids
}

// add caches the series of the points at the given indexes.
func (c *keyCache) add(pts []Point, ids []uint32, idx []int) {
	if len(idx) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(idx) > keyCacheMax {
		c.m = make(map[string]uint32, len(idx))
	}
	for _, i := range idx {
		c.m[string(pts[i].Key)] = ids[i]
	}
}
