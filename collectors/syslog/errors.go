package syslog

import "fmt"

// Reasons a line is refused, as counted in the statistics (lines:<reason>)
// and carried by *ParseError.
const (
	ReasonNoPRI     = "no_pri"        // the line does not start with "<" PRI ">"
	ReasonBadPRI    = "bad_pri"       // PRI is not 0 to 191 in at most 3 digits without leading zeros
	ReasonBadHeader = "bad_header"    // an RFC 5424 header field is missing, empty or too long
	ReasonBadTime   = "bad_timestamp" // an RFC 5424 TIMESTAMP that is not RFC 3339
	ReasonBadSD     = "bad_structured_data"
	ReasonTooLong   = "too_long"  // a frame over events.syslog_max_line_bytes
	ReasonTruncated = "truncated" // an octet-counted frame cut short by the end of the connection
)

// ParseError is a refused line: the reason (one of the Reason constants),
// the 1-based byte column where the parser stopped, and what is wrong.
type ParseError struct {
	Reason string
	Col    int
	Msg    string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("syslog: column %d: %s (%s)", e.Col, e.Msg, e.Reason)
}

func parseErr(reason string, pos int, format string, args ...any) *ParseError {
	return &ParseError{Reason: reason, Col: pos + 1, Msg: fmt.Sprintf(format, args...)}
}
