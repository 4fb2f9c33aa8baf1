package wal

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by Open and by methods called after Close.
var (
	// ErrClosed is returned by every method of a WAL after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrInvalidOptions means a field of Options is out of range.
	ErrInvalidOptions = errors.New("wal: invalid options")
)

// Errors that reject a Log call before anything of it is queued.
var (
	// ErrInvalidType means a Record.Type is 128 or more; the top bit of the
	// type byte is reserved for the compression flag.
	ErrInvalidType = errors.New("wal: record type out of range")
	// ErrRecordTooLarge means a Record.Data is longer than MaxRecordSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
)

// Errors of the writer.
var (
	// ErrWriteFailed means the WAL cannot append: a write, fdatasync or
	// segment creation failed (a full disk, say). The Log call that hit the
	// failure, and every Log and Cut until the writer has recovered, fail
	// with an *AppendError wrapping it; none of them was acknowledged. The
	// writer recovers by itself, in a new segment (see the package
	// documentation). Err reports the state meanwhile.
	ErrWriteFailed = errors.New("wal: cannot append")
)

// AppendError is the error of a WAL that cannot append. It wraps
// ErrWriteFailed and the failure itself, so errors.Is(err, ErrWriteFailed)
// and errors.Is(err, syscall.ENOSPC) both work.
type AppendError struct {
	// Since is when the first write, fdatasync or segment creation of this
	// outage failed.
	Since time.Time
	// Err is the latest failure: the first one, or that of the latest
	// recovery attempt.
	Err error
}

// Error implements error.
func (e *AppendError) Error() string {
	return fmt.Sprintf("wal cannot append since %s: %v", e.Since.Format(time.DateTime), e.Err)
}

// Unwrap returns ErrWriteFailed and the failure.
func (e *AppendError) Unwrap() []error { return []error{ErrWriteFailed, e.Err} }
