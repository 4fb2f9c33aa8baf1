package syslog

import (
	"bytes"
	"time"
)

// Field limits of RFC 5424 §6 (PRINTUSASCII, 1 to N characters).
const (
	maxHostLen  = 255
	maxAppLen   = 48
	maxProcLen  = 128
	maxMsgIDLen = 32
	maxSDName   = 32
)

// parse5424 reads what follows "<PRI>1 ": TIMESTAMP HOSTNAME APP-NAME
// PROCID MSGID STRUCTURED-DATA [SP MSG]. off is b's offset in the line.
func parse5424(m *Message, b []byte, off int) error {
	pos := 0
	field := func(name string, max int) (string, error) {
		i := bytes.IndexByte(b[pos:], ' ')
		if i < 0 {
			return "", parseErr(ReasonBadHeader, off+len(b), "the header ends before %s", name)
		}
		v := b[pos : pos+i]
		if len(v) == 0 || len(v) > max {
			return "", parseErr(ReasonBadHeader, off+pos, "%s must be 1 to %d characters", name, max)
		}
		for j, c := range v {
			if c < 33 || c > 126 {
				return "", parseErr(ReasonBadHeader, off+pos+j, "%s holds byte 0x%02x, not printable US-ASCII", name, c)
			}
		}
		pos += i + 1
		if len(v) == 1 && v[0] == '-' {
			return "", nil
		}
		return string(v), nil
	}
	ts, err := field("TIMESTAMP", 64)
	if err != nil {
		return err
	}
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || ts[10] != 'T' {
			return parseErr(ReasonBadTime, off, "TIMESTAMP %q is not RFC 3339 (2003-10-11T22:14:15.003Z)", ts)
		}
		m.Time = t.UTC()
	}
	if m.Host, err = field("HOSTNAME", maxHostLen); err != nil {
		return err
	}
	if m.Program, err = field("APP-NAME", maxAppLen); err != nil {
		return err
	}
	if m.PID, err = field("PROCID", maxProcLen); err != nil {
		return err
	}
	// MSGID may end the line when there is no SD and no MSG: be lenient,
	// as rsyslog is, and take "-" then the end as nil SD.
	if m.MsgID, err = field("MSGID", maxMsgIDLen); err != nil {
		return err
	}
	n, err := parseSD(m, b[pos:], off+pos)
	if err != nil {
		return err
	}
	pos += n
	switch {
	case pos == len(b):
	case b[pos] == ' ':
		// rsyslog's %msg% of a message it got in the RFC 3164 form keeps
		// the space after the TAG's colon, and its RFC 5424 templates
		// put it after the SP: take one such space as part of the SP.
		msg := b[pos+1:]
		if len(msg) > 1 && msg[0] == ' ' && msg[1] != ' ' {
			msg = msg[1:]
		}
		m.Message = msgText(msg)
	default:
		return parseErr(ReasonBadSD, off+pos, "STRUCTURED-DATA must be followed by a space or the end of the line")
	}
	return nil
}

// parseSD reads STRUCTURED-DATA ("-" or SD-ELEMENTs) into m.SD and
// returns the bytes it took.
func parseSD(m *Message, b []byte, off int) (int, error) {
	if len(b) == 0 {
		return 0, parseErr(ReasonBadSD, off, "STRUCTURED-DATA is missing (\"-\" for none)")
	}
	if b[0] == '-' {
		return 1, nil
	}
	if b[0] != '[' {
		return 0, parseErr(ReasonBadSD, off, "STRUCTURED-DATA must be \"-\" or start with \"[\"")
	}
	pos := 0
	for pos < len(b) && b[pos] == '[' {
		pos++
		id, n := sdName(b[pos:])
		if n == 0 {
			return 0, parseErr(ReasonBadSD, off+pos, "SD-ID must be 1 to %d printable characters other than = ] \" and space", maxSDName)
		}
		pos += n
		if m.SD == nil {
			m.SD = map[string]map[string]any{}
		}
		params := m.SD[id]
		if params == nil {
			params = map[string]any{}
			m.SD[id] = params
		}
		for {
			if pos >= len(b) {
				return 0, parseErr(ReasonBadSD, off+pos, "SD-ELEMENT %q is not closed by \"]\"", id)
			}
			if b[pos] == ']' {
				pos++
				break
			}
			if b[pos] != ' ' {
				return 0, parseErr(ReasonBadSD, off+pos, "expected a space or \"]\" in SD-ELEMENT %q", id)
			}
			pos++
			name, n := sdName(b[pos:])
			if n == 0 {
				return 0, parseErr(ReasonBadSD, off+pos, "PARAM-NAME in %q must be 1 to %d printable characters other than = ] \" and space", id, maxSDName)
			}
			pos += n
			if pos+1 >= len(b) || b[pos] != '=' || b[pos+1] != '"' {
				return 0, parseErr(ReasonBadSD, off+pos, "PARAM-NAME %q must be followed by =\"", name)
			}
			pos += 2
			val, n, ok := sdValue(b[pos:])
			if !ok {
				return 0, parseErr(ReasonBadSD, off+pos, "PARAM-VALUE of %q is not closed by '\"'", name)
			}
			pos += n
			addParam(params, name, val)
		}
	}
	return pos, nil
}

func addParam(params map[string]any, name, val string) {
	switch old := params[name].(type) {
	case nil:
		params[name] = val
	case string:
		params[name] = []string{old, val}
	case []string:
		params[name] = append(old, val)
	}
}

// sdName returns the SD-NAME b starts with and its length (0: none).
func sdName(b []byte) (string, int) {
	i := 0
	for i < len(b) && i < maxSDName+1 {
		c := b[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			break
		}
		i++
	}
	if i == 0 || i > maxSDName {
		return "", 0
	}
	return string(b[:i]), i
}

// sdValue reads a PARAM-VALUE up to and including its closing quote;
// \" \\ and \] are unescaped, any other backslash is kept.
func sdValue(b []byte) (string, int, bool) {
	var out []byte
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return text(out), i + 1, true
		case c == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\' || b[i+1] == ']'):
			out = append(out, b[i+1])
			i++
		default:
			out = append(out, c)
		}
	}
	return "", 0, false
}
