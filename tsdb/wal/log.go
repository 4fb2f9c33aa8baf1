package wal

// Attribute keys of the package's log records (snake_case, key-value only).
const (
	logKeySegment       = "segment"
	logKeyFile          = "file"
	logKeyOffset        = "offset"
	logKeyReason        = "reason"
	logKeyDropped       = "dropped_bytes"
	logKeyErr           = "err"
	logKeyAttempts      = "attempts"
	logKeyRegions       = "damaged_regions"
	logKeySkipped       = "skipped_bytes"
	logKeyRecovered     = "records_after_damage"
	logKeyMissing       = "missing"
	logKeyCount         = "count"
	logKeyDir           = "dir"
	logKeyDownFor       = "down_for"
	logKeyExpected      = "expected_bytes"
	logKeyActual        = "actual_bytes"
	logKeyMissingBytes  = "missing_bytes"
	logKeyExtra         = "extra_bytes"
	logKeyRecords       = "records_replayed"
	logKeyRecordedBy    = "recorded_by"
	logKeyHeaderSegment = "header_segment"
)
