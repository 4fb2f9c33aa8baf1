package events

import (
	"errors"
	"fmt"
)

// Errors returned by Store methods.
var (
	// ErrClosed is returned by every method of a Store after Close.
	ErrClosed = errors.New("events: store closed")
	// ErrOutOfBounds means an event's time is older than the retention or
	// further ahead than the allowed future.
	ErrOutOfBounds = errors.New("event time out of bounds")
)

// Errors returned by ParseQuery and by Search for its cursor.
var (
	// ErrSyntax is matched (errors.Is) by every *QueryError.
	ErrSyntax = errors.New("query syntax error")
	// ErrBadCursor means a paging cursor is not one Search returned.
	ErrBadCursor = errors.New("bad cursor")
)

// QueryError is a syntax error in a search query: its 1-based column and
// what is wrong there.
type QueryError struct {
	Col int
	Msg string
}

// Error implements error.
func (e *QueryError) Error() string { return fmt.Sprintf("query: column %d: %s", e.Col, e.Msg) }

// Is makes errors.Is(err, ErrSyntax) true.
func (e *QueryError) Is(target error) bool { return target == ErrSyntax }
