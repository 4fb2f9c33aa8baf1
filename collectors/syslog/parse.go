package syslog

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one parsed syslog line. Strings are copies: a Message does
// not alias the line it came from.
type Message struct {
	// Format is "rfc5424" or "rfc3164".
	Format string
	// Facility and Severity are the codes PRI carries.
	Facility, Severity int
	// Time is the message's TIMESTAMP; zero when it has none (RFC 5424
	// "-", or an RFC 3164 line without a valid one).
	Time time.Time
	// Host, Program, PID and MsgID are HOSTNAME, APP-NAME (the RFC 3164
	// TAG), PROCID (the TAG's "[pid]") and MSGID; "" when nil or absent.
	Host, Program, PID, MsgID string
	// SD is the RFC 5424 STRUCTURED-DATA: SD-ID -> PARAM-NAME -> value, a
	// string, or a []string when a name repeats; nil when there is none.
	SD map[string]map[string]any
	// Message is MSG, without a leading BOM or trailing CR, LF or NUL.
	Message string
}

// Parse parses one syslog line (its framing removed): "<PRI>1 " starts
// RFC 5424, anything else after a PRI is read as RFC 3164. now and loc
// place an RFC 3164 TIMESTAMP, which has neither year nor zone: loc is
// the sender's zone (nil: UTC), the year is now's unless that puts the
// time more than a day after now, then the year before. A refused line
// gives a *ParseError.
func Parse(line []byte, now time.Time, loc *time.Location) (Message, error) {
	var m Message
	pri, n, err := parsePRI(line)
	if err != nil {
		return m, err
	}
	m.Facility, m.Severity = pri>>3, pri&7
	rest := line[n:]
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		m.Format = "rfc5424"
		err = parse5424(&m, rest[2:], n+2)
	} else {
		m.Format = "rfc3164"
		parse3164(&m, rest, now, loc)
	}
	return m, err
}

// parsePRI reads "<" PRI ">" and returns PRI and the bytes it took.
func parsePRI(b []byte) (pri, n int, err error) {
	if len(b) == 0 || b[0] != '<' {
		return 0, 0, parseErr(ReasonNoPRI, 0, "no PRI: a syslog line starts with \"<\" and a number from 0 to 191")
	}
	i := 1
	for i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9' {
		pri = pri*10 + int(b[i]-'0')
		i++
	}
	switch {
	case i == 1 || i >= len(b) || b[i] != '>':
		return 0, 0, parseErr(ReasonBadPRI, i, "PRI must be 1 to 3 digits closed by \">\"")
	case i > 4 || (i > 2 && b[1] == '0'):
		return 0, 0, parseErr(ReasonBadPRI, 1, "PRI %q has too many digits or a leading zero", b[1:i])
	case pri > 191:
		return 0, 0, parseErr(ReasonBadPRI, 1, "PRI %d is over 191 (facility 23, severity 7)", pri)
	}
	return pri, i + 1, nil
}

// bom is the UTF-8 byte order mark RFC 5424 MSG may start with.
var bom = []byte("\xef\xbb\xbf")

// text copies b as a string, with invalid UTF-8 replaced.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// msgText returns MSG: b without a leading BOM or trailing CR, LF or NUL.
func msgText(b []byte) string {
	b = bytes.TrimPrefix(b, bom)
	b = bytes.TrimRight(b, "\r\n\x00")
	return text(b)
}
