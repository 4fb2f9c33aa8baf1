package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// queryUsage heads `outpost query -h`; the flags follow.
const queryUsage = `usage: outpost query EXPR [-time T | -start T [-end T] [-step D]] [-url URL] [-token TOKEN | -token-file FILE]

Sends EXPR (MetricsQL) to a running outpost's Prometheus API and prints the
answer: one row per series (labels, value) for an instant query, the points
of each series for a range query (-start). Times are RFC 3339
(2024-05-01T10:00:00Z), Unix seconds, "now" or an offset from now ("-1h",
"-30m"). Exits 0 with an answer (an empty one too), 1 when the query failed
or outpost could not be reached, 2 for a bad command line, as promtool query
does. The token (a read token when auth.tokens is set) can also go in the
URL: http://any:TOKEN@host:8086.

`

// queryArgs is `outpost query`'s command line.
type queryArgs struct {
	expr             string
	url              string
	token, tokenFile string
	time             string
	start, end, step string
	timeout          time.Duration
}

// defaultQueryURL is where outpost serves with the default http.addr.
const defaultQueryURL = "http://localhost:8086"

// runQuery runs `outpost query`.
func runQuery(argv, _ []string, stdout, stderr io.Writer) int {
	a, err := parseQueryArgs(argv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, "query", "%s", err)
	}
	path, form, err := a.request(time.Now().Truncate(time.Second)) // whole seconds: readable points
	if err != nil {
		return usageError(stderr, "query", "%s", err)
	}
	token, err := a.bearer()
	if err != nil {
		fmt.Fprintf(stderr, "outpost query: %s\n", oneLine(err))
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	res, err := postQuery(ctx, strings.TrimSuffix(a.url, "/")+path, form, token)
	if err != nil {
		fmt.Fprintf(stderr, "outpost query: %s\n", oneLine(err))
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "outpost query: warning: %s\n", w)
	}
	n, err := printResult(stdout, res.Data)
	if err != nil {
		fmt.Fprintf(stderr, "outpost query: %s\n", oneLine(err))
		return 1
	}
	if n == 0 {
		fmt.Fprintln(stderr, "outpost query: empty answer: no series matched")
	}
	return 0
}

// parseQueryArgs parses the flags, before and after EXPR, and the one EXPR.
// -h prints the usage to stderr and returns flag.ErrHelp.
func parseQueryArgs(argv []string, stderr io.Writer) (queryArgs, error) {
	a := queryArgs{}
	fs := flag.NewFlagSet("outpost query", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned as one line; usage on -h only
	fs.StringVar(&a.url, "url", defaultQueryURL, "the outpost to query")
	fs.StringVar(&a.token, "token", "", "the token to send (Authorization: Bearer)")
	fs.StringVar(&a.tokenFile, "token-file", "", "read the token from this file (it stays out of ps)")
	fs.StringVar(&a.time, "time", "", "evaluate an instant query at this time (default now)")
	fs.StringVar(&a.start, "start", "", "run a range query from this time")
	fs.StringVar(&a.end, "end", "", "end of the range (default now)")
	fs.StringVar(&a.step, "step", "", "step of the range, e.g. 15s or 60 (seconds; default: the range / 250, at least 1s)")
	fs.DurationVar(&a.timeout, "timeout", 2*time.Minute, "give up after this long")
	var exprs []string
	for rest := argv; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, queryUsage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
			}
			return a, err
		}
		if fs.NArg() == 0 {
			break
		}
		exprs = append(exprs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case len(exprs) == 0:
		return a, errors.New("missing EXPR")
	case len(exprs) > 1:
		return a, fmt.Errorf("unexpected argument %q after EXPR (quote the expression)", exprs[1])
	case a.time != "" && (a.start != "" || a.end != "" || a.step != ""):
		return a, errors.New("-time is for an instant query; -start, -end and -step for a range query")
	case a.start == "" && (a.end != "" || a.step != ""):
		return a, errors.New("a range query needs -start")
	case a.token != "" && a.tokenFile != "":
		return a, errors.New("give -token or -token-file, not both")
	case a.timeout <= 0:
		return a, errors.New("-timeout must be positive")
	}
	a.expr = exprs[0]
	return a, nil
}

// request returns the API path and form of the query, its times resolved
// against now.
func (a queryArgs) request(now time.Time) (string, url.Values, error) {
	form := url.Values{"query": {a.expr}}
	if a.start == "" {
		if a.time != "" {
			t, err := parseQueryTime("-time", a.time, now)
			if err != nil {
				return "", nil, err
			}
			form.Set("time", apiTime(t))
		}
		return "/api/v1/query", form, nil
	}
	start, err := parseQueryTime("-start", a.start, now)
	if err != nil {
		return "", nil, err
	}
	end := now
	if a.end != "" {
		if end, err = parseQueryTime("-end", a.end, now); err != nil {
			return "", nil, err
		}
	}
	if !end.After(start) {
		return "", nil, fmt.Errorf("-end %s is not after -start %s", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	step := time.Duration(math.Max(math.Floor(end.Sub(start).Seconds()/250), 1)) * time.Second // as promtool
	if a.step != "" {
		if step, err = parseStep(a.step); err != nil {
			return "", nil, err
		}
	}
	form.Set("start", apiTime(start))
	form.Set("end", apiTime(end))
	form.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	return "/api/v1/query_range", form, nil
}

// parseQueryTime reads "now", an offset from now ("-1h"), Unix seconds or
// RFC 3339.
func parseQueryTime(flagName, s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return time.UnixMilli(int64(math.Round(f * 1000))), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if strings.HasPrefix(s, "-") {
		if d, err := parseDuration(s); err == nil {
			return now.Add(d), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: %q is not a time (RFC 3339, Unix seconds, now or -DURATION)", flagName, s)
}

// parseStep reads a duration ("15s", "1m") or seconds ("60", "0.5"), as
// the API does.
func parseStep(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f < math.MaxInt64/float64(time.Second) {
		d, err = time.Duration(f*float64(time.Second)), nil
	}
	if err != nil || d < time.Millisecond {
		return 0, fmt.Errorf("-step: %q is not a positive duration", s)
	}
	return d, nil
}

// apiTime writes t as the API's Unix seconds, to the millisecond.
func apiTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

// bearer returns the token to send, "" for none.
func (a queryArgs) bearer() (string, error) {
	if a.tokenFile == "" {
		return a.token, nil
	}
	b, err := os.ReadFile(a.tokenFile)
	if err != nil {
		return "", fmt.Errorf("read -token-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// apiResponse is the Prometheus API's envelope.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// postQuery posts form to u and returns the envelope of a successful
// answer; an error answer becomes an error with its type and message.
func postQuery(ctx context.Context, u string, form url.Values, token string) (apiResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return apiResponse{}, fmt.Errorf("-url: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "outpost-query/"+version)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return apiResponse{}, err // *url.Error names the method and the URL
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return apiResponse{}, fmt.Errorf("read the answer of %s: %w", u, err)
	}
	var res apiResponse
	if err := json.Unmarshal(body, &res); err != nil || res.Status == "" {
		return apiResponse{}, fmt.Errorf("%s answered HTTP %d, not the Prometheus API: %.200s", u, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if res.Status != "success" {
		return apiResponse{}, fmt.Errorf("%s: %s (HTTP %d)", res.ErrorType, res.Error, resp.StatusCode)
	}
	return res, nil
}
