package main

import (
	"fmt"
	"io"
	"strings"
)

// checkUsage is `outpost check -h`.
const checkUsage = `usage: outpost check config FILE...

Loads each configuration file as outpost serve -config FILE would: the
defaults, then the file, decoded and validated with the same code. The
environment (OUTPOST_*) and flags are not applied: the answer is about the
file alone. Prints "FILE: ok" for a good file; for a bad one, one line on
stderr naming the key or the YAML line. Exits 0 when every file is good, 1
when one is not, 2 for a bad command line.

Rule files are checked with their own command (outpost check rules, to come).
`

// runCheck runs `outpost check WHAT ...`; only config exists so far.
func runCheck(argv, _ []string, stdout, stderr io.Writer) int {
	if len(argv) == 0 {
		return usageError(stderr, "check", "missing what to check: config")
	}
	if isHelp(argv[0]) {
		fmt.Fprint(stderr, checkUsage)
		return 0
	}
	if argv[0] != "config" {
		return usageError(stderr, "check", "cannot check %q: only config", argv[0])
	}
	files := argv[1:]
	if len(files) == 0 {
		return usageError(stderr, "check", "missing FILE")
	}
	if isHelp(files[0]) {
		fmt.Fprint(stderr, checkUsage)
		return 0
	}
	status := 0
	for _, f := range files {
		if err := checkConfigFile(f); err != nil {
			fmt.Fprintln(stderr, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return status
}

// checkConfigFile loads path as serve would and returns its first error as
// one line that names the file.
func checkConfigFile(path string) error {
	_, err := loadConfig(args{configFile: path}, nil)
	if err == nil {
		return nil
	}
	msg := oneLine(err)
	if !strings.Contains(msg, path) { // a decode or validation error names only the key
		msg = path + ": " + msg
	}
	return fmt.Errorf("%s", msg)
}
