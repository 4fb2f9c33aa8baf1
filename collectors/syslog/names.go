package syslog

// severityNames are the severities' keywords, by code (RFC 5424 §6.2.1;
// the names rsyslog and logger use).
var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// facilityNames are the facilities' keywords, by code (RFC 5424 §6.2.1;
// rsyslog's names for 12 to 15).
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// SeverityName returns the keyword of severity code c (0 to 7).
func SeverityName(c int) string { return severityNames[c&7] }

// FacilityName returns the keyword of facility code c (0 to 23), or ""
// for a code out of range.
func FacilityName(c int) string {
	if c < 0 || c >= len(facilityNames) {
		return ""
	}
	return facilityNames[c]
}
