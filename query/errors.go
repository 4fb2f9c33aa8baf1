package query

import (
	"errors"
	"fmt"
)

// Errors of a query's text: the API answers them with bad_data (400).
var (
	// ErrSyntax means the query does not parse; it arrives wrapped in a
	// *ParseError that gives the position.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownFunction means the query calls a function that MetricsQL
	// does not define or that outpost does not implement.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrArgCount means a function got the wrong number of arguments.
	ErrArgCount = errors.New("wrong number of arguments")
	// ErrBadArgument means an argument has the wrong type or value, such as
	// a range vector where an instant vector belongs or an invalid label
	// name.
	ErrBadArgument = errors.New("invalid argument")
	// ErrBadParam means an HTTP API parameter (time, step, match[]) is
	// invalid.
	ErrBadParam = errors.New("invalid parameter")
	// ErrTooManyPoints means a range query asks for more points per series
	// than query.max_points_per_series allows.
	ErrTooManyPoints = errors.New("exceeded maximum resolution of points per timeseries")
)

// Errors of evaluation: the API answers them with execution (422) unless
// said otherwise.
var (
	// ErrTooManySamples means the query read or held more samples than
	// query.max_samples allows. The message is Prometheus' own.
	ErrTooManySamples = errors.New("query processing would load too many samples into memory in query execution")
	// ErrMemoryLimit means the query would hold more memory than
	// query.max_memory_per_query allows, or the queries running at once
	// more than query.max_memory; the message names the limit.
	ErrMemoryLimit = errors.New("query memory limit exceeded")
	// ErrDuplicateSeries means an operation produced two series with the
	// same labels, or a one-to-one match found several series on one side.
	ErrDuplicateSeries = errors.New("duplicate series")
	// ErrTimeout means the query ran past query.timeout or the request's
	// deadline (timeout, 503).
	ErrTimeout = errors.New("query timed out")
	// ErrCanceled means the client went away or the caller canceled the
	// query (canceled, 499).
	ErrCanceled = errors.New("query was canceled")
	// ErrUnavailable means the store could not be read (unavailable, 503).
	ErrUnavailable = errors.New("storage unavailable")
)

// ParseError is a syntax error in a query, with the byte offset where
// parsing stopped.
type ParseError struct {
	Pos   int    // 0-based byte offset into the query
	Query string // the query text
	Msg   string // what the parser said
}

// Error implements error, as "1:<col>: parse error: <msg>" (Prometheus'
// form, columns counting from 1).
func (e *ParseError) Error() string {
	line, col := 1, 1
	for i, r := range e.Query {
		if i >= e.Pos {
			break
		}
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return fmt.Sprintf("%d:%d: parse error: %s", line, col, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) hold.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// kindError is an error whose message is its own text, classified by a
// sentinel: errors.Is(err, kind) holds without the sentinel's text
// appearing in what the API shows.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() error { return e.kind }

// errorf formats a message and tags it with kind.
func errorf(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}
