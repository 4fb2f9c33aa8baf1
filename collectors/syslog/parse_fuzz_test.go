package syslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

// seedLines adds the lines of a testdata file to f's corpus.
func seedLines(f *testing.F, name string) {
	for _, l := range bytes.Split(readTestdata(f, name), []byte("\n")) {
		f.Add(l)
	}
}

// checkParse parses line and checks what any answer must satisfy: a
// *ParseError with a known reason, or a Message in range whose event is
// a JSON object with its fields.
func checkParse(t *testing.T, line []byte) (Message, bool) {
	m, err := Parse(line, now, time.UTC)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason == "" || pe.Col < 1 || pe.Col > len(line)+1 {
			t.Fatalf("Parse(%q): %#v", line, err)
		}
		return m, false
	}
	if m.Severity < 0 || m.Severity > 7 || FacilityName(m.Facility) == "" {
		t.Fatalf("Parse(%q): severity %d facility %d", line, m.Severity, m.Facility)
	}
	for _, s := range []string{m.Host, m.Program, m.PID, m.MsgID, m.Message} {
		if !utf8.ValidString(s) {
			t.Fatalf("Parse(%q): invalid UTF-8 in %q", line, s)
		}
	}
	ev, err := toEvent(&m, line, arrival{at: now, peer: "127.0.0.1", seq: 1}, nil)
	var body map[string]any
	if err != nil || json.Unmarshal(ev.Body, &body) != nil || body["source"] != "syslog" || body["severity"] != SeverityName(m.Severity) {
		t.Fatalf("Parse(%q): event %s, %v", line, ev.Body, err)
	}
	return m, true
}

// FuzzParse5424 checks the RFC 5424 parser: besides checkParse, a line
// it takes has header fields of printable US-ASCII within their limits.
//
//	go test -run '^$' -fuzz FuzzParse5424 -fuzztime 30s ./collectors/syslog
func FuzzParse5424(f *testing.F) {
	seedLines(f, "rfc5424.txt")
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 1<<16 {
			return
		}
		m, ok := checkParse(t, line)
		if !ok || m.Format != "rfc5424" {
			return
		}
		for _, fl := range []struct {
			v   string
			max int
		}{{m.Host, maxHostLen}, {m.Program, maxAppLen}, {m.PID, maxProcLen}, {m.MsgID, maxMsgIDLen}} {
			if len(fl.v) > fl.max || bytes.ContainsFunc([]byte(fl.v), func(r rune) bool { return r < 33 || r > 126 }) {
				t.Fatalf("Parse(%q): header field %q", line, fl.v)
			}
		}
	})
}

// FuzzParse3164 checks the RFC 3164 parser: besides checkParse, a line it
// takes keeps its CONTENT, so MSG is never longer than the line.
//
//	go test -run '^$' -fuzz FuzzParse3164 -fuzztime 30s ./collectors/syslog
func FuzzParse3164(f *testing.F) {
	seedLines(f, "rfc3164.txt")
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 1<<16 {
			return
		}
		m, ok := checkParse(t, line)
		if ok && m.Format == "rfc3164" && len(m.Message) > 3*len(line) {
			t.Fatalf("Parse(%q): message %q", line, m.Message)
		}
	})
}
