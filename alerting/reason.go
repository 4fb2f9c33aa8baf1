package alerting

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// reasonTimeLayout is how a datapoint's time appears in a reason: the
// time of day in UTC, as CloudWatch's state reasons show it.
const reasonTimeLayout = "15:04:05"

// appendPoints appends "[92.1 (10:31:00), missing (10:31:30)]".
func appendPoints(b []byte, ps []Datapoint) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		if p.Level == LevelMissing || math.IsNaN(float64(p.V)) {
			b = append(b, "missing"...)
		} else {
			b = strconv.AppendFloat(b, float64(p.V), 'g', 6, 64)
		}
		b = append(b, " ("...)
		b = p.T.UTC().AppendFormat(b, reasonTimeLayout)
		b = append(b, ')')
	}
	return append(b, ']')
}

// breachReason says which datapoints breached, CloudWatch style:
// "3 of the last 3 datapoints [92.1 (10:31:00), ...] were > 90". what is
// the condition ("> 90") or, for a rule without levels, "returned by
// <expr>".
func breachReason(ps []Datapoint, at Level, what string) string {
	n := 0
	for _, p := range ps {
		if p.Level >= at {
			n++
		}
	}
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(n))
	sb.WriteString(" of the last ")
	sb.WriteString(strconv.Itoa(len(ps)))
	if len(ps) == 1 {
		sb.WriteString(" datapoint ")
	} else {
		sb.WriteString(" datapoints ")
	}
	sb.Write(appendPoints(nil, ps))
	if n == 1 {
		sb.WriteString(" was ")
	} else {
		sb.WriteString(" were ")
	}
	sb.WriteString(what)
	return sb.String()
}

// clearReason says why a firing alert resolved under its clear condition:
// "the last datapoint [70 (10:40:00)] was < 75".
func clearReason(p Datapoint, clear string) string {
	return "the last datapoint " + string(appendPoints(nil, []Datapoint{p})) + " was " + clear
}

// silentReason says for how long a flatline group has sent nothing.
func silentReason(last time.Time, silent time.Duration) string {
	return "no sample for " + silent.Truncate(time.Second).String() + " (last at " +
		last.UTC().Format(time.RFC3339) + ")"
}
