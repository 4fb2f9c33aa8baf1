package main

// outpost import FILE|-: sends line protocol or VictoriaMetrics JSON lines
// to a running outpost in batches (POST /write or /api/v1/import), with a
// progress line, retries while the server is overloaded, and a state file
// that lets a killed import continue where its last acknowledged batch
// ended.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const importUsage = `usage: outpost import FILE|- [-format auto|influx|jsonl] [-url URL] [-token TOKEN] [-resume] [FLAGS]

Sends FILE (or stdin, -) to a running outpost: InfluxDB line protocol to
POST /write?precision=..., VictoriaMetrics JSON lines (what outpost export
and GET /api/v1/export write) to POST /api/v1/import. -format auto looks at
the first line ({ means JSON lines). Batches end on line boundaries and stay
far below http.max_body_bytes. Progress goes to stderr: a bar on a terminal,
a line every -progress-every otherwise. 429 and 503 are retried, honouring
Retry-After, as are lost connections and other 5xx; any other 4xx stops the
import with the server's message (exit 1).

After every acknowledged batch the byte offset reached is saved in the state
file (-state, default FILE.import-state; required for stdin). If the import
is interrupted, run the same command with -resume to continue from there; a
batch the server took but whose offset was not yet saved is sent again,
which stores the same samples again (same series and timestamp: no
duplicate). The state file is removed when the import completes.

`

// importArgs is `outpost import`'s command line.
type importArgs struct {
	clientArgs
	file, format, precision, db, state string
	resume, restart                    bool
	batchBytes                         int64
	progressEvery, retryFor            time.Duration
}

func parseImportArgs(argv []string, stderr io.Writer) (importArgs, error) {
	fs := newFlagSet("import", importUsage, stderr)
	var a importArgs
	a.register(fs, time.Minute)
	fs.StringVar(&a.format, "format", "auto", "auto, influx (line protocol) or jsonl (VictoriaMetrics JSON lines)")
	fs.StringVar(&a.precision, "precision", "ns", "line protocol timestamp precision: ns, us, ms, s, m, h")
	fs.StringVar(&a.db, "db", "", "line protocol: the db query parameter (becomes label db)")
	fs.StringVar(&a.state, "state", "", "the resume state file (default FILE.import-state)")
	fs.BoolVar(&a.resume, "resume", false, "continue from the offset in the state file")
	fs.BoolVar(&a.restart, "restart", false, "ignore an existing state file and start from the beginning")
	fs.Int64Var(&a.batchBytes, "batch-bytes", 4<<20, "bytes of input per request")
	fs.DurationVar(&a.progressEvery, "progress-every", 5*time.Second, "between progress lines when stderr is not a terminal")
	fs.DurationVar(&a.retryFor, "retry-for", 10*time.Minute, "give up when one batch keeps failing this long")
	pos, err := parseInterspersed(fs, argv)
	if err != nil {
		return a, err
	}
	switch {
	case len(pos) != 1:
		return a, fmt.Errorf("want one FILE or -, got %d arguments", len(pos))
	case a.format != "auto" && a.format != "influx" && a.format != "jsonl":
		return a, fmt.Errorf("-format %q: want auto, influx or jsonl", a.format)
	case a.batchBytes < 1 || a.batchBytes > 32<<20:
		return a, fmt.Errorf("-batch-bytes %d: want 1 to %d (http.max_body_bytes is 64 MiB)", a.batchBytes, 32<<20)
	case a.resume && a.restart:
		return a, errors.New("give -resume or -restart, not both")
	}
	a.file = pos[0]
	if a.state == "" {
		if a.file == "-" {
			if a.resume {
				return a, errors.New("-resume with stdin needs -state FILE")
			}
		} else {
			a.state = a.file + ".import-state"
		}
	}
	return a, nil
}

// importState is the resume state file's content.
type importState struct {
	File    string `json:"file"`
	Size    int64  `json:"size"`
	Format  string `json:"format"`
	Offset  int64  `json:"offset"` // input bytes acknowledged by the server
	Lines   int64  `json:"lines"`
	Samples int64  `json:"samples"`
}

func loadState(path string) (importState, bool, error) {
	var st importState
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, true, nil
}

// save replaces the state file atomically and durably.
func (st importState) save(path string) error {
	b, _ := json.Marshal(st)
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := writeFileSync(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// runImport runs `outpost import`.
func runImport(argv, _ []string, _, stderr io.Writer) int {
	a, err := parseImportArgs(argv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, "import", "%s", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.run(ctx, stderr); err != nil {
		fmt.Fprintf(stderr, "outpost import: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// run opens the input, positions it (-resume) and sends it.
func (a importArgs) run(ctx context.Context, stderr io.Writer) error {
	var in io.Reader = os.Stdin
	var size int64
	abs := "-"
	if a.file != "-" {
		f, err := os.Open(a.file)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in, abs = f, a.file
		if p, err := filepath.Abs(a.file); err == nil {
			abs = p
		}
	}
	st := importState{File: abs, Size: size}
	if a.state != "" {
		old, found, err := loadState(a.state)
		switch {
		case err != nil:
			return err
		case found && !a.resume && !a.restart:
			return fmt.Errorf("%s records an earlier import of %s up to byte %d: pass -resume to continue it or -restart to start over",
				a.state, old.File, old.Offset)
		case found && a.resume:
			if old.File != abs || old.Size != size {
				return fmt.Errorf("%s is for %s (%d bytes), not %s (%d bytes)", a.state, old.File, old.Size, abs, size)
			}
			st = old
		case !found && a.resume:
			fmt.Fprintf(stderr, "outpost import: no state file %s: starting from the beginning\n", a.state)
		}
	}
	if st.Offset > 0 {
		if s, ok := in.(io.Seeker); ok && a.file != "-" {
			if _, err := s.Seek(st.Offset, io.SeekStart); err != nil {
				return fmt.Errorf("seek to the resume offset: %w", err)
			}
		} else if _, err := io.CopyN(io.Discard, in, st.Offset); err != nil {
			return fmt.Errorf("skip to the resume offset: %w", err)
		}
		fmt.Fprintf(stderr, "outpost import: resuming %s at byte %d (%s lines, %s samples already sent)\n",
			abs, st.Offset, humanCount(float64(st.Lines)), humanCount(float64(st.Samples)))
	}
	br := bufio.NewReaderSize(in, 1<<20)
	format := a.format
	if format == "auto" {
		format = detectFormat(br)
	}
	if st.Format != "" && st.Format != format {
		return fmt.Errorf("%s was written for format %s, not %s", a.state, st.Format, format)
	}
	st.Format = format
	token, err := a.bearer()
	if err != nil {
		return err
	}
	s := &importSender{a: a, format: format, token: token, client: &http.Client{Timeout: a.timeout}}
	return s.send(ctx, br, st, newProgress(stderr, size, st.Offset, st.Samples, time.Now(), a.progressEvery))
}

// detectFormat peeks at the first non-blank byte: '{' is JSON lines.
func detectFormat(br *bufio.Reader) string {
	for n := 1; n <= 64<<10; n *= 4 {
		b, err := br.Peek(n)
		if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 {
			if t[0] == '{' {
				return "jsonl"
			}
			return "influx"
		}
		if err != nil {
			break
		}
	}
	return "influx"
}

// importSender posts batches in order.
type importSender struct {
	a      importArgs
	format string
	token  string
	client *http.Client
}

// maxImportLine bounds one input line.
const maxImportLine = 16 << 20

// send reads batches of whole lines and posts each until it is acknowledged.
func (s *importSender) send(ctx context.Context, br *bufio.Reader, st importState, pr *progress) error {
	batch := make([]byte, 0, s.a.batchBytes+64<<10)
	for {
		batch = batch[:0]
		var lines, samples int64
		var rerr error
		for int64(len(batch)) < s.a.batchBytes {
			line, err := readImportLine(br)
			if len(line) > 0 {
				batch = append(batch, line...)
				if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 && trimmed[0] != '#' {
					lines++
					samples += importSamples(s.format, trimmed)
				}
			}
			if err != nil {
				rerr = err
				break
			}
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("read input at byte %d: %w", st.Offset+int64(len(batch)), rerr)
		}
		if lines > 0 {
			if err := s.post(ctx, batch); err != nil {
				return fmt.Errorf("batch at bytes %d-%d: %w (acknowledged up to byte %d; -resume continues there)",
					st.Offset, st.Offset+int64(len(batch)), err, st.Offset)
			}
		}
		st.Offset += int64(len(batch))
		st.Lines += lines
		st.Samples += samples
		if rerr == io.EOF {
			pr.done(st.Offset, st.Lines, st.Samples, time.Now())
			if s.a.state != "" {
				if err := os.Remove(s.a.state); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("remove state file: %w", err)
				}
			}
			return nil
		}
		if s.a.state != "" {
			if err := st.save(s.a.state); err != nil {
				return err
			}
		}
		pr.update(st.Offset, st.Lines, st.Samples, time.Now())
	}
}

// readImportLine returns the next line with its '\n' (without one at the
// end of the input).
func readImportLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		if len(long) > maxImportLine {
			return nil, fmt.Errorf("a line longer than %d bytes", maxImportLine)
		}
		line, err = br.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// importSamples counts a line's samples: the values of a JSON line, the
// fields of a line-protocol line.
func importSamples(format string, line []byte) int64 {
	if format == "jsonl" {
		i := bytes.Index(line, []byte(`"values":[`))
		if i < 0 {
			return 0
		}
		rest := line[i+len(`"values":[`):]
		end := bytes.IndexByte(rest, ']')
		if end <= 0 {
			return 0
		}
		return int64(bytes.Count(rest[:end], []byte{','}) + 1)
	}
	return int64(lineProtocolFields(line))
}

// lineProtocolFields counts the fields of one line-protocol line: the
// commas outside quotes and escapes in the second space-separated part.
func lineProtocolFields(line []byte) int {
	part, fields, quoted := 0, 0, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			i++
		case c == '"' && part == 1:
			quoted = !quoted
		case quoted:
		case c == ' ':
			part++
			if part == 1 {
				fields = 1
			}
		case c == ',' && part == 1:
			fields++
		}
	}
	return fields
}

// post sends one batch until the server acknowledges it: 429 and 503 wait
// for Retry-After, other 5xx and lost connections back off; other 4xx
// stop with the server's message.
func (s *importSender) post(ctx context.Context, body []byte) error {
	u := strings.TrimSuffix(s.a.url, "/") + "/api/v1/import"
	if s.format == "influx" {
		q := url.Values{"precision": {s.a.precision}}
		if s.a.db != "" {
			q.Set("db", s.a.db)
		}
		u = strings.TrimSuffix(s.a.url, "/") + "/write?" + q.Encode()
	}
	deadline := time.Now().Add(s.a.retryFor)
	backoff := 500 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("-url: %w", err)
		}
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		if s.token != "" {
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
		resp, err := s.client.Do(req)
		var wait time.Duration
		var why string
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			why, wait = err.Error(), backoff
		} else {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			switch code := resp.StatusCode; {
			case code/100 == 2:
				return nil
			case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
				why, wait = resp.Status, retryAfter(resp.Header.Get("Retry-After"), backoff)
			case code/100 == 5:
				why, wait = resp.Status+": "+strings.TrimSpace(string(msg)), backoff
			default:
				return fmt.Errorf("%s refused it: %s: %s", req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
			}
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("still failing after %s (-retry-for): %s", s.a.retryFor, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), with
// def when it is missing or unreadable.
func retryAfter(h string, def time.Duration) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return def
}
