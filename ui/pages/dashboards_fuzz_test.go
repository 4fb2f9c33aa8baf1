package pages

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzDashboard caps the fuzzed file: larger inputs only slow the
// fuzzer down.
const maxFuzzDashboard = 64 << 10

// FuzzParseDashboard feeds dashboard files to parseDashboard: it must
// never panic; a file is either a Dashboard or problems, each naming the
// file and saying what is wrong; an accepted Dashboard has a title, rows,
// panels with queries and known kinds and units. Seeds: the example
// dashboards (testdata/dashboards, good and bad) and
// testdata/fuzz/FuzzParseDashboard.
//
//	go test -run '^$' -fuzz FuzzParseDashboard -fuzztime 30s ./ui/pages/
func FuzzParseDashboard(f *testing.F) {
	for _, glob := range []string{"*.yml", "bad/*.yml"} {
		seeds, _ := filepath.Glob(filepath.Join(exampleDashboards, glob))
		for _, p := range seeds {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(hostDashboard))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzDashboard {
			t.Skip()
		}
		d, errs := parseDashboard("fuzz.yml", data)
		if (d == nil) == (len(errs) == 0) {
			t.Fatalf("parseDashboard gave %v and %d problems", d, len(errs))
		}
		for _, e := range errs {
			if e.File != "fuzz.yml" || e.Msg == "" || e.Error() == "" {
				t.Fatalf("problem %#v does not name the file or the problem", e)
			}
		}
		if d == nil {
			return
		}
		if d.Title == "" || len(d.Rows) == 0 {
			t.Fatalf("accepted a dashboard without title or rows: %+v", d)
		}
		for _, r := range d.Rows {
			for _, p := range r.Panels {
				if len(p.Queries) == 0 || checkKind(p.Kind) != nil || checkUnit(p.Unit) != nil {
					t.Fatalf("accepted panel %+v", p)
				}
				for _, q := range p.Queries {
					if q.Expr == "" {
						t.Fatalf("accepted an empty query in %+v", p)
					}
				}
			}
		}
		for _, v := range d.Variables {
			if !varNameRE.MatchString(v.Name) || v.Label == "" && len(v.Values) == 0 {
				t.Fatalf("accepted variable %+v", v)
			}
		}
	})
}
