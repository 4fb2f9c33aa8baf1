package rulefile

import "time"

// FormatDuration writes d in Prometheus' duration syntax ("1h30m", "0s"),
// which rule files and promtool read back; d is taken to whole
// milliseconds.
func FormatDuration(d time.Duration) string { return formatDuration(d.Truncate(time.Millisecond)) }
