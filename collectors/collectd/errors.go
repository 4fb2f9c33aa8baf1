package collectd

import (
	"errors"
	"fmt"
)

// Errors that end the parsing of a packet. The value lists parsed before the
// error have already been handed out; the rest of the packet is dropped, as
// collectd's own server does. Each maps to one rejection reason (see Reason).
var (
	// ErrTruncated means a part claims more bytes than the packet holds, or
	// fewer than a part header's worth of bytes is left at its end.
	ErrTruncated = errors.New("truncated packet")
	// ErrMalformed means a part's contents break the protocol: a string
	// without its NUL or longer than collectd's 128 bytes, a number part that
	// is not 8 bytes, a values part whose length does not match its count or
	// with an unknown data-source type, nesting too deep.
	ErrMalformed = errors.New("malformed part")
)

// Errors of signed and encrypted packets.
var (
	// ErrNoAuthFile means an encrypted packet arrived but no auth file is
	// configured to find its user's password.
	ErrNoAuthFile = errors.New("encrypted packet but no auth file")
	// ErrUnknownUser means the user named in a signature or encryption part is
	// not in the auth file.
	ErrUnknownUser = errors.New("unknown user")
	// ErrBadSignature means the HMAC-SHA-256 of a signed packet does not match:
	// a wrong password or altered data.
	ErrBadSignature = errors.New("signature mismatch")
	// ErrDecrypt means an encrypted part decrypted to data whose SHA-1 does
	// not match: a wrong password or altered data.
	ErrDecrypt = errors.New("decryption checksum mismatch")
)

// Reason returns the short snake_case rejection reason under which the
// listener counts a packet that Parse rejected with err.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrNoAuthFile):
		return "no_auth_file"
	case errors.Is(err, ErrUnknownUser):
		return "unknown_user"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrDecrypt):
		return "decrypt_failed"
	}
	return "invalid"
}

// ParseError is a types.db line that cannot be read.
type ParseError struct {
	File string // the file name, or "" for a reader
	Line int    // 1-based line number
	Col  int    // 1-based column of the offending field
	Msg  string
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}
