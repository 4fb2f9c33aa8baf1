package alerting

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"outpost/alerting/rulefile"
)

// The rule groups managed over the API (main's route table mounts them):
//
//	GET    /api/v1/alerting/rules                  RuleGroupsList: the stored groups
//	GET    /api/v1/alerting/rules/{group}          RuleGroupGet: its rule file (YAML)
//	PUT    /api/v1/alerting/rules/{group}          RuleGroupPut (admin): a group's YAML; 400 names the line and rule
//	DELETE /api/v1/alerting/rules/{group}          RuleGroupDelete (admin)
//	GET    /api/v1/alerting/rules/{group}/export   RuleGroupExport: format=yaml (default) or prometheus
//
// A change is stored (see RuleStore) and the Manager reloads at once.

// RuleStore returns the store of the rule groups managed over the API,
// in the data directory.
func (m *Manager) RuleStore() *RuleStore { return NewRuleStore(m.opts.Dir) }

// StoredGroup is one group of GET /api/v1/alerting/rules.
type StoredGroup struct {
	Name string `json:"name"`
	// File is where it is stored; Interval its interval ("" for the
	// default); Rules how many rules it has.
	File     string `json:"file"`
	Interval string `json:"interval,omitempty"`
	Rules    int    `json:"rules"`
	// Error is why the stored file does not load (edited by hand), or "".
	Error string `json:"error,omitempty"`
}

// RuleGroupsList serves GET /api/v1/alerting/rules.
func (a *API) RuleGroupsList(w http.ResponseWriter, r *http.Request) {
	rs := a.m.RuleStore()
	names, err := rs.Names()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	out := make([]StoredGroup, 0, len(names))
	for _, n := range names {
		sg := StoredGroup{Name: n, File: rs.path(n)}
		f, err := rulefile.Load(sg.File)
		switch {
		case err != nil:
			sg.Error = err.Error()
		case len(f.Groups) > 0:
			if iv := f.Groups[0].Interval; iv > 0 {
				sg.Interval = rulefile.FormatDuration(iv)
			}
			sg.Rules = len(f.Groups[0].Rules)
		}
		out = append(out, sg)
	}
	writeData(w, out)
}

// RuleGroupGet serves GET /api/v1/alerting/rules/{group}: the stored
// rule file, as it loads.
func (a *API) RuleGroupGet(w http.ResponseWriter, r *http.Request) {
	b, ok := a.storedGroup(w, r.PathValue("group"))
	if !ok {
		return
	}
	writeYAML(w, b)
}

// RuleGroupPut serves PUT /api/v1/alerting/rules/{group}: the body is
// one group's YAML (or a rule file with that one group), validated as
// rule files are; it is stored and the rules reload. 201 for a new
// group, 200 for a replaced one.
func (a *API) RuleGroupPut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	if err := checkName(name); err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	body, ok := readGroupBody(w, r)
	if !ok {
		return
	}
	_, file, err := ParseGroup(body, name)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	rs := a.m.RuleStore()
	_, statErr := os.Stat(rs.path(name))
	if err := rs.Put(name, file); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	res := a.reloadResult(r, name, rs.path(name))
	w.Header().Set("Location", "/api/v1/alerting/rules/"+name)
	if errors.Is(statErr, os.ErrNotExist) {
		writeDataStatus(w, http.StatusCreated, res)
		return
	}
	writeData(w, res)
}

// RuleGroupDelete serves DELETE /api/v1/alerting/rules/{group}; the
// group's open alerts resolve.
func (a *API) RuleGroupDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	rs := a.m.RuleStore()
	if err := rs.Delete(name); err != nil {
		a.storeError(w, err)
		return
	}
	writeData(w, a.reloadResult(r, name, rs.path(name)))
}

// RuleGroupExport serves GET /api/v1/alerting/rules/{group}/export:
// format=yaml (the default) is the stored rule file, format=prometheus a
// file for Prometheus (see ExportPrometheus).
func (a *API) RuleGroupExport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "yaml" && format != "prometheus" {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("format: %q is not yaml or prometheus", format))
		return
	}
	name := r.PathValue("group")
	b, ok := a.storedGroup(w, name)
	if !ok {
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".yml"))
	if format != "prometheus" {
		writeYAML(w, b)
		return
	}
	g, _, err := ParseGroup(b, "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", fmt.Errorf("stored rule group %q no longer loads: %w", name, err))
		return
	}
	out, err := ExportPrometheus(g)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	writeYAML(w, out)
}

// storedGroup reads group name, answering the error itself when it
// cannot.
func (a *API) storedGroup(w http.ResponseWriter, name string) ([]byte, bool) {
	b, err := a.m.RuleStore().Get(name)
	if err != nil {
		a.storeError(w, err)
		return nil, false
	}
	return b, true
}

// storeError answers an error of the RuleStore.
func (a *API) storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBadGroupName):
		writeError(w, http.StatusBadRequest, "bad_data", err)
	case errors.Is(err, ErrRuleGroupNotFound):
		writeError(w, http.StatusNotFound, "not_found", err)
	default:
		writeError(w, http.StatusInternalServerError, "internal", err)
	}
}

// ruleChange is the answer to a PUT or DELETE.
type ruleChange struct {
	Group string `json:"group"`
	File  string `json:"file"`
	// ReloadError is why some rule file (maybe another) failed to load
	// at the reload that followed; the change itself is stored.
	ReloadError string `json:"reloadError,omitempty"`
}

// reloadResult reloads the rules after a change and says how it went.
func (a *API) reloadResult(r *http.Request, name, path string) ruleChange {
	res := ruleChange{Group: name, File: path}
	if err := a.m.Reload(r.Context()); err != nil {
		res.ReloadError = err.Error()
	}
	return res
}

// readGroupBody reads a rule group's body, at most maxGroupBytes,
// answering the error itself when it cannot.
func readGroupBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGroupBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "bad_data", fmt.Errorf("rule group: over the limit of %d bytes", maxGroupBytes))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("read the rule group: %w", err))
		return nil, false
	}
	return body, true
}

// writeYAML writes a YAML document.
func writeYAML(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(b)
}

// writeDataStatus writes the success envelope with status code.
func writeDataStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": v})
}
