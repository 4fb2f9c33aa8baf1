package main

// outpost restore DIR -data PATH: copies a backup (or a snapshot directory
// taken from <data>/snapshots) into an empty data directory, checking each
// file against DIR/MANIFEST.sha256 and each bbolt file's pages first.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"outpost/tsdb"
)

const restoreUsage = `usage: outpost restore DIR -data PATH

Copies the backup in DIR (written by outpost backup, or a snapshot directory
<data>/snapshots/<name>) into PATH, which must be missing or empty; stop
nothing, PATH is not in use yet. Every file is checked against
DIR/MANIFEST.sha256 when there is one, its copy against its source, and
every bbolt file (index.db, parts/*.db, alerting.db) must open and pass
bbolt's page check; on any failure PATH is emptied again and the exit
status is 1. Then start outpost with storage.path: PATH.

`

// runRestore runs `outpost restore`.
func runRestore(argv, _ []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("restore", restoreUsage, stderr)
	data := fs.String("data", "", "the new data directory (missing or empty)")
	src, code := parseOneArg(fs, argv, stderr, "restore", "backup directory")
	if code >= 0 {
		return code
	}
	if *data == "" {
		return usageError(stderr, "restore", "-data PATH is required")
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "outpost restore: %s\n", oneLine(err)); return 1 }
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return fail(fmt.Errorf("%s is not a backup directory", src))
	}
	want, err := readManifest(filepath.Join(src, tsdb.ManifestName))
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	files, err := tsdb.Restore(src, *data, want)
	if err != nil {
		return fail(err)
	}
	var bytes int64
	for _, f := range files {
		bytes += f.Bytes
	}
	checked := "checksums match the copies' sources"
	if want != nil {
		checked = "checksums match " + tsdb.ManifestName
	}
	abs, _ := filepath.Abs(*data)
	fmt.Fprintf(stdout, "restored %d files, %s into %s (%s; bbolt files checked, %s)\nnext: outpost --storage.path=%s (or storage.path in the config)\n",
		len(files), humanBytes(float64(bytes)), abs, time.Since(start).Round(time.Millisecond), checked, abs)
	return 0
}

// readManifest reads "<sha256>  <path>" lines; a missing file gives nil.
func readManifest(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s line %d: want \"<sha256>  <path>\", got %q", path, n, sc.Text())
		}
		m[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}
