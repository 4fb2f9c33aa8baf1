package wal

// Attribute keys of the package's log records (snake_case, key-value only).
const (
	logKeySegment = "segment"
	logKeyOffset  = "offset"
	logKeyReason  = "reason"
	logKeyDropped = "dropped_bytes"
	logKeyErr     = "err"
)
