package pages

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// dashboardFile is one file that ui.dashboards matched, as last read: a
// Dashboard, or the problems that kept it out.
type dashboardFile struct {
	Path  string
	D     *Dashboard // nil when the file has problems
	Errs  []*DashboardError
	mtime time.Time
	size  int64
}

// dashboardEntry is a file in a snapshot, with the problems that snapshot
// adds (a name another file already has).
type dashboardEntry struct {
	*dashboardFile
	Name string
	Errs []*DashboardError
}

// OK reports whether the entry's dashboard can be shown.
func (e dashboardEntry) OK() bool { return e.D != nil && len(e.Errs) == 0 }

// URLPath is the entry's page.
func (e dashboardEntry) URLPath() string { return "/dashboards/" + url.PathEscape(e.Name) }

// dashboardSnapshot is the dashboards as the files were at one moment. It
// is not changed once built.
type dashboardSnapshot struct {
	entries  []dashboardEntry // in the order of the globs, then of the names
	byName   map[string]dashboardEntry
	patterns []string // problems with the globs themselves
}

// dashboardSet loads the dashboard files of the configured globs on first
// use and reloads a file when its modification time or size changes (each
// request looks: a glob and a stat per file), so that a dashboard is
// edited without a restart and a broken file keeps out only itself.
type dashboardSet struct {
	patterns []string
	log      *slog.Logger
	mu       sync.Mutex         // guards cur, and serialises reloads
	cur      *dashboardSnapshot // nil until first use
}

func newDashboardSet(patterns []string, log *slog.Logger) *dashboardSet {
	return &dashboardSet{patterns: patterns, log: log}
}

// snapshot returns the dashboards as the files are now, reading only the
// files that changed since the last call.
func (s *dashboardSet) snapshot() *dashboardSnapshot {
	paths, patternErrs := globDashboards(s.patterns)
	stats := make([]os.FileInfo, len(paths))
	for i, p := range paths {
		stats[i], _ = os.Stat(p) // a file gone since the glob is read (and reported) below
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]*dashboardFile{}
	if s.cur != nil {
		for _, e := range s.cur.entries {
			old[e.Path] = e.dashboardFile
		}
		if unchanged(s.cur, paths, stats, old) {
			return s.cur
		}
	}
	next := &dashboardSnapshot{byName: map[string]dashboardEntry{}, patterns: patternErrs}
	for i, p := range paths {
		f := old[p]
		if f == nil || stats[i] == nil || !f.mtime.Equal(stats[i].ModTime()) || f.size != stats[i].Size() {
			f = loadDashboardFile(p)
			if len(f.Errs) > 0 {
				s.log.Warn("dashboard file has problems", "file", p, "problems", len(f.Errs), "err", f.Errs[0].Error())
			}
		}
		e := dashboardEntry{dashboardFile: f, Name: dashboardName(p), Errs: f.Errs}
		if prev, dup := next.byName[e.Name]; dup {
			e.Errs = append(slices.Clip(e.Errs), &DashboardError{File: p,
				Msg: fmt.Sprintf("dashboard name %q is already %s's: rename one of the files", e.Name, prev.Path)})
		} else {
			next.byName[e.Name] = e
		}
		next.entries = append(next.entries, e)
	}
	s.cur = next
	return next
}

// unchanged reports whether cur was built from exactly these files as
// they are now.
func unchanged(cur *dashboardSnapshot, paths []string, stats []os.FileInfo, old map[string]*dashboardFile) bool {
	if len(cur.entries) != len(paths) {
		return false
	}
	for i, p := range paths {
		f := old[p]
		if f == nil || cur.entries[i].Path != p || stats[i] == nil || !f.mtime.Equal(stats[i].ModTime()) || f.size != stats[i].Size() {
			return false
		}
	}
	return true
}

// globDashboards returns the files the patterns match, each once, sorted
// within each pattern, and the patterns that are malformed.
func globDashboards(patterns []string) (paths, problems []string) {
	seen := map[string]bool{}
	for _, g := range patterns {
		m, err := filepath.Glob(g)
		if err != nil {
			problems = append(problems, fmt.Sprintf("ui.dashboards: %q is not a glob: %v", g, err))
			continue
		}
		slices.Sort(m)
		for _, p := range m {
			if !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	}
	return paths, problems
}

// loadDashboardFile reads and parses one file.
func loadDashboardFile(path string) *dashboardFile {
	f := &dashboardFile{Path: path}
	fail := func(format string, args ...any) *dashboardFile {
		f.Errs = []*DashboardError{{File: path, Msg: fmt.Sprintf(format, args...)}}
		return f
	}
	fh, err := os.Open(path)
	if err != nil {
		return fail("read dashboard file: %v", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fail("read dashboard file: %v", err)
	}
	f.mtime, f.size = st.ModTime(), st.Size()
	if st.IsDir() {
		return fail("a directory, not a dashboard file")
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxDashboardBytes+1))
	if err != nil {
		return fail("read dashboard file: %v", err)
	}
	f.D, f.Errs = parseDashboard(path, data)
	return f
}
