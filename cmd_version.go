package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the version stamped at build time (make build and make
// release stamp git describe), then the Go version, the platform and, when
// the build recorded it, the commit.
func runVersion(argv, _ []string, stdout, stderr io.Writer) int {
	if len(argv) > 0 && isHelp(argv[0]) {
		fmt.Fprintln(stderr, "usage: outpost version\n\nPrints the version, the Go version, the platform and the commit.")
		return 0
	}
	if len(argv) > 0 {
		return usageError(stderr, "version", "unexpected argument %q", argv[0])
	}
	fmt.Fprintf(stdout, "outpost %s\n  go version: %s\n  platform:   %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				fmt.Fprintf(stdout, "  revision:   %s\n", s.Value)
			}
		}
	}
	return 0
}
