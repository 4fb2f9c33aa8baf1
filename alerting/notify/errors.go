package notify

import (
	"errors"
	"fmt"
)

// Errors of the silence store.
var (
	// ErrNotFound is returned for a silence ID that is not stored (never
	// set, or expired and garbage-collected).
	ErrNotFound = errors.New("silence not found")
	// ErrInvalidSilence wraps every validation error of Silences.Set, so an
	// API can answer 400 with errors.Is.
	ErrInvalidSilence = errors.New("invalid silence")
)

// Errors of the Notifier's lifecycle.
var (
	// ErrRunning is returned by a second call of Notifier.Run.
	ErrRunning = errors.New("notifier: Run called twice")
)

// ParseError is a matcher that does not parse: the input, the 1-based
// column of the problem in it (0 when the problem is the whole value, such
// as a bad regular expression) and what is wrong.
type ParseError struct {
	Input string
	Col   int
	Msg   string
}

// Error renders the input, the column (when known) and the problem.
func (e *ParseError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%q: col %d: %s", e.Input, e.Col, e.Msg)
	}
	return fmt.Sprintf("%q: %s", e.Input, e.Msg)
}
