package syslog

import (
	"errors"
	"testing"
	"time"
)

func TestToEvent(t *testing.T) {
	refuseOld := func(ts time.Time) error {
		if ts.Before(now.Add(-24 * time.Hour)) {
			return errors.New("older than the retention")
		}
		return nil
	}
	f := func(line, want string) {
		t.Helper()
		m, err := Parse([]byte(line), now, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := toEvent(&m, []byte(line), arrival{at: now.Add(time.Second), peer: "192.0.2.9", seq: 1}, refuseOld)
		if err != nil || string(ev.Body) != want {
			t.Errorf("toEvent(%q):\n got %s %v\nwant %s", line, ev.Body, err, want)
		}
	}
	// No HOSTNAME: the sender's address; no TIMESTAMP: the arrival time.
	f("<13>hi", `{"facility":"user","facility_code":1,"format":"rfc3164","host":"192.0.2.9","message":"hi","peer":"192.0.2.9","severity":"notice","severity_code":5,"source":"syslog","time":"2026-12-04T09:00:01Z"}`)
	// A time the store refuses: the arrival time, the message's kept.
	f("<165>1 2003-10-11T22:14:15.003Z h app - - - <b>&", `{"facility":"local4","facility_code":20,"format":"rfc5424","host":"h","message":"<b>&","peer":"192.0.2.9","program":"app","reported_time":"2003-10-11T22:14:15.003Z","severity":"notice","severity_code":5,"source":"syslog","time":"2026-12-04T09:00:01Z"}`)
	// Two identical lines are two events.
	m, _ := Parse([]byte("<13>x"), now, time.UTC)
	a, _ := toEvent(&m, []byte("<13>x"), arrival{at: now, seq: 1}, nil)
	b, _ := toEvent(&m, []byte("<13>x"), arrival{at: now, seq: 2}, nil)
	if a.ID == b.ID || len(a.ID) != 32 {
		t.Errorf("ids %q and %q", a.ID, b.ID)
	}
}
