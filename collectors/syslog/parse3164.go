package syslog

import (
	"bytes"
	"time"
)

// maxTagLen bounds an RFC 3164 TAG (the RFC says 32; real ones, such as
// systemd units, run longer).
const maxTagLen = 128

// parse3164 reads what follows the PRI of a BSD syslog line, leniently
// (RFC 3164 §4.3: a relay keeps what it cannot read as CONTENT):
// "Mmm dd hh:mm:ss" (or an RFC 3339 TIMESTAMP, as rsyslog's
// RSYSLOG_ForwardFormat sends), HOSTNAME, then TAG[PID]: and MSG. Without
// a valid timestamp there is no HOSTNAME either (§4.3.2): the rest is
// TAG and MSG. A word that does not end in ":" or "]" is not a TAG.
func parse3164(m *Message, b []byte, now time.Time, loc *time.Location) {
	if t, n, ok := bsdTime(b, now, loc); ok {
		m.Time = t.UTC()
		b = b[n:]
		if host, n := word(b); n > 0 && !isTag(host) {
			m.Host = text(host)
			b = b[n:]
		}
	}
	if tag, n := word(b); n > 0 && isTag(tag) {
		tag = bytes.TrimSuffix(tag, []byte(":"))
		if i := bytes.IndexByte(tag, '['); i >= 0 && tag[len(tag)-1] == ']' {
			m.PID = text(tag[i+1 : len(tag)-1])
			tag = tag[:i]
		}
		m.Program = text(tag)
		b = b[n:]
	}
	m.Message = msgText(b)
}

// word returns the run of non-space bytes b starts with and its length
// with the one space after it.
func word(b []byte) ([]byte, int) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, len(b)
	}
	return b[:i], i + 1
}

// isTag reports whether w reads as TAG: (prog, prog[pid]), then ":", or
// prog[pid] alone; prog not empty, at most maxTagLen bytes, without "[".
func isTag(w []byte) bool {
	colon := bytes.HasSuffix(w, []byte(":"))
	w = bytes.TrimSuffix(w, []byte(":"))
	prog := w
	if i := bytes.IndexByte(w, '['); i >= 0 {
		if w[len(w)-1] != ']' || bytes.IndexByte(w[i+1:len(w)-1], '[') >= 0 {
			return false
		}
		prog = w[:i]
	} else if !colon {
		return false
	}
	return len(prog) > 0 && len(prog) <= maxTagLen
}

var months = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

// bsdTime reads "Mmm dd hh:mm:ss " (day space- or zero-padded) or an RFC
// 3339 time and a space, and returns the time and the bytes it took.
func bsdTime(b []byte, now time.Time, loc *time.Location) (time.Time, int, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if len(b) > 4 && isDigit(b[0]) && isDigit(b[3]) && b[4] == '-' {
		w, n := word(b)
		t, err := time.Parse(time.RFC3339Nano, string(w))
		return t, n, err == nil && n > len(w)
	}
	if len(b) < 16 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' || b[15] != ' ' {
		return time.Time{}, 0, false
	}
	mon, ok := months[string(b[:3])]
	day, ok1 := num2(b[4], b[5], true)
	hh, ok2 := num2(b[7], b[8], false)
	mm, ok3 := num2(b[10], b[11], false)
	ss, ok4 := num2(b[13], b[14], false)
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, 0, false
	}
	y := now.In(loc).Year()
	t := time.Date(y, mon, day, hh, mm, ss, 0, loc)
	if t.After(now.Add(24 * time.Hour)) {
		t = time.Date(y-1, mon, day, hh, mm, ss, 0, loc)
	}
	if t.Day() != day { // Feb 30, or Feb 29 of a year without one
		return time.Time{}, 0, false
	}
	return t, 16, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num2 reads two decimal digits; the first may be a space when pad is set.
func num2(a, b byte, pad bool) (int, bool) {
	if pad && a == ' ' {
		a = '0'
	}
	if !isDigit(a) || !isDigit(b) {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}
