// Package ruletest runs rule unit tests written in promtool's format
// (`promtool test rules`) against outpost's own evaluation: the rule
// files are loaded by alerting's loader, the input series are written to
// a real tsdb in a temporary directory, queries run on outpost's MetricsQL
// engine, and the groups are evaluated by an alerting.Manager, so
// outpost's rule fields (warn/crit levels, M of N, clear) behave exactly
// as they do in the server.
//
// # Basics
//
// Parse decodes a test file (rule_files, evaluation_interval,
// group_eval_order, tests); Expand turns a series' values in promtool's
// expanding notation ("1+1x10 _ stale -2-1x3") into one value per step.
// Run runs every test group of a file and writes promtool's report:
// "Unit Testing:  FILE" then "  SUCCESS" or "  FAILED:" followed by one
// message per failed expectation, in promtool's words.
//
// # Time
//
// promtool's time starts at the Unix epoch: eval_time 5m is 1970-01-01
// 00:05. The store runs with its clock at the end of the test, so
// retention keeps every input sample and nothing lies in the future, and
// times are not shifted: time() and timestamp() answer what they answer
// in promtool.
//
// # Caveats
//
// Every group is evaluated at every evaluation_interval step, whatever
// its own interval, as promtool does. Flatline rules run but promtool's
// format has no way to name their groups beyond alertname. Alerts are
// compared on labels and annotations; outpost's severity label of a
// leveled alert is part of the labels, as receivers see it.
package ruletest
