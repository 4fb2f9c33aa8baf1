package syslog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	store "outpost/tsdb/events"
)

// arrival is what the listener knows of a line besides its bytes.
type arrival struct {
	at   time.Time // when it was read
	peer string    // the sender's IP address
	seq  uint64    // the listener's count of lines, for the ID
}

// toEvent maps m to a stored event. The time is the message's when the
// store takes it (check), else the arrival time, with the message's kept
// as reported_time: a sender's wrong clock loses no line. A message
// without HOSTNAME takes the sender's address as host (RFC 3164 §4.3.2).
// The ID hashes the line with its arrival, so two identical lines are two
// events.
func toEvent(m *Message, raw []byte, a arrival, check func(time.Time) error) (store.Event, error) {
	body := map[string]any{
		"source":        "syslog",
		"format":        m.Format,
		"severity":      SeverityName(m.Severity),
		"facility":      FacilityName(m.Facility),
		"severity_code": m.Severity,
		"facility_code": m.Facility,
		"message":       m.Message,
	}
	put := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	host := m.Host
	if host == "" {
		host = a.peer
	}
	put("host", host)
	put("peer", a.peer)
	put("program", m.Program)
	put("pid", m.PID)
	put("msgid", m.MsgID)
	if m.SD != nil {
		body["sd"] = m.SD
	}
	t := a.at
	if !m.Time.IsZero() {
		if check == nil || check(m.Time) == nil {
			t = m.Time
		} else {
			put("reported_time", m.Time.Format(time.RFC3339Nano))
		}
	}
	body["time"] = t.UTC().Format(time.RFC3339Nano)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return store.Event{}, fmt.Errorf("encode syslog event: %w", err)
	}
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.at.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], a.seq)
	h.Write(b[:])
	h.Write([]byte(a.peer))
	h.Write(raw)
	return store.Event{ID: hex.EncodeToString(h.Sum(nil)[:16]), Time: t, Body: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}, nil
}
