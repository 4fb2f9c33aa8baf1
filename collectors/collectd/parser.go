package collectd

import (
	"encoding/binary"
	"fmt"
)

// maxInterned bounds the strings a Parser keeps for reuse; past it the set
// is cleared, so a sender cycling through endless names costs memory once.
const maxInterned = 8192

// Parser decodes collectd's binary network protocol. It keeps the scratch
// space, the interned identifier strings and the per-user keys between
// packets, so a warm Parser decodes a packet without allocating.
//
// A Parser is not safe for concurrent use: give each goroutine its own. The
// PasswordLookup it is given may be shared.
type Parser struct {
	level SecurityLevel
	auth  PasswordLookup // nil: no auth file

	state  [maxDepth + 1]ValueList // per nesting level, reset on entry
	values []Value                 // backing array of the emitted Values
	plain  [maxDepth + 1][]byte    // decrypted payload per nesting level
	names  map[string]string       // interned identifier strings
	keys   map[string]*userKey     // per user, see crypto.go
	sum    [32]byte                // HMAC scratch
	ks     [16]byte                // AES-OFB key-stream scratch
}

// NewParser returns a Parser that demands level of the packets it reads.
// auth finds the passwords of signed and encrypted packets; with nil,
// signed packets are accepted unverified (only at level None, as collectd
// does without an AuthFile) and encrypted packets are rejected.
func NewParser(level SecurityLevel, auth PasswordLookup) *Parser {
	return &Parser{
		level: level,
		auth:  auth,
		names: make(map[string]string),
		keys:  make(map[string]*userKey),
	}
}

// secFlags says what protects the bytes being walked.
type secFlags struct {
	signed, encrypted bool
}

// Parse decodes one datagram and calls emit for each value list, in packet
// order. The *ValueList and its Values are valid only during the call; its
// strings may be kept.
//
// When a part is corrupt, Parse stops there, as collectd does: the value
// lists before it have been emitted, and the error (ErrTruncated,
// ErrMalformed, or a security error from errors.go, wrapped with the part
// and offset) says why the rest was dropped. An error inside an encrypted
// part does not stop the parts after it. Parse does not modify pkt and never
// panics.
func (p *Parser) Parse(pkt []byte, emit func(*ValueList)) (Result, error) {
	var res Result
	var nested error
	err := p.walk(pkt, 0, secFlags{}, &res, &nested, emit)
	if err == nil {
		err = nested
	}
	return res, err
}

// walk parses the parts of b at nesting depth d. It returns the error that
// stops the walk; an error inside an encrypted part, after which collectd
// goes on with the next part, is stored in *nested (the first one only).
func (p *Parser) walk(b []byte, d int, sec secFlags, res *Result, nested *error, emit func(*ValueList)) error {
	if d > maxDepth {
		return fmt.Errorf("nesting deeper than %d: %w", maxDepth, ErrMalformed)
	}
	st := &p.state[d]
	*st = ValueList{}
	off := 0
	for len(b)-off > partHeaderLen {
		typ := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n > len(b)-off {
			return fmt.Errorf("part 0x%04x at offset %d: length %d beyond the %d bytes left: %w",
				typ, off, n, len(b)-off, ErrTruncated)
		}
		if n < partHeaderLen {
			return fmt.Errorf("part 0x%04x at offset %d: length %d: %w", typ, off, n, ErrMalformed)
		}
		part := b[off : off+n]
		switch {
		case typ == partEncrAES256:
			inner, err := p.decrypt(part, d, sec, res, emit)
			if err != nil {
				return fmt.Errorf("encryption part at offset %d: %w", off, err)
			}
			if inner != nil && *nested == nil {
				*nested = inner
			}
		case p.level == Encrypt && !sec.encrypted:
			if typ == partValues {
				res.Ignored++
			}
		case typ == partSignSHA256:
			if n <= signHeaderLen {
				return fmt.Errorf("signature part at offset %d: length %d: %w", off, n, ErrMalformed)
			}
			if p.auth != nil {
				// The signature covers the rest of the packet, which is
				// parsed (or dropped) as a whole.
				if err := p.verify(b[off:], d, sec, res, nested, emit); err != nil {
					return fmt.Errorf("signature part at offset %d: %w", off, err)
				}
				return nil
			}
			// No auth file: collectd skips the signature and reads on.
		case p.level == Sign && !sec.signed && !sec.encrypted:
			if typ == partValues {
				res.Ignored++
			}
		default:
			if err := p.part(st, typ, part, res, emit); err != nil {
				return fmt.Errorf("part 0x%04x at offset %d: %w", typ, off, err)
			}
		}
		off += n
	}
	if off < len(b) {
		return fmt.Errorf("%d bytes after the last part: %w", len(b)-off, ErrTruncated)
	}
	return nil
}

// part applies one plain part to the value-list state st.
func (p *Parser) part(st *ValueList, typ uint16, part []byte, res *Result, emit func(*ValueList)) error {
	payload := part[partHeaderLen:]
	switch typ {
	case partHost, partPlugin, partPluginInstance, partType, partTypeInstance:
		s, err := p.parseString(payload, maxNameLen)
		if err != nil {
			return err
		}
		switch typ {
		case partHost:
			st.Host = s
		case partPlugin:
			st.Plugin = s
		case partPluginInstance:
			st.PluginInstance = s
		case partType:
			st.Type = s
		default:
			st.TypeInstance = s
		}
	case partTime, partTimeHR, partInterval, partIntervalHR, partSeverity:
		v, err := parseNumber(payload)
		if err != nil {
			return err
		}
		switch typ {
		case partTime:
			st.Time = v << 30
		case partTimeHR:
			st.Time = v
		case partInterval:
			st.Interval = v << 30
		case partIntervalHR:
			st.Interval = v
		}
	case partMessage:
		if _, err := checkString(payload, maxMessageLen); err != nil {
			return err
		}
		res.Notifications++
	case partValues:
		vals, err := p.parseValues(payload)
		if err != nil {
			return err
		}
		st.Values = vals
		emit(st)
		st.Values = nil
		res.ValueLists++
	}
	// Other part types are skipped, as collectd does.
	return nil
}

// checkString returns the string of a string part's payload: up to its
// first NUL, which must exist, within max bytes (NUL included).
func checkString(payload []byte, max int) ([]byte, error) {
	switch {
	case len(payload) == 0:
		return nil, fmt.Errorf("empty string: %w", ErrMalformed)
	case len(payload) > max:
		return nil, fmt.Errorf("string of %d bytes, longer than %d: %w", len(payload), max, ErrMalformed)
	case payload[len(payload)-1] != 0:
		return nil, fmt.Errorf("string without NUL terminator: %w", ErrMalformed)
	}
	for i, c := range payload {
		if c == 0 {
			return payload[:i], nil
		}
	}
	return payload, nil // unreachable: the last byte is NUL
}

func (p *Parser) parseString(payload []byte, max int) (string, error) {
	b, err := checkString(payload, max)
	if err != nil {
		return "", err
	}
	return p.intern(b), nil
}

// intern returns b as a string, reusing the one made for the same bytes
// before; the lookup does not allocate.
func (p *Parser) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	if len(p.names) >= maxInterned {
		clear(p.names)
	}
	s := string(b)
	p.names[s] = s
	return s
}

func parseNumber(payload []byte) (uint64, error) {
	if len(payload) != 8 {
		return 0, fmt.Errorf("number part of %d bytes, not 8: %w", len(payload), ErrMalformed)
	}
	return binary.BigEndian.Uint64(payload), nil
}

// parseValues decodes a values part: u16be count, count type codes, count
// 8-byte values (GAUGE little-endian, the others big-endian).
func (p *Parser) parseValues(payload []byte) ([]Value, error) {
	if len(payload) < 2 {
		return nil, fmt.Errorf("values part without count: %w", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(payload))
	if n == 0 || len(payload) != 2+9*n {
		return nil, fmt.Errorf("values part of %d bytes for %d values: %w", len(payload)+partHeaderLen, n, ErrMalformed)
	}
	types := payload[2 : 2+n]
	data := payload[2+n:]
	if cap(p.values) < n {
		p.values = make([]Value, n)
	}
	vals := p.values[:n]
	for i, t := range types {
		raw := data[8*i : 8*i+8]
		switch DSType(t) {
		case Gauge:
			vals[i] = Value{Type: Gauge, Bits: binary.LittleEndian.Uint64(raw)}
		case Counter, Derive, Absolute:
			vals[i] = Value{Type: DSType(t), Bits: binary.BigEndian.Uint64(raw)}
		default:
			return nil, fmt.Errorf("value %d has unknown data-source type %d: %w", i, t, ErrMalformed)
		}
	}
	return vals, nil
}
