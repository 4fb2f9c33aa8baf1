package collectd

import (
	"fmt"
	"math"
	"strings"
)

// Part types of collectd's binary network protocol. A packet is a sequence
// of parts "type:u16be length:u16be payload", where length counts the
// 4-byte header.
const (
	partHost           = 0x0000
	partTime           = 0x0001 // seconds
	partPlugin         = 0x0002
	partPluginInstance = 0x0003
	partType           = 0x0004
	partTypeInstance   = 0x0005
	partValues         = 0x0006
	partInterval       = 0x0007 // seconds
	partTimeHR         = 0x0008 // 2^-30 s
	partIntervalHR     = 0x0009 // 2^-30 s
	partMessage        = 0x0100
	partSeverity       = 0x0101
	partSignSHA256     = 0x0200
	partEncrAES256     = 0x0210
)

// Limits of collectd's own server, which this parser keeps so that it
// accepts and refuses what collectd does.
const (
	partHeaderLen = 4
	maxNameLen    = 128 // DATA_MAX_NAME_LEN, NUL included
	maxMessageLen = 256 // NOTIF_MAX_MSG_LEN, NUL included
	maxDepth      = 4   // nested signed/encrypted parts
)

// DSType is the kind of one value of a value list, as sent on the wire and
// declared in types.db.
type DSType uint8

// The data-source types of collectd, with their wire codes.
const (
	Counter  DSType = 0 // unsigned 64-bit, big-endian, wraps
	Gauge    DSType = 1 // IEEE-754 double, little-endian
	Derive   DSType = 2 // signed 64-bit, big-endian
	Absolute DSType = 3 // unsigned 64-bit, big-endian, reset on read
)

// String returns the type's name as types.db writes it.
func (t DSType) String() string {
	switch t {
	case Counter:
		return "COUNTER"
	case Gauge:
		return "GAUGE"
	case Derive:
		return "DERIVE"
	case Absolute:
		return "ABSOLUTE"
	}
	panic(fmt.Sprintf("collectd: unknown DSType %d", uint8(t)))
}

// parseDSType reads a types.db type name, case-insensitively as collectd.
func parseDSType(s string) (DSType, bool) {
	switch strings.ToUpper(s) {
	case "COUNTER":
		return Counter, true
	case "GAUGE":
		return Gauge, true
	case "DERIVE":
		return Derive, true
	case "ABSOLUTE":
		return Absolute, true
	}
	return 0, false
}

// Value is one value of a value list, kept exactly as received.
type Value struct {
	Type DSType
	// Bits holds the value: math.Float64bits of a Gauge, the two's
	// complement of a Derive, the integer of a Counter or Absolute.
	Bits uint64
}

// Float64 returns the value as the store keeps it: a Gauge as is, the
// integer kinds converted (raw, not as rates).
func (v Value) Float64() float64 {
	switch v.Type {
	case Gauge:
		return math.Float64frombits(v.Bits)
	case Derive:
		return float64(int64(v.Bits))
	}
	return float64(v.Bits)
}

// ValueList is one set of values with its identifier, as collectd's
// value_list_t. Time and Interval are in collectd's time unit, 2^-30 s;
// Time is 0 when the packet carried none.
type ValueList struct {
	Host, Plugin, PluginInstance, Type, TypeInstance string

	Time     uint64
	Interval uint64
	Values   []Value
}

// Millis returns the value list's time in milliseconds since the Unix
// epoch, rounded to the nearest millisecond as collectd's CDTIME_T_TO_MS.
func (vl *ValueList) Millis() int64 {
	return cdtimeToMillis(vl.Time)
}

func cdtimeToMillis(t uint64) int64 {
	const frac = 1<<30 - 1
	return int64((t>>30)*1000 + ((t&frac)*1000+1<<29)>>30)
}

// SecurityLevel is what a listener demands of packets, as the
// SecurityLevel of a <Listen> block of collectd's network plugin.
type SecurityLevel int

// The security levels, weakest first.
const (
	// None accepts every packet. Signed packets are verified when an auth
	// file is configured and accepted unverified when none is; encrypted
	// packets need the auth file.
	None SecurityLevel = iota
	// Sign accepts only signed or encrypted parts; other parts are ignored.
	Sign
	// Encrypt accepts only encrypted parts; other parts are ignored.
	Encrypt
)

// ParseSecurityLevel reads "none", "sign" or "encrypt", in any case.
func ParseSecurityLevel(s string) (SecurityLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return None, nil
	case "sign":
		return Sign, nil
	case "encrypt":
		return Encrypt, nil
	}
	return None, fmt.Errorf("security level %q is not none, sign or encrypt", s)
}

// String returns the level's configuration name.
func (l SecurityLevel) String() string {
	switch l {
	case None:
		return "none"
	case Sign:
		return "sign"
	case Encrypt:
		return "encrypt"
	}
	panic(fmt.Sprintf("collectd: unknown SecurityLevel %d", int(l)))
}

// PasswordLookup finds the password of a user of signed or encrypted
// packets. *AuthFile implements it.
type PasswordLookup interface {
	Password(user string) (password string, ok bool)
}

// Result tells what Parse found besides the value lists it handed out.
type Result struct {
	// ValueLists is how many value lists were handed to emit.
	ValueLists int
	// Notifications is how many notifications (message parts) were read;
	// they are not stored.
	Notifications int
	// Ignored is how many values parts were skipped because they were not
	// signed (SecurityLevel Sign) or not encrypted (Encrypt).
	Ignored int
}
