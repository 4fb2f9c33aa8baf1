package main

// outpost backup DIR: asks a running outpost for a snapshot (POST
// /api/v1/admin/tsdb/snapshot), streams it as a tar (GET
// /api/v1/admin/tsdb/snapshot/{name}) into DIR, writes DIR/MANIFEST.sha256
// and checks every bbolt file, then deletes the snapshot on the server.
// Streaming over HTTP instead of copying <data>/snapshots/<name> keeps the
// backup independent of where the data directory is and of the user
// running the command, and works from another machine with an admin token.

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"outpost/tsdb"
)

const backupUsage = `usage: outpost backup DIR [-url URL] [-token TOKEN | -token-file FILE] [-keep] [-skip-head]

Asks the outpost at -url to write a consistent snapshot of its store and of
alerting.db while ingest goes on, copies it into DIR (missing or empty),
writes DIR/MANIFEST.sha256 and checks every bbolt file. The snapshot is
deleted on the server afterwards unless -keep. Needs an admin token when
auth.tokens is set (with none, admin calls are accepted from loopback).
Restore with: outpost restore DIR -data PATH

`

// clientArgs are the flags of the commands that talk to a running outpost.
type clientArgs struct {
	url, token, tokenFile string
	timeout               time.Duration
}

func (c *clientArgs) register(fs *flag.FlagSet, timeout time.Duration) {
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8086", "the running outpost")
	fs.StringVar(&c.token, "token", "", "the token to send (Authorization: Bearer)")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the token from this file (it stays out of ps)")
	fs.DurationVar(&c.timeout, "timeout", timeout, "give up after this long")
}

// bearer returns the token from -token or -token-file.
func (c clientArgs) bearer() (string, error) {
	return queryArgs{token: c.token, tokenFile: c.tokenFile}.bearer()
}

// parseInterspersed parses flags before and after positional arguments
// (outpost restore DIR -data PATH) and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, argv []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(argv); err != nil {
			return nil, err
		}
		argv = fs.Args()
		if len(argv) == 0 {
			return pos, nil
		}
		pos = append(pos, argv[0])
		argv = argv[1:]
	}
}

// parseOneArg parses a command line of one positional argument (what)
// and flags, before or after it. It returns the argument and -1, or the
// exit status when the command must stop: 0 after -h, 2 for a bad line.
func parseOneArg(fs *flag.FlagSet, argv []string, stderr io.Writer, cmd, what string) (string, int) {
	pos, err := parseInterspersed(fs, argv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return "", 0
	case err != nil:
		return "", 2
	case len(pos) != 1:
		return "", usageError(stderr, cmd, "want one %s, got %d arguments", what, len(pos))
	}
	return pos[0], -1
}

// newFlagSet returns a flag set whose -h prints usage and the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("outpost "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// runBackup runs `outpost backup`.
func runBackup(argv, _ []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("backup", backupUsage, stderr)
	var c clientArgs
	c.register(fs, time.Hour)
	keep := fs.Bool("keep", false, "leave the snapshot in the server's data directory")
	skipHead := fs.Bool("skip-head", false, "leave out what is not yet flushed to day files (Prometheus' skip_head)")
	dir, code := parseOneArg(fs, argv, stderr, "backup", "directory")
	if code >= 0 {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "outpost backup: %s\n", oneLine(err)); return 1 }
	if err := emptyDir(dir); err != nil {
		return fail(err)
	}
	token, err := c.bearer()
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	base := strings.TrimSuffix(c.url, "/")
	name, err := requestSnapshot(ctx, base, token, *skipHead)
	if err != nil {
		return fail(err)
	}
	files, bytes, err := fetchSnapshot(ctx, base+"/api/v1/admin/tsdb/snapshot/"+name, token, dir)
	if err != nil {
		return fail(fmt.Errorf("copy snapshot %s into %s: %w", name, dir, err))
	}
	if !*keep {
		if err := adminCall(ctx, http.MethodDelete, base+"/api/v1/admin/tsdb/snapshot/"+name, token, nil); err != nil {
			fmt.Fprintf(stderr, "outpost backup: warning: the snapshot stays on the server: %s\n", oneLine(err))
		}
	}
	fmt.Fprintf(stdout, "backup of snapshot %s: %d files, %s in %s (%s); restore with: outpost restore %s -data PATH\n",
		name, files, humanBytes(float64(bytes)), dir, time.Since(start).Round(time.Millisecond), dir)
	return 0
}

// emptyDir refuses a directory that exists and holds anything.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty (%d entries, %s, ...): give a new or empty directory", dir, len(entries), entries[0].Name())
	}
	return nil
}

// adminCall sends one request and turns an answer other than 2xx into an
// error holding the server's message; into, when not nil, gets the body.
func adminCall(ctx context.Context, method, u, token string, into *apiResponse) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env apiResponse
	_ = json.Unmarshal(body, &env)
	if resp.StatusCode/100 != 2 {
		msg := env.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return fmt.Errorf("%s %s: %s: %s", method, req.URL.Path, resp.Status, msg)
	}
	if into != nil {
		*into = env
	}
	return nil
}

// requestSnapshot asks the server for a snapshot and returns its name.
func requestSnapshot(ctx context.Context, base, token string, skipHead bool) (string, error) {
	var env apiResponse
	if err := adminCall(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/admin/tsdb/snapshot?skip_head=%t", base, skipHead), token, &env); err != nil {
		return "", err
	}
	var data struct{ Name string }
	if err := json.Unmarshal(env.Data, &data); err != nil || data.Name == "" {
		return "", fmt.Errorf("snapshot answer without a name: %s", env.Data)
	}
	return data.Name, nil
}

// fetchSnapshot extracts the tar at u into dir, writes the manifest and
// checks the bbolt files.
func fetchSnapshot(ctx context.Context, u, token, dir string) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, 0, fmt.Errorf("GET %s: %s: %s", req.URL.Path, resp.Status, strings.TrimSpace(string(b)))
	}
	sums, total, err := untar(resp.Body, dir)
	if err != nil {
		return 0, 0, err
	}
	var manifest strings.Builder
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&manifest, "%s  %s\n", sums[name], name)
		if strings.HasSuffix(name, ".db") {
			if err := tsdb.CheckBolt(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
				return 0, 0, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if err := writeFileSync(filepath.Join(dir, tsdb.ManifestName), []byte(manifest.String())); err != nil {
		return 0, 0, err
	}
	return len(sums), total, nil
}

// untar writes the regular files of a tar under dir (refusing paths that
// leave it) and returns each one's SHA-256 and the bytes written.
func untar(r io.Reader, dir string) (map[string]string, int64, error) {
	tr := tar.NewReader(r)
	sums := map[string]string{}
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if len(sums) == 0 {
				return nil, 0, errors.New("the snapshot is empty")
			}
			return sums, total, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read snapshot stream (cut short?): %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return nil, 0, fmt.Errorf("snapshot stream holds a path outside the directory: %q", h.Name)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, 0, err
		}
		sum, n, err := writeHashed(p, tr)
		if err != nil {
			return nil, 0, fmt.Errorf("write %s: %w", name, err)
		}
		if n != h.Size {
			return nil, 0, fmt.Errorf("write %s: %d bytes of %d", name, n, h.Size)
		}
		sums[filepath.ToSlash(name)] = sum
		total += n
	}
}

// writeHashed writes r to a new file at p, fsyncs it, and returns its
// SHA-256.
func writeHashed(p string, r io.Reader) (string, int64, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func writeFileSync(p string, b []byte) error {
	_, _, err := writeHashed(p, strings.NewReader(string(b)))
	return err
}
