package notify

// Attribute keys of the package's log records (snake_case, key-value only).
const (
	attrReceiver    = "receiver"
	attrIntegration = "integration"
	attrID          = "id"
	attrAttempts    = "attempts"
	attrCreatedAt   = "created_at"
	attrNextAttempt = "next_attempt"
	attrReason      = "reason"
	attrCount       = "count"
	attrEntries     = "entries"
	attrSilence     = "silence"
	attrKey         = "key"
	attrErr         = "err"
)
