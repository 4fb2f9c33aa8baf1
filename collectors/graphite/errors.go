package graphite

import (
	"errors"
	"fmt"
)

// Errors about one line's value. The listener counts them; it never logs
// them one by one.
var (
	// ErrNaN means the line's value is NaN. collectd's write_graphite sends
	// "nan" for a rate it cannot compute yet; carbon drops such points, and
	// so does outpost, counting them as rejected samples with reason "nan".
	ErrNaN = errors.New("value is NaN")
)

// errOverBudget means graphite.max_inflight_bytes had no room for a line:
// the line is dropped and counted (reason "over_budget"), never stored
// past the budget.
var errOverBudget = errors.New("no room in graphite.max_inflight_bytes")

// ParseError reports a line that is not Graphite plaintext.
type ParseError struct {
	Line int    // 1-based line number within the connection or datagram
	Col  int    // 1-based byte column where the problem starts
	Msg  string // what is wrong, lower-case
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}
