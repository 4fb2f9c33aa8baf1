package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQuery_AgainstServer runs outpost query against a real outpost with
// tokens: instant and range tables, scalars, empty answers, refusals and
// errors with promtool's exit statuses.
func TestQuery_AgainstServer(t *testing.T) {
	const readToken, writeToken = "cli-read-7f3a", "cli-write-2b9c"
	srv := startServerWith(t, t.TempDir(), serverConfig{Extra: "auth:\n  tokens:\n" +
		"    - {token: " + readToken + ", role: read}\n    - {token: " + writeToken + ", role: write}\n"})
	defer srv.stop()

	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var body strings.Builder
	for i, v := range []float64{1.5, 2, 3} {
		ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
		fmt.Fprintf(&body, "cli,host=a temp=%v %d\ncli,host=b temp=%v %d\n", v, ts, v*10, ts)
	}
	code, msg, err := post(t.Context(), http.DefaultClient, srv.base, "db=cli&u=x&p="+writeToken, body.String())
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("write: %d %s %v", code, msg, err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(readToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unix := func(d time.Duration) string { return strconv.FormatInt(t0.Add(d).Unix(), 10) }
	rfc := func(d time.Duration) string { return t0.Add(d).UTC().Format(time.RFC3339) }
	a, b := `cli_temp{db="cli",host="a"}`, `cli_temp{db="cli",host="b"}`

	f := func(name string, argv []string, code int, wantOut, wantErr string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			argv := append([]string{"query", "-url", srv.base}, argv...)
			got := run(argv, nil, &stdout, &stderr)
			if got != code || stdout.String() != wantOut || !strings.Contains(stderr.String(), wantErr) || (wantErr == "" && stderr.Len() > 0) {
				t.Fatalf("outpost %q: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr with %q",
					argv, got, stdout.String(), stderr.String(), code, wantOut, wantErr)
			}
		})
	}
	f("instant", []string{"cli_temp", "-time", unix(2 * time.Minute), "-token", readToken}, 0,
		fmt.Sprintf("%-29s%s\n%-29s%s\n%-29s%s\n", "SERIES", "VALUE", a, "3", b, "30"), "")
	f("instant_flags_first", []string{"-token-file", tokenFile, "-time", rfc(time.Minute), `sort_desc(cli_temp)`}, 0,
		fmt.Sprintf("%-29s%s\n%-29s%s\n%-29s%s\n", "SERIES", "VALUE", b, "20", a, "2"), "")
	f("range", []string{`cli_temp{host="a"}`, "-start", unix(0), "-end", rfc(2 * time.Minute), "-step", "1m", "-token", readToken}, 0,
		fmt.Sprintf("%s\n  %s  1.5\n  %s  2\n  %s  3\n", a, rfc(0), rfc(time.Minute), rfc(2*time.Minute)), "")
	f("range_two_series", []string{"cli_temp", "-start", unix(0), "-end", unix(time.Minute), "-step", "60", "-token", readToken}, 0,
		fmt.Sprintf("%s\n  %s  1.5\n  %s  2\n\n%s\n  %s  15\n  %s  20\n", a, rfc(0), rfc(time.Minute), b, rfc(0), rfc(time.Minute)), "")
	f("scalar", []string{"1+1", "-token", readToken}, 0, "2\n", "")
	f("empty_answer", []string{"no_such_metric", "-token", readToken}, 0, "", "outpost query: empty answer")
	f("bad_expression", []string{"sum(", "-token", readToken}, 1, "", "outpost query: bad_data: ")
	f("no_token", []string{"cli_temp"}, 1, "", "unauthorized")
	f("write_token_cannot_read", []string{"cli_temp", "-token", writeToken}, 1, "", "forbidden")
	f("not_the_api", []string{"cli_temp", "-url", srv.base + "/nothing"}, 1, "", "not the Prometheus API")
	f("token_file_missing", []string{"cli_temp", "-token-file", filepath.Join(t.TempDir(), "none")}, 1, "", "read -token-file")
	f("unreachable", []string{"cli_temp", "-url", fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}, 1, "", "connection refused")
}

func TestFormatSeries(t *testing.T) {
	f := func(m map[string]string, want string) {
		t.Helper()
		if got := formatSeries(m); got != want {
			t.Errorf("formatSeries(%v) = %s, want %s", m, got, want)
		}
	}
	f(map[string]string{}, "{}")
	f(map[string]string{"__name__": "up"}, "up")
	f(map[string]string{"__name__": "up", "job": "a", "host": `x"y`}, `up{host="x\"y",job="a"}`)
	f(map[string]string{"host": "a"}, `{host="a"}`)
}

func TestParseQueryTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	f := func(in string, want time.Time) {
		t.Helper()
		got, err := parseQueryTime("-time", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseQueryTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("now", now)
	f("-1h", now.Add(-time.Hour))
	f("-1d", now.Add(-24*time.Hour))
	f("1714557600", now)
	f("1714557600.25", now.Add(250*time.Millisecond))
	f("2024-05-01T12:00:00+02:00", now)
	for _, bad := range []string{"", "1h", "yesterday", "NaN", "-x"} {
		if _, err := parseQueryTime("-time", bad, now); err == nil {
			t.Errorf("parseQueryTime(%q): no error", bad)
		}
	}
}
