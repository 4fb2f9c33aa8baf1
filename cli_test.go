package main

// Tests of the command dispatch and the commands that need no server,
// through run as main calls it. cmd_query_test.go queries a real outpost;
// cmd_serve_test.go starts the binary.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_Commands(t *testing.T) {
	badYAML := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(badYAML, []byte("storage:\n  path: /x\n   retention: 3d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const (
		full    = "testdata/config/full.yml"
		unknown = "testdata/config/bad-unknown-key.yml"
		badDur  = "testdata/config/bad-duration.yml"
	)
	// f runs argv; wantOut and wantErr are what stdout and stderr must
	// contain ("" = nothing at all); exact demands equality instead.
	f := func(name string, environ, argv []string, code int, wantOut, wantErr string, exact bool) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			got := run(argv, environ, &stdout, &stderr)
			match := func(got, want string) bool {
				if want == "" || exact {
					return got == want
				}
				return strings.Contains(got, want)
			}
			if got != code || !match(stdout.String(), wantOut) || !match(stderr.String(), wantErr) {
				t.Fatalf("outpost %q: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q",
					argv, got, stdout.String(), stderr.String(), code, wantOut, wantErr)
			}
		})
	}
	ver := "outpost " + version + "\n"

	// Dispatch: serve is the default; every other command by its name.
	f("version", nil, []string{"version"}, 0, ver+"  go version: go", "", false)
	f("version_flag", nil, []string{"-version"}, 0, ver, "", true)
	f("serve_version_flag", nil, []string{"serve", "-version"}, 0, ver, "", true)
	f("version_extra_arg", nil, []string{"version", "x"}, 2, "",
		"outpost version: unexpected argument \"x\" (see outpost version -h)\n", true)
	f("unknown_command", nil, []string{"nope"}, 2, "", "outpost: unknown command \"nope\" (see outpost -h)\n", true)
	f("help_lists_commands", nil, []string{"-h"}, 0, "", "check config|rules FILE...", false)
	f("help_lists_serve_keys", nil, []string{"--help"}, 0, "", "--storage.retention", false)
	f("help_command", nil, []string{"help"}, 0, "", "query EXPR [FLAGS]", false)
	f("serve_help", nil, []string{"serve", "-h"}, 0, "", "--storage.retention", false)
	f("serve_unknown_flag", nil, []string{"serve", "--nope=1"}, 2, "",
		"outpost: flag provided but not defined: -nope (see outpost -h)\n", true)
	f("serve_extra_arg", nil, []string{"serve", "x"}, 2, "", "outpost: unexpected argument \"x\" (see outpost -h)\n", true)

	// check config: 0 and "FILE: ok", or 1 and one line naming the key or line.
	f("check_missing_what", nil, []string{"check"}, 2, "", "missing what to check", false)
	f("check_unknown_what", nil, []string{"check", "alerts", "x.yml"}, 2, "", "cannot check \"alerts\"", false)
	f("check_missing_file", nil, []string{"check", "config"}, 2, "", "missing FILE", false)
	f("check_help", nil, []string{"check", "-h"}, 0, "", "usage: outpost check config FILE...", false)
	f("check_full", nil, []string{"check", "config", full}, 0, full+": ok\n", "", true)
	f("check_contrib_and_tokens", nil, []string{"check", "config", "contrib/outpost.yml", "testdata/config/tokens.yml"}, 0,
		"contrib/outpost.yml: ok\ntestdata/config/tokens.yml: ok\n", "", true)
	f("check_environment_ignored", []string{"OUTPOST_STORAGE_RETENSION=1d"}, []string{"check", "config", full}, 0,
		full+": ok\n", "", true)
	f("check_unknown_key", nil, []string{"check", "config", unknown}, 1, "",
		"unknown key \"storage.retension\" in "+unknown+"\n", true)
	f("check_bad_duration", nil, []string{"check", "config", badDur}, 1, "",
		badDur+": storage.retention: \"a month\" is not a duration\n", true)
	f("check_bad_receiver", nil, []string{"check", "config", "testdata/config/bad-alerting-receiver.yml"}, 1, "",
		"alerting.route.receiver: unknown receiver \"nobody\"", false)
	f("check_yaml_line", nil, []string{"check", "config", badYAML}, 1, "",
		"parse "+badYAML+": yaml: line 3: mapping values are not allowed in this context\n", true)
	f("check_no_such_file", nil, []string{"check", "config", "testdata/config/none.yml"}, 1, "",
		"read config file: open testdata/config/none.yml: no such file or directory\n", true)
	f("check_good_and_bad", nil, []string{"check", "config", full, badDur}, 1, full+": ok\n", badDur+": storage.retention", false)

	// query's command line (cmd_query_test.go queries a server).
	f("query_help", nil, []string{"query", "-h"}, 0, "", "usage: outpost query EXPR", false)
	f("query_missing_expr", nil, []string{"query"}, 2, "", "outpost query: missing EXPR (see outpost query -h)\n", true)
	f("query_two_exprs", nil, []string{"query", "a", "b"}, 2, "", "unexpected argument \"b\" after EXPR", false)
	f("query_unknown_flag", nil, []string{"query", "x", "-nope"}, 2, "", "flag provided but not defined: -nope", false)
	f("query_time_and_range", nil, []string{"query", "x", "-time", "now", "-start", "-1h"}, 2, "", "-time is for an instant query", false)
	f("query_step_needs_start", nil, []string{"query", "x", "-step", "1m"}, 2, "", "a range query needs -start", false)
	f("query_bad_time", nil, []string{"query", "x", "-time", "yesterday"}, 2, "", "-time: \"yesterday\" is not a time", false)
	f("query_end_before_start", nil, []string{"query", "x", "-start", "-1h", "-end", "-2h"}, 2, "", "is not after -start", false)
	f("query_bad_step", nil, []string{"query", "x", "-start", "-1h", "-step", "0s"}, 2, "", "-step: \"0s\" is not a positive duration", false)
	f("query_two_tokens", nil, []string{"query", "x", "-token", "a", "-token-file", "b"}, 2, "", "not both", false)
}
