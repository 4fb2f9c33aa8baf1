package rulefile

import (
	_ "embed" // for defaults.yml
)

// DefaultsPath is the Path of the File that Defaults returns.
const DefaultsPath = "<defaults>"

// defaultsYAML is the built-in rule set (defaults.yml): disk space, memory
// and silent hosts for Telegraf's and collectd's series, and outpost's own
// ingest rejections.
//
//go:embed defaults.yml
var defaultsYAML string

// Defaults returns outpost's built-in rule set (enabled by
// alerting.defaults: true), parsed afresh, so the caller owns it:
//
//   - outpost-hosts/DiskSpaceLow: a file system more than 80 % used
//     (warning) or 90 % (critical) for 5m, tmpfs-like ones left out;
//   - outpost-hosts/MemoryLow: memory more than 90 % / 95 % used for 10m;
//   - outpost-hosts/HostSilent: a flatline rule, by host, that fires when
//     a host stops reporting for 5m and forgets it after 7d;
//   - outpost-self/IngestRejected: outpost turned away data in the last
//     10m (outpost_ingest_rejected_total increased).
//
// The set is tested to load; a failure is a bug in outpost, not in any
// input, and panics.
func Defaults() *File {
	f, err := Parse(DefaultsPath, []byte(defaultsYAML))
	if err != nil {
		panic("rulefile: the built-in rules do not load: " + err.Error())
	}
	return f
}
