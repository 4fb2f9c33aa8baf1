package main

import (
	"fmt"
	"io"

	"outpost/alerting/rulefile"
)

// checkRulesFiles runs `outpost check rules FILE...` as promtool's check
// rules does: "Checking FILE", then "  SUCCESS: N rules found" or
// "  FAILED:" and one problem a line (file:line:col, group and rule).
// Each file is loaded by rulefile.Load, the loader alerting uses, so a
// file passes here exactly when the server would load it, outpost's rule
// fields (warn, crit, clear, M of N, flatline) included. It returns 1
// when a file fails.
func checkRulesFiles(files []string, stdout, stderr io.Writer) int {
	status := 0
	for _, path := range files {
		fmt.Fprintln(stdout, "Checking", path)
		f, err := rulefile.Load(path)
		if err != nil {
			status = 1
			fmt.Fprintln(stderr, "  FAILED:")
			errs := rulefile.Errors(err)
			if len(errs) == 0 { // the file could not be read
				fmt.Fprintln(stderr, oneLine(err))
			}
			for _, e := range errs {
				fmt.Fprintln(stderr, e.Error())
			}
			fmt.Fprintln(stdout)
			continue
		}
		n := 0
		for _, g := range f.Groups {
			n += len(g.Rules)
		}
		fmt.Fprintf(stdout, "  SUCCESS: %d rules found\n\n", n)
	}
	return status
}
