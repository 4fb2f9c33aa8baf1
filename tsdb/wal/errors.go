package wal

import "errors"

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
	// ErrWriteFailed means a write or fdatasync of a segment failed. It is
	// sticky: the WAL refuses every later Log and Cut, because after a failed
	// fsync the kernel may have forgotten the failure together with the data
	// (see the package documentation). Reopen the WAL to go on.
	ErrWriteFailed = errors.New("wal: write failed, log is read-only until reopened")
)
