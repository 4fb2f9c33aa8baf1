package collectd

import "math"

// builtinType is one row of the built-in table: a type whose data-source
// names are not the single "value", with the kind of each source.
type builtinType struct {
	name    string
	kind    DSType   // the kind of every source, unless kinds is set
	kinds   []DSType // per source, for the few types that mix kinds
	sources []string
}

// builtinTypes lists, from the facts of collectd's type definitions, every
// type whose data sources are not one "value": the multi-value types and the
// few single-value types with another name. It is what names interface_rx,
// load_shortterm or disk_read on a machine without collectd installed.
// Single-value types need no row: an unknown type with one value is stored
// as <plugin>_value (see doc.go), which is what types.db would say.
var builtinTypes = []builtinType{
	// Operating system: the plugins of a default collectd (cpu, load,
	// interface, disk, df, processes, vmem, ...).
	{name: "load", kind: Gauge, sources: []string{"shortterm", "midterm", "longterm"}},
	{name: "df", kind: Gauge, sources: []string{"used", "free"}},
	{name: "if_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "if_packets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "if_errors", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "if_dropped", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "disk_octets", kind: Derive, sources: []string{"read", "write"}},
	{name: "disk_ops", kind: Derive, sources: []string{"read", "write"}},
	{name: "disk_merged", kind: Derive, sources: []string{"read", "write"}},
	{name: "disk_time", kind: Derive, sources: []string{"read", "write"}},
	{name: "disk_io_time", kind: Derive, sources: []string{"io_time", "weighted_io_time"}},
	{name: "disk_latency", kind: Gauge, sources: []string{"read", "write"}},
	{name: "io_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "io_ops", kind: Derive, sources: []string{"read", "write"}},
	{name: "io_packets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "ps_count", kind: Gauge, sources: []string{"processes", "threads"}},
	{name: "ps_cputime", kind: Derive, sources: []string{"user", "syst"}},
	{name: "ps_disk_octets", kind: Derive, sources: []string{"read", "write"}},
	{name: "ps_disk_ops", kind: Derive, sources: []string{"read", "write"}},
	{name: "ps_pagefaults", kind: Derive, sources: []string{"minflt", "majflt"}},
	{name: "vmpage_faults", kind: Derive, sources: []string{"minflt", "majflt"}},
	{name: "vmpage_io", kind: Derive, sources: []string{"in", "out"}},
	{name: "node_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "serial_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "ib_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "ib_packets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "compression", kind: Derive, sources: []string{"uncompressed", "compressed"}},
	{name: "duration", kind: Gauge, sources: []string{"seconds"}},
	{name: "smart_attribute", kind: Gauge, sources: []string{"current", "worst", "threshold", "pretty"}},
	{name: "voltage_threshold", kind: Gauge, sources: []string{"value", "threshold"}},
	{name: "pmu_counter", kind: Counter, sources: []string{"scaled", "raw", "enabled", "running"}},

	// Virtualisation (virt plugin) and SR-IOV virtual functions.
	{name: "domain_state", kind: Gauge, sources: []string{"state", "reason"}},
	{name: "vf_bytes", kind: Derive, sources: []string{"vf_rx", "vf_tx"}},
	{name: "vf_packets", kind: Derive, sources: []string{"vf_rx", "vf_tx"}},
	{name: "vf_dropped", kind: Derive, sources: []string{"vf_rx", "vf_tx"}},
	{name: "vf_broadcast", kind: Derive, sources: []string{"vf_value"}},
	{name: "vf_multicast", kind: Derive, sources: []string{"vf_value"}},
	{name: "vf_link_info", kind: Gauge, sources: []string{"vf_value"}},

	// Services: DNS, memcached, MySQL, ZFS ARC.
	{name: "dns_octets", kind: Derive, sources: []string{"queries", "responses"}},
	{name: "memcached_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "mysql_octets", kind: Derive, sources: []string{"rx", "tx"}},
	{name: "mysql_qcache", sources: []string{"hits", "inserts", "not_cached", "lowmem_prunes", "queries_in_cache"},
		kinds: []DSType{Counter, Counter, Counter, Counter, Gauge}},
	{name: "mysql_threads", sources: []string{"running", "connected", "cached", "created"},
		kinds: []DSType{Gauge, Gauge, Gauge, Counter}},
	{name: "arc_counts", kind: Counter, sources: []string{"demand_data", "demand_metadata", "prefetch_data", "prefetch_metadata"}},
	{name: "arc_l2_bytes", kind: Counter, sources: []string{"read", "write"}},
	{name: "arc_size", kind: Gauge, sources: []string{"current", "target", "minlimit", "maxlimit"}},
}

// BuiltinTypesDB returns a new TypesDB holding the built-in table. Bounds
// are not part of the table (the store does not use them): they are NaN.
func BuiltinTypesDB() *TypesDB {
	db := NewTypesDB()
	for _, bt := range builtinTypes {
		ds := &DataSet{Name: bt.name, Sources: make([]DataSource, len(bt.sources))}
		for i, name := range bt.sources {
			k := bt.kind
			if bt.kinds != nil {
				k = bt.kinds[i]
			}
			ds.Sources[i] = DataSource{Name: name, Type: k, Min: math.NaN(), Max: math.NaN()}
		}
		db.Add(ds)
	}
	return db
}
