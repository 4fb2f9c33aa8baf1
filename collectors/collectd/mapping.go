package collectd

import (
	"math"

	"outpost/tsdb"
)

// maxCachedIdentities bounds the label sets a mapper keeps; past it the
// cache is cleared and refilled by the series still arriving.
const maxCachedIdentities = 1 << 16

// maxCacheBytes bounds the same cache by memory: an identity costs about
// 300 bytes with the usual short names, so 2^16 of them take about 20 MiB;
// with every name at collectd's longest (127 bytes) one takes up to 1.6
// KiB, and 2^16 would take 100 MiB. An identity is charged identityBytes.
const maxCacheBytes = 32 << 20

// Sizes for identityBytes, on 64-bit platforms.
const (
	labelBytes      = 32 // a tsdb.Label: two string headers
	sliceBytes      = 24 // a slice header
	cacheEntryBytes = 64 // the map's slot and the key's string header
)

// Label names of a collectd series, in the InfluxDB 1.x naming of
// ../shared/DESIGN.md §3. They are already in sorted order.
const (
	labelHost         = "host"
	labelInstance     = "instance"
	labelType         = "type"
	labelTypeInstance = "type_instance"
)

// Reasons under which dropped samples are counted.
const (
	reasonUnknownType   = "unknown_type"
	reasonCountMismatch = "ds_count_mismatch"
	reasonIncomplete    = "incomplete_identifier"
	reasonNaN           = "nan"
)

// drops counts the samples a mapper or a write turned away, by reason.
type drops map[string]uint64

// mapper turns value lists into points. It caches the label sets of each
// identity (host, plugin, instances, type), so a warm mapper builds no
// labels. Points share those label sets read-only; collectors.Writer does
// not retain or modify them. A mapper is owned by one goroutine.
type mapper struct {
	types *TypesDB
	cache map[string][]tsdb.Labels // identity -> labels per data source
	bytes int                      // what the cache's entries take (identityBytes)
	key   []byte                   // scratch for the identity key
}

func newMapper(types *TypesDB) *mapper {
	return &mapper{types: types, cache: make(map[string][]tsdb.Labels)}
}

// appendPoints appends one point per data source of vl to pts, stamped with
// vl's time or, when the packet carried none, nowMs. Value lists that cannot
// be named and NaN gauges are counted in d instead.
//
// Naming: metric <plugin>_<dsname>, dsname from types.db; labels host,
// instance (plugin instance), type, type_instance, the empty ones omitted.
// A type missing from types.db is stored as <plugin>_value when the list has
// exactly one value and dropped (unknown_type) otherwise.
func (m *mapper) appendPoints(pts []tsdb.Point, vl *ValueList, nowMs int64, d drops) []tsdb.Point {
	n := len(vl.Values)
	if vl.Plugin == "" || vl.Type == "" {
		d[reasonIncomplete] += uint64(n)
		return pts
	}
	ls := m.labels(vl, d)
	if ls == nil {
		return pts
	}
	t := nowMs
	if vl.Time != 0 {
		t = vl.Millis()
	}
	for i, v := range vl.Values {
		f := v.Float64()
		if math.IsNaN(f) {
			d[reasonNaN]++
			continue
		}
		pts = append(pts, tsdb.Point{Labels: ls[i], T: t, V: f})
	}
	return pts
}

// labels returns the label sets of vl's data sources, or nil (counted in d)
// when the value count does not fit the type.
func (m *mapper) labels(vl *ValueList, d drops) []tsdb.Labels {
	n := len(vl.Values)
	ds, known := m.types.DataSet(vl.Type)
	switch {
	case known && len(ds.Sources) != n:
		d[reasonCountMismatch] += uint64(n)
		return nil
	case !known && n != 1:
		d[reasonUnknownType] += uint64(n)
		return nil
	}
	k := m.key[:0]
	for _, s := range [...]string{vl.Host, vl.Plugin, vl.PluginInstance, vl.Type, vl.TypeInstance} {
		k = append(k, s...)
		k = append(k, 0)
	}
	m.key = k
	if ls, ok := m.cache[string(k)]; ok && len(ls) == n {
		return ls
	}
	ls := make([]tsdb.Labels, n)
	for i := range ls {
		dsName := "value"
		if known {
			dsName = ds.Sources[i].Name
		}
		ls[i] = seriesLabels(vl, dsName)
	}
	cost := identityBytes(k, ls)
	if len(m.cache) >= maxCachedIdentities || m.bytes+cost > maxCacheBytes {
		clear(m.cache)
		m.bytes = 0
	}
	m.cache[string(k)] = ls
	m.bytes += cost
	return ls
}

// identityBytes is what one cached identity takes: its key, its label sets
// and their strings (the interned names counted for each label set that
// holds them, an upper bound), the slices and the map entry.
func identityBytes(key []byte, ls []tsdb.Labels) int {
	n := len(key) + cacheEntryBytes + sliceBytes*(1+len(ls))
	for _, l := range ls {
		n += labelBytes * cap(l)
		for _, lb := range l {
			n += len(lb.Value) // names are constants
		}
	}
	return n
}

// seriesLabels builds the sorted labels of one data source of vl.
func seriesLabels(vl *ValueList, dsName string) tsdb.Labels {
	ls := make(tsdb.Labels, 0, 5)
	ls = append(ls, tsdb.Label{Name: tsdb.MetricName, Value: vl.Plugin + "_" + dsName})
	if vl.Host != "" {
		ls = append(ls, tsdb.Label{Name: labelHost, Value: vl.Host})
	}
	if vl.PluginInstance != "" {
		ls = append(ls, tsdb.Label{Name: labelInstance, Value: vl.PluginInstance})
	}
	ls = append(ls, tsdb.Label{Name: labelType, Value: vl.Type})
	if vl.TypeInstance != "" {
		ls = append(ls, tsdb.Label{Name: labelTypeInstance, Value: vl.TypeInstance})
	}
	return ls
}
