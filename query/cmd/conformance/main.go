// Command conformance runs PromQL test scripts (the promqltest format)
// against outpost's query engine over a real store and prints one line per
// case, then "N passed, M failed, K skipped". It exits 1 when fewer than
// -floor cases pass, or the scripts cannot be read.
//
//	go run ./query/cmd/conformance -dir ../shared/conformance/promql -floor 500
//
// PROMQL_TESTDATA overrides the default directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"outpost/query/promqltest"
)

func main() {
	def := "../shared/conformance/promql"
	if d := os.Getenv("PROMQL_TESTDATA"); d != "" {
		def = d
	}
	dir := flag.String("dir", def, "directory of *.test scripts (and cases.tsv)")
	floor := flag.Int("floor", 0, "fail when fewer cases pass")
	flag.Parse()
	if err := run(*dir, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run(dir string, floor int) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("test data: %w", err)
	}
	flags, err := promqltest.LoadFlags(dir)
	if err != nil {
		return fmt.Errorf("read cases.tsv: %w", err)
	}
	r := &promqltest.Runner{Flags: flags, Out: os.Stdout}
	s, err := r.RunDir(context.Background(), dir)
	if err != nil {
		return err
	}
	s.WriteTotals(os.Stdout)
	if s.Passed < floor {
		return fmt.Errorf("%d cases passed, below the floor of %d", s.Passed, floor)
	}
	return nil
}
