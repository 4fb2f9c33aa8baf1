package pages

import (
	"strconv"
	"strings"
	"time"
)

// collectInterval is the interval senders are assumed to collect at
// (Telegraf's and collectd's default is 10 s), which Grafana calls the
// scrape interval when it computes $__rate_interval.
const collectInterval = 10 * time.Second

// expandVars replaces the Grafana variables a dashboard query may use,
// as Grafana does before it sends the query:
//
//	$__interval       the step
//	$__rate_interval  max(step + collect interval, 4 × collect interval)
//	$__range          the length of the range
//
// and ${name} or $name for each of vars (dashboard variables).
func expandVars(q string, rg Range, vars map[string]string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	rate := max(rg.Step+collectInterval, 4*collectInterval)
	pairs := []string{
		"${__rate_interval}", promDuration(rate), "$__rate_interval", promDuration(rate),
		"${__interval}", promDuration(rg.Step), "$__interval", promDuration(rg.Step),
		"${__range}", promDuration(rg.End.Sub(rg.Start)), "$__range", promDuration(rg.End.Sub(rg.Start)),
	}
	// Longer names first, so that $hostname is not read as $host + "name".
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sortByLenDesc(names)
	for _, n := range names {
		pairs = append(pairs, "${"+n+"}", vars[n], "$"+n, vars[n])
	}
	return strings.NewReplacer(pairs...).Replace(q)
}

// promDuration writes d as a MetricsQL duration in whole seconds (at
// least 1s).
func promDuration(d time.Duration) string {
	return strconv.FormatInt(max(int64(d/time.Second), 1), 10) + "s"
}

// sortByLenDesc sorts names longest first (insertion sort: a dashboard has
// a handful of variables).
func sortByLenDesc(names []string) {
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && len(names[j]) > len(names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}
