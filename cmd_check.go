package main

import (
	"fmt"
	"io"
	"strings"
)

// checkUsage is `outpost check -h`.
const checkUsage = `usage: outpost check config FILE...
       outpost check rules FILE...

Loads each configuration file as outpost serve -config FILE would: the
defaults, then the file, decoded and validated with the same code. The
environment (OUTPOST_*) and flags are not applied: the answer is about the
file alone. Prints "FILE: ok" for a good file; for a bad one, one line on
stderr naming the key or the YAML line. Exits 0 when every file is good, 1
when one is not, 2 for a bad command line.

check rules loads each rule file as the server's alerting does and prints,
as promtool check rules does, "Checking FILE" then "  SUCCESS: N rules
found" or "  FAILED:" and each problem on its own line (file:line:col,
group and rule). Exits 0 when every file is good, 1 when one is not, 2 for a
bad command line.
`

// runCheck runs `outpost check WHAT ...`: config or rules.
func runCheck(argv, _ []string, stdout, stderr io.Writer) int {
	what, files, code := whatAndFiles(argv, "check", checkUsage, stderr, "config", "rules")
	if files == nil {
		return code
	}
	if what == "rules" {
		return checkRulesFiles(files, stdout, stderr)
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
