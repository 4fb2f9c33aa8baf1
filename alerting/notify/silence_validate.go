package notify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// validateSilence checks sil as Alertmanager's API does and compiles its
// matchers.
func validateSilence(sil *Silence, now time.Time) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSilence, fmt.Sprintf(format, args...))
	}
	if len(sil.Matchers) == 0 {
		return bad("at least one matcher is required")
	}
	ms := make([]Matcher, len(sil.Matchers))
	allMatchEmpty := true
	for i, m := range sil.Matchers {
		c, err := NewMatcher(m.Name, m.Value, m.IsRegex, m.IsEqual)
		if err != nil {
			return bad("matchers[%d]: %v", i, err)
		}
		ms[i] = c
		allMatchEmpty = allMatchEmpty && c.Matches("")
	}
	sil.Matchers = ms
	switch {
	case allMatchEmpty:
		return bad("at least one matcher must not match the empty string (the silence would match every alert)")
	case sil.EndsAt.IsZero():
		return bad("endsAt is required")
	case !sil.EndsAt.After(sil.StartsAt):
		return bad("endsAt %s is not after startsAt %s", sil.EndsAt.Format(time.RFC3339), sil.StartsAt.Format(time.RFC3339))
	case !sil.EndsAt.After(now):
		return bad("endsAt %s is in the past (expire the silence instead)", sil.EndsAt.Format(time.RFC3339))
	case sil.CreatedBy == "":
		return bad("createdBy is required")
	case sil.Comment == "":
		return bad("comment is required")
	}
	return nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:]) // never fails: crypto/rand.Read crashes the program instead (Go 1.24)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
