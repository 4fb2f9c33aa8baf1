package alerting

import "fmt"

// State is where one alert stands. An alert is born inactive when its
// rule first sees its series; a breach makes it pending (or firing at once
// when the rule has no "for"), a breach held for "for" makes it firing, and
// the end of the breach (or the rule's clear condition) resolves it.
// Insufficient data is CloudWatch's state for a rule with missing_data:
// missing whose datapoints are all missing. Retired is the end of an
// alert whose source was removed on purpose.
type State int

// The states of an alert.
const (
	StateInactive State = iota
	StatePending
	StateFiring
	StateResolved
	StateInsufficientData
	StateRetired
)

// String returns the state's name as the APIs write it.
func (s State) String() string {
	switch s {
	case StateInactive:
		return "inactive"
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	case StateResolved:
		return "resolved"
	case StateInsufficientData:
		return "insufficient_data"
	case StateRetired:
		return "retired"
	}
	panic(fmt.Sprintf("alerting: unknown State %d", int(s)))
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for c := StateInactive; c <= StateRetired; c++ {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("unknown alert state %q", b)
}

// Level is the severity a datapoint breaches: none, warning or critical.
// A rule without warn/crit conditions breaches at LevelBreach, whose
// severity comes from the rule's labels.
type Level int8

// The levels of a datapoint.
const (
	LevelMissing  Level = -1 // no value for the series at this evaluation
	LevelOK       Level = 0
	LevelBreach   Level = 1 // breaching a rule without levels
	LevelWarning  Level = 2
	LevelCritical Level = 3
)

// Severity is the severity label value of a level: "warning" or
// "critical", "" for the others.
func (l Level) Severity() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelCritical:
		return "critical"
	}
	return ""
}
