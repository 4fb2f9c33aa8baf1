package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/collectors"
)

// metricsText reads GET /metrics and checks the whole text: every line
// parses, every family has one # HELP and one # TYPE, no family repeats,
// names are valid (counters end _total), and every sample belongs to the
// family declared above it. It returns the families' types and the
// samples as "name{labels}" -> value.
func metricsText(t *testing.T, s *server) (map[string]string, map[string]float64) {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	types, helps := map[string]string{}, map[string]bool{}
	samples := map[string]float64{}
	valid := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	cur := ""
	err = collectors.ParseText(b, collectors.TextVisitor{
		Family: func(name, typ, help string) error {
			if typ == "" {
				if helps[name] || help == "" {
					return fmt.Errorf("family %s: second or empty # HELP", name)
				}
				helps[name] = true
				return nil
			}
			if _, dup := types[name]; dup || !helps[name] || !valid.MatchString(name) {
				return fmt.Errorf("family %s: repeated, invalid, or # TYPE without # HELP", name)
			}
			if typ == "counter" && !strings.HasSuffix(name, "_total") && strings.HasPrefix(name, "outpost_") {
				return fmt.Errorf("counter %s does not end _total", name)
			}
			types[name], cur = typ, name
			return nil
		},
		Sample: func(smp collectors.TextSample) error {
			base := smp.Name
			if t := types[cur]; t == "histogram" || t == "summary" {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					base = strings.TrimSuffix(base, suf)
				}
			}
			if base != cur {
				return fmt.Errorf("sample %s outside its family (last # TYPE %s)", smp.Name, cur)
			}
			key := smp.Name + "{"
			for i, l := range smp.Labels {
				if i > 0 {
					key += ","
				}
				key += fmt.Sprintf("%s=%q", l.Name, l.Value)
			}
			samples[key+"}"] = smp.Value
			return nil
		},
	})
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return types, samples
}

// instantValue runs an instant query and returns the value of its one
// series, or an error saying what came back.
func instantValue(s *server, q string) (float64, map[string]string, error) {
	resp, err := http.Get(s.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, nil, err
	}
	if len(r.Data.Result) != 1 {
		return 0, nil, fmt.Errorf("%s: %d series", q, len(r.Data.Result))
	}
	var v float64
	_, err = fmt.Sscan(r.Data.Result[0].Value[1].(string), &v)
	return v, r.Data.Result[0].Metric, err
}

// TestSelfMetrics_ExposedAndStored checks GET /metrics as a scraper sees
// it (the Go runtime, the process, the WAL, series and query figures,
// each family once), that ingest and a query move the counters, and that
// the self-scrape loop (host.self_interval) stores the same figures with
// label host, queryable like any series.
func TestSelfMetrics_ExposedAndStored(t *testing.T) {
	t.Setenv("OUTPOST_HOST_ENABLED", "true")
	t.Setenv("OUTPOST_HOST_INTERVAL", "1h")
	t.Setenv("OUTPOST_HOST_SELF_INTERVAL", "1s")
	t.Setenv("OUTPOST_HOST_HOSTNAME", "bastion")
	s := startServerWith(t, t.TempDir(), serverConfig{})
	defer s.stop()

	types, before := metricsText(t, s)
	if len(types) <= 100 {
		t.Errorf("/metrics has %d families, want > 100", len(types))
	}
	for _, f := range []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total",
		"outpost_wal_fsyncs_total", "outpost_wal_written_bytes_total", "outpost_wal_group_size_writes",
		"outpost_tsdb_series", "outpost_tsdb_series_active", "outpost_tsdb_series_created_total",
		"outpost_tsdb_day_file_bytes", "outpost_tsdb_flushes_total", "outpost_query_request_duration_seconds",
		"outpost_query_samples_read_total", "outpost_alerting_group_last_duration_seconds",
		"outpost_notifications_outbox_depth", "outpost_ingest_connections_total", "outpost_http_open_connections"} {
		if _, ok := types[f]; !ok {
			t.Errorf("/metrics lacks family %s", f)
		}
	}
	t.Logf("/metrics: %d families, %d samples", len(types), len(before))

	// Ingest and a query move their counters.
	if code, body := postBody(t, s, "/write?db=e2e", "text/plain", []byte("selfmon,host=a v=1\nselfmon,host=b v=2\n")); code != http.StatusNoContent {
		t.Fatalf("POST /write: %d %s", code, body)
	}
	if _, _, err := instantValue(s, `selfmon_v{host="a"}`); err != nil {
		t.Fatal(err)
	}
	_, after := metricsText(t, s)
	for _, k := range []string{"outpost_wal_fsyncs_total{}", "outpost_wal_written_bytes_total{}", "outpost_tsdb_series_created_total{}",
		"outpost_query_samples_read_total{}", `outpost_query_request_duration_seconds_count{endpoint="/api/v1/query"}`,
		`outpost_ingest_samples_total{protocol="influx"}`} {
		if after[k] <= before[k] {
			t.Errorf("%s did not move: %v then %v", k, before[k], after[k])
		}
	}

	// The self-scrape loop stores the same figures.
	for _, q := range []string{"outpost_tsdb_series_active", "go_goroutines", "process_resident_memory_bytes",
		"outpost_wal_fsyncs_total", `outpost_query_request_duration_seconds_count{endpoint="/api/v1/query"}`} {
		var v float64
		var m map[string]string
		waitFor(t, 10*time.Second, func() string {
			var err error
			if v, m, err = instantValue(s, q); err != nil {
				return err.Error()
			}
			if v <= 0 { // the first scrape, at start, may precede the write
				return fmt.Sprintf("%s = %v, want > 0", q, v)
			}
			return ""
		})
		if m["host"] != "bastion" {
			t.Errorf("%s stored as %v = %v, want label host=bastion", q, m, v)
		}
	}
}
