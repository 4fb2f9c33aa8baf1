package wal

// Attribute keys of the package's log records (snake_case, key-value only).
const (
	logKeySegment   = "segment"
	logKeyOffset    = "offset"
	logKeyReason    = "reason"
	logKeyDropped   = "dropped_bytes"
	logKeyErr       = "err"
	logKeyAttempts  = "attempts"
	logKeyRegions   = "damaged_regions"
	logKeySkipped   = "skipped_bytes"
	logKeyRecovered = "records_after_damage"
	logKeyMissing   = "missing"
	logKeyCount     = "count"
	logKeyDir       = "dir"
	logKeyDownFor   = "down_for"
)
