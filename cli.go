package main

// The command line: outpost COMMAND [ARGS]. serve is the default command,
// so `outpost`, `outpost -config FILE` and `outpost serve -config FILE` all
// start the server; every other command has a file of its own (cmd_*.go)
// and the signature and exit codes of run.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandFunc runs one command with its arguments (after the command's
// name) and returns the exit status: 0 on success, 1 when the command ran
// and failed (a bad file, a query error), 2 for a bad command line.
type commandFunc func(argv, environ []string, stdout, stderr io.Writer) int

// command is one entry of `outpost -h`.
type command struct {
	name    string // the first argument that selects it
	args    string // what follows the name, for the help
	summary string
	run     commandFunc // nil for serve, which run itself handles
}

// commands lists outpost's commands in the order -h shows them.
func commands() []command {
	return []command{
		{"serve", "[FLAGS]", "run the server (the default command; its flags are below)", nil},
		{"version", "", "print the version, the Go version and the platform", runVersion},
		{"check", "config|rules FILE...", "check configuration or rule files as serve would load them", runCheck},
		{"test", "rules FILE...", "run rule unit tests in promtool's format", runTest},
		{"query", "EXPR [FLAGS]", "query a running outpost and print the answer as a table", runQuery},
		{"backup", "DIR [FLAGS]", "copy a running outpost's store and alert state into DIR (consistent, ingest goes on)", runBackup},
		{"restore", "DIR -data PATH", "restore a backup into an empty data directory, checking every file", runRestore},
		{"import", "FILE|- [FLAGS]", "send line protocol or JSON lines to a running outpost, resumable", runImport},
		{"help", "", "print this help", runHelp},
	}
}

// splitCommand picks the command argv names. It returns nil and the
// server's arguments for serve, the default: no arguments, flags first
// (outpost -config FILE) or the word serve. -h and --help anywhere before
// a command's own arguments list the commands.
func splitCommand(argv []string) (commandFunc, []string) {
	if len(argv) == 0 {
		return nil, argv
	}
	switch first := argv[0]; {
	case isHelp(first):
		return runHelp, argv[1:]
	case first == "serve":
		return nil, argv[1:]
	case strings.HasPrefix(first, "-"):
		return nil, argv
	default:
		for _, c := range commands() {
			if c.name == first && c.run != nil {
				return c.run, argv[1:]
			}
		}
		return func(_, _ []string, _, stderr io.Writer) int {
			fmt.Fprintf(stderr, "outpost: unknown command %q (see outpost -h)\n", first)
			return 2
		}, argv[1:]
	}
}

// runHelp prints the commands, then the server's flags and configuration
// keys, to stderr as serve's -h does.
func runHelp(_, _ []string, _, stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: outpost [COMMAND] [ARGS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(stderr, "  %-26s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(stderr, "\n`outpost COMMAND -h` describes a command's flags.\n\nserve:\n")
	if _, err := parseArgs([]string{"-h"}, stderr); !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "outpost: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// usageError prints a bad command line as one line and returns 2.
func usageError(stderr io.Writer, cmd string, format string, a ...any) int {
	fmt.Fprintf(stderr, "outpost %s: %s (see outpost %s -h)\n", cmd, fmt.Sprintf(format, a...), cmd)
	return 2
}

// isHelp tells whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }
