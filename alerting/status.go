package alerting

import (
	"slices"
	"strings"

	"outpost/alerting/notify"
)

// Status is the state of the alerting machinery, for operators.
type Status struct {
	// Files are the rule files matched by alerting.rules.
	Files []FileStatus `json:"files"`
	// Defaults tells whether the built-in rules are loaded.
	Defaults bool `json:"defaults"`
	Groups   int  `json:"groups"`
	Rules    int  `json:"rules"`
	// Delivery is the notifier's figures.
	Delivery notify.Stats `json:"delivery"`
}

// FileStatus is one rule file: loaded, or the error of its last load.
type FileStatus struct {
	Path string `json:"path"`
	// Loaded is true when a version of the file runs (the last good one
	// when Error is set).
	Loaded bool   `json:"loaded"`
	Error  string `json:"error,omitempty"`
}

// Status returns the rule files, the counts and the delivery figures.
func (m *Manager) Status() Status {
	m.mu.RLock()
	st := Status{Defaults: m.cfg.Defaults, Groups: len(m.groups), Rules: len(m.rules), Files: []FileStatus{}}
	for _, f := range m.files {
		fs := FileStatus{Path: f.path, Loaded: f.file != nil}
		if f.err != nil {
			fs.Error = f.err.Error()
		}
		st.Files = append(st.Files, fs)
	}
	m.mu.RUnlock()
	slices.SortFunc(st.Files, func(a, b FileStatus) int { return strings.Compare(a.Path, b.Path) })
	st.Delivery = m.notifier.Stats()
	return st
}
