package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"outpost/alerting/ruletest"
)

// testUsage is `outpost test -h`.
const testUsage = `usage: outpost test rules FILE...

Runs rule unit tests written in promtool's format (rule_files,
evaluation_interval, group_eval_order, tests with input_series,
alert_rule_test and promql_expr_test) against outpost's own evaluation:
the rule files load as the server loads them, the input series go to a
store in a temporary directory, and the groups run at each evaluation step
with outpost's rule fields (warn/crit, M of N, clear) honoured. Prints
"Unit Testing:  FILE" and "  SUCCESS", or "  FAILED:" and what differed, as
promtool does. Exits 0 when every test passes, 1 when one fails, 2 for a
bad command line.
`

// runTest runs `outpost test rules FILE...`.
func runTest(argv, _ []string, stdout, stderr io.Writer) int {
	_, files, code := whatAndFiles(argv, "test", testUsage, stderr, "rules")
	if files == nil {
		return code
	}
	status := 0
	for _, f := range files {
		if !ruletest.Run(context.Background(), f, stdout, stderr) {
			status = 1
		}
	}
	return status
}

// whatAndFiles reads the command line of `outpost CMD WHAT FILE...`: WHAT
// must be one of whats, and one FILE at least must follow. It returns
// nil files and the exit status when the command should stop there:
// after printing usage for -h (0), or a bad command line (2).
func whatAndFiles(argv []string, cmd, usage string, stderr io.Writer, whats ...string) (string, []string, int) {
	list := strings.Join(whats, " or ")
	switch {
	case len(argv) == 0:
		return "", nil, usageError(stderr, cmd, "missing what to %s: %s", cmd, list)
	case isHelp(argv[0]) || len(argv) > 1 && isHelp(argv[1]):
		fmt.Fprint(stderr, usage)
		return "", nil, 0
	case !slices.Contains(whats, argv[0]):
		return "", nil, usageError(stderr, cmd, "cannot %s %q: only %s", cmd, argv[0], list)
	case len(argv) == 1:
		return "", nil, usageError(stderr, cmd, "missing FILE")
	}
	return argv[0], argv[1:], 0
}
