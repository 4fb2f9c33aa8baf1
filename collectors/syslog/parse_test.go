package syslog

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// now is the arrival time of the parser tests.
var now = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func TestParse_RFC5424Examples(t *testing.T) {
	f := func(line string, want Message) {
		t.Helper()
		got, err := Parse([]byte(line), now, time.UTC)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		want.Format = "rfc5424"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q):\n got %+v\nwant %+v", line, got, want)
		}
	}
	// RFC 5424 §6.5, example 1: no STRUCTURED-DATA, a BOM before MSG.
	f("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8",
		Message{Facility: 4, Severity: 2, Time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), Host: "mymachine.example.com",
			Program: "su", MsgID: "ID47", Message: "'su root' failed for lonvick on /dev/pts/8"})
	// Example 2: a zone offset, microseconds, an IP address as HOSTNAME.
	f("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
		Message{Facility: 20, Severity: 5, Time: time.Date(2003, 8, 24, 12, 14, 15, 3000, time.UTC), Host: "192.0.2.1",
			Program: "myproc", PID: "8710", Message: "%% It's time to make the do-nuts."})
	// Example 3: STRUCTURED-DATA and MSG.
	sd := map[string]map[string]any{"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}}
	f("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xef\xbb\xbfAn application event log entry...",
		Message{Facility: 20, Severity: 5, Time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), Host: "mymachine.example.com",
			Program: "evntslog", MsgID: "ID47", SD: sd, Message: "An application event log entry..."})
	// Example 4: two SD-ELEMENTs and no MSG.
	sd2 := map[string]map[string]any{"exampleSDID@32473": sd["exampleSDID@32473"], "examplePriority@32473": {"class": "high"}}
	f(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
		Message{Facility: 20, Severity: 5, Time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), Host: "mymachine.example.com",
			Program: "evntslog", MsgID: "ID47", SD: sd2})
	// Nil values everywhere; escapes in PARAM-VALUE (§6.3.3); a repeated name.
	f(`<13>1 - - - - - -`, Message{Facility: 1, Severity: 5})
	// One extra space before MSG is rsyslog's (see parse5424); more are kept.
	f(`<13>1 - - - - - -  x`, Message{Facility: 1, Severity: 5, Message: "x"})
	f(`<13>1 - - - - - -   x`, Message{Facility: 1, Severity: 5, Message: "  x"})
	f(`<13>1 - h a - - [x@1 p="a\"b\\c\]d\e" p="2"] m`, Message{Facility: 1, Severity: 5, Host: "h", Program: "a",
		SD: map[string]map[string]any{"x@1": {"p": []string{`a"b\c]d\e`, "2"}}}, Message: "m"})
}

func TestParse_RFC3164Examples(t *testing.T) {
	f := func(line string, want Message) {
		t.Helper()
		got, err := Parse([]byte(line), now, time.UTC)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		want.Format = "rfc3164"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q):\n got %+v\nwant %+v", line, got, want)
		}
	}
	// RFC 3164 §5.4, example 1 (Oct 11 is before now's Dec 4: this year).
	f("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		Message{Facility: 4, Severity: 2, Time: time.Date(2026, 10, 11, 22, 14, 15, 0, time.UTC), Host: "mymachine",
			Program: "su", Message: "'su root' failed for lonvick on /dev/pts/8"})
	// Example 3: "CST 1987" after the TIMESTAMP; as the RFC reads it,
	// HOSTNAME is "CST" and the rest is CONTENT without a TAG.
	f("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%",
		Message{Facility: 20, Severity: 5, Time: time.Date(2026, 8, 24, 5, 34, 0, 0, time.UTC), Host: "CST",
			Message: "1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%"})
	// Example 4: no valid TIMESTAMP, so no HOSTNAME: all of it is CONTENT.
	f("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
		Message{Facility: 0, Severity: 0, Message: "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"})
	// TAG[PID]: as logger and rsyslog send it; a space-padded day.
	f("<38>Dec  4 08:59:58 bastion sshd[1234]: Accepted publickey for ops",
		Message{Facility: 4, Severity: 6, Time: time.Date(2026, 12, 4, 8, 59, 58, 0, time.UTC), Host: "bastion",
			Program: "sshd", PID: "1234", Message: "Accepted publickey for ops"})
	// A date later than tomorrow is last year's (Dec 31 seen on Dec 4).
	f("<13>Dec 31 23:59:59 h prog: x", Message{Facility: 1, Severity: 5, Time: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
		Host: "h", Program: "prog", Message: "x"})
	// No HOSTNAME (a local socket's form): the TAG follows the TIMESTAMP.
	f("<13>Dec  4 08:00:00 cron[7]: job", Message{Facility: 1, Severity: 5, Time: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC),
		Program: "cron", PID: "7", Message: "job"})
	// rsyslog's RSYSLOG_ForwardFormat: an RFC 3339 TIMESTAMP.
	f("<86>2026-12-04T08:30:00.123456+01:00 bastion sudo: ops : TTY=pts/0",
		Message{Facility: 10, Severity: 6, Time: time.Date(2026, 12, 4, 7, 30, 0, 123456000, time.UTC), Host: "bastion",
			Program: "sudo", Message: "ops : TTY=pts/0"})
	// Only a PRI, and a PRI then text.
	f("<191>", Message{Facility: 23, Severity: 7})
	f("<13>hello world\r\n", Message{Facility: 1, Severity: 5, Message: "hello world"})
	f("<13>Feb 30 10:00:00 h p: x", Message{Facility: 1, Severity: 5, Message: "Feb 30 10:00:00 h p: x"})
}

func TestParse_Zone(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	m, err := Parse([]byte("<13>Dec  4 10:00:00 h p: x"), now, loc)
	if err != nil || !m.Time.Equal(time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Parse in UTC+2 = %s, %v", m.Time, err)
	}
}

func TestParse_Errors(t *testing.T) {
	f := func(line, reason, want string) {
		t.Helper()
		_, err := Parse([]byte(line), now, time.UTC)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) = %v, want a *ParseError", line, err)
		}
		if pe.Reason != reason || err.Error() != want {
			t.Errorf("Parse(%q):\n got %s %s\nwant %s %s", line, pe.Reason, err, reason, want)
		}
	}
	// RFC 3164 §5.4 example 2 has no PRI: refused (see the package comment).
	f("Use the BFG!", ReasonNoPRI, `syslog: column 1: no PRI: a syslog line starts with "<" and a number from 0 to 191 (no_pri)`)
	f("", ReasonNoPRI, `syslog: column 1: no PRI: a syslog line starts with "<" and a number from 0 to 191 (no_pri)`)
	f("<>x", ReasonBadPRI, `syslog: column 2: PRI must be 1 to 3 digits closed by ">" (bad_pri)`)
	f("<13", ReasonBadPRI, `syslog: column 4: PRI must be 1 to 3 digits closed by ">" (bad_pri)`)
	f("<192>x", ReasonBadPRI, `syslog: column 2: PRI 192 is over 191 (facility 23, severity 7) (bad_pri)`)
	f("<013>x", ReasonBadPRI, `syslog: column 2: PRI "013" has too many digits or a leading zero (bad_pri)`)
	f("<1234>x", ReasonBadPRI, `syslog: column 2: PRI "1234" has too many digits or a leading zero (bad_pri)`)
	f("<13>1 2003-10-11 h a p m -", ReasonBadTime, `syslog: column 7: TIMESTAMP "2003-10-11" is not RFC 3339 (2003-10-11T22:14:15.003Z) (bad_timestamp)`)
	f("<13>1 - h a p", ReasonBadHeader, `syslog: column 14: the header ends before PROCID (bad_header)`)
	f("<13>1 - h  p m -", ReasonBadHeader, `syslog: column 11: APP-NAME must be 1 to 48 characters (bad_header)`)
	f("<13>1 - h a p m [x", ReasonBadSD, `syslog: column 19: SD-ELEMENT "x" is not closed by "]" (bad_structured_data)`)
	f(`<13>1 - h a p m [x a="1]`, ReasonBadSD, `syslog: column 23: PARAM-VALUE of "a" is not closed by '"' (bad_structured_data)`)
	f(`<13>1 - h a p m [x a=1]`, ReasonBadSD, `syslog: column 21: PARAM-NAME "a" must be followed by =" (bad_structured_data)`)
	f(`<13>1 - h a p m [x]y`, ReasonBadSD, `syslog: column 20: STRUCTURED-DATA must be followed by a space or the end of the line (bad_structured_data)`)
	f(`<13>1 - h a p m x`, ReasonBadSD, `syslog: column 17: STRUCTURED-DATA must be "-" or start with "[" (bad_structured_data)`)
	f(`<13>1 - h a p m [=]`, ReasonBadSD, `syslog: column 18: SD-ID must be 1 to 32 printable characters other than = ] " and space (bad_structured_data)`)
}

func TestNames(t *testing.T) {
	got := fmt.Sprintf("%s %s %s %s %q", SeverityName(3), FacilityName(4), FacilityName(10), FacilityName(23), FacilityName(24))
	if got != `err auth authpriv local7 ""` {
		t.Errorf("names: %q", got)
	}
}
