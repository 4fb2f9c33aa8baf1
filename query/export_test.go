package query

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"outpost/tsdb"
)

// TestExporter_LongSeries exports a series longer than a line holds and
// several short ones: the long one comes as consecutive lines of at most
// exportLineSamples, every sample once, series in creation order.
func TestExporter_LongSeries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const long = exportLineSamples + 1000
	db := openTestDB(t, t0.Add(long*time.Second))
	var pts []tsdb.Point
	for _, name := range []string{"b", "a", "c"} {
		ls := tsdb.FromStrings("__name__", "x", "s", name)
		n := 3
		if name == "a" {
			n = long
		}
		for i := range n {
			pts = append(pts, tsdb.Point{Labels: ls, T: t0.Add(time.Duration(i) * time.Second).UnixMilli(), V: float64(i)})
		}
	}
	writePoints(t, db, pts)
	srv := httptest.NewServer(NewExporter(db))
	defer srv.Close()
	resp, err := http.PostForm(srv.URL, url.Values{"match[]": {`{__name__="x"}`}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var order []string
	var lens []int
	seen := make(map[string]int)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %.200q: %v", sc.Text(), err)
		}
		s := line.Metric["s"]
		order = append(order, s)
		lens = append(lens, len(line.Values))
		for i, ts := range line.Timestamps {
			if want := t0.Add(time.Duration(seen[s]) * time.Second).UnixMilli(); ts != want || line.Values[i] != float64(seen[s]) {
				t.Fatalf("series %s sample %d: %d %v, want %d %d", s, seen[s], ts, line.Values[i], want, seen[s])
			}
			seen[s]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(order), 4; got != want || order[0] != "b" || order[1] != "a" || order[2] != "a" || order[3] != "c" {
		t.Fatalf("lines of series %v, want [b a a c]", order)
	}
	if lens[1] != exportLineSamples || lens[2] != 1000 || seen["a"] != long {
		t.Errorf("series a in lines of %v samples, %d in all; want %d and 1000", lens[1:3], seen["a"], exportLineSamples)
	}
}
