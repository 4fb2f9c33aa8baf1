package pages

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"outpost/alerting"
	"outpost/query"
	"outpost/tsdb"
)

// benchDir is the workload generator of ../shared/bench (lpload).
const benchDir = "../../../shared/bench"

// benchEnd is the end of lpload's 24 hours (it starts at 2026-01-01).
var benchEnd = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

// BenchmarkHostDashboard_Render renders one host's dashboard over 24 h of
// lpload's 100-host Telegraf workload (cpu, mem, disk, net, system every
// 10 s: 17 million samples), server-side, from a store that holds them in
// its day files as it would after a day of ingest. The store is built
// once (a minute or two) and kept in the system's temporary directory
// for the next runs; lpload tags hosts with hostname, which the loader
// renames to Telegraf's host.
func BenchmarkHostDashboard_Render(b *testing.B) {
	if _, err := os.Stat(filepath.Join(benchDir, "main.go")); err != nil {
		b.Skipf("no workload generator at %s: %v", benchDir, err)
	}
	dir := benchStore(b)
	db, err := openBenchStore(dir)
	if err != nil { // a store of an older format: build it again
		b.Logf("rebuild the bench store: %v", err)
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		if db, err = openBenchStore(benchStore(b)); err != nil {
			b.Fatalf("open the bench store: %v", err)
		}
	}
	defer db.Close()
	clock := func() time.Time { return benchEnd }
	eng := query.NewEngine(db, query.Options{Now: clock})
	am, err := alerting.Open(alerting.DefaultConfig(), alerting.Options{Dir: b.TempDir(), Query: eng.InstantVector, Writer: db, Now: clock})
	if err != nil {
		b.Fatalf("open alerting: %v", err)
	}
	defer am.Close()
	p, err := New(Config{}, Deps{Engine: eng, Storage: db, Alerts: am, Now: clock, Series: db.NumSeries})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range p.hostRoutes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	render := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hosts/host_42?from=now-24h", nil))
		return rec
	}
	first := render()
	body := first.Body.String()
	if first.Code != http.StatusOK || !hasPanel(body, "cpu") || !hasPanel(body, "disk") {
		b.Fatalf("GET /hosts/host_42 = %d, panels %v", first.Code, panels(body))
	}
	assets := regexp.MustCompile(`(?:src|href)="/ui/assets/([^"]+)"`).FindAllStringSubmatch(body, -1)
	assetBytes := 0
	for _, a := range assets {
		assetBytes += p.assets.size(a[1])
	}
	b.ResetTimer()
	for b.Loop() {
		if rec := render(); rec.Code != http.StatusOK {
			b.Fatalf("GET /hosts/host_42 = %d", rec.Code)
		}
	}
	b.ReportMetric(float64(len(body)), "html-bytes")
	b.ReportMetric(float64(1+len(assets)), "requests/page")
	b.ReportMetric(float64(assetBytes), "asset-bytes")
}

// benchStore returns the directory of a store holding lpload's 24 h of
// the 100-host Telegraf workload, building it when a previous run has not.
func benchStore(b *testing.B) string {
	final := filepath.Join(os.TempDir(), "outpost-bench-hosts-telegraf-100x24h-v1")
	if _, err := os.Stat(final); err == nil {
		return final
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "outpost-bench-hosts-building-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp) // left only when the rename below did not happen
	bin := filepath.Join(tmp, "lpload")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = benchDir
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build lpload: %v\n%s", err, out)
	}
	store := filepath.Join(tmp, "store")
	db, err := openBenchStore(store)
	if err != nil {
		b.Fatal(err)
	}
	gen := exec.Command(bin, "gen", "-workload", "telegraf", "-hosts", "100", "-hours", "24")
	out, err := gen.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	gen.Stderr = io.Discard
	if err := gen.Start(); err != nil {
		b.Fatalf("start lpload: %v", err)
	}
	n, err := loadLineProtocol(context.Background(), db, out)
	if werr := gen.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("lpload gen: %w", werr)
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		b.Fatalf("load the workload: %v", err)
	}
	b.Logf("stored %d samples in %s", n, final)
	if err := os.Rename(store, final); err != nil {
		if _, serr := os.Stat(final); serr != nil { // another run won the race: use its store
			b.Fatal(err)
		}
	}
	return final
}

// openBenchStore opens the store at dir with the clock at the workload's end.
func openBenchStore(dir string) (*tsdb.DB, error) {
	cfg := tsdb.DefaultConfig()
	cfg.Path, cfg.Retention = dir, 3650*24*time.Hour
	return tsdb.Open(cfg, tsdb.Options{Now: func() time.Time { return benchEnd }})
}

// loadLineProtocol writes lpload's line protocol (no escapes, no strings:
// measurement,tags fields timestamp-ns) to db as outpost's mapping names it
// (measurement_field, db="telegraf"), with lpload's hostname tag renamed
// host, in batches.
func loadLineProtocol(ctx context.Context, db *tsdb.DB, r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	series := map[string]tsdb.Labels{}
	batch := make([]tsdb.Point, 0, 100_000)
	n := 0
	flush := func() error {
		if err := db.Write(ctx, batch); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		parts := bytes.Split(sc.Bytes(), []byte(" "))
		if len(parts) != 3 {
			return n, fmt.Errorf("line %q: want 3 parts", sc.Text())
		}
		ns, err := strconv.ParseInt(string(parts[2]), 10, 64)
		if err != nil {
			return n, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		for _, f := range bytes.Split(parts[1], []byte(",")) {
			name, val, _ := bytes.Cut(f, []byte("="))
			v, err := strconv.ParseFloat(string(bytes.TrimSuffix(val, []byte("i"))), 64)
			if err != nil {
				return n, fmt.Errorf("field %q: %w", f, err)
			}
			key := string(parts[0]) + " " + string(name)
			ls, ok := series[key]
			if !ok {
				ls = lineLabels(string(parts[0]), string(name))
				series[key] = ls
			}
			batch = append(batch, tsdb.Point{Labels: ls, T: ns / 1e6, V: v})
		}
		if len(batch) >= 90_000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// lineLabels builds a series' labels from a line's measurement and tags
// and one field.
func lineLabels(head, field string) tsdb.Labels {
	tags := bytes.Split([]byte(head), []byte(","))
	kv := []string{"__name__", string(tags[0]) + "_" + field, "db", "telegraf"}
	for _, t := range tags[1:] {
		k, v, _ := bytes.Cut(t, []byte("="))
		if string(k) == "hostname" {
			k = []byte("host")
		}
		kv = append(kv, string(k), string(v))
	}
	return tsdb.FromStrings(kv...)
}
