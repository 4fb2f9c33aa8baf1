package main

// Snapshots over HTTP (admin): Prometheus' POST /api/v1/admin/tsdb/snapshot
// writes a consistent copy of the store, alerting.db and the event day
// files under
// <data>/snapshots/<name>/; outpost adds a GET that streams a snapshot as a
// tar (what `outpost backup` reads, so a backup works from another machine
// and needs no access to the data directory) and a DELETE that removes it.

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"outpost/alerting"
	"outpost/tsdb"
)

// snapshotAPI answers the snapshot routes.
type snapshotAPI struct {
	db     *tsdb.DB
	al     *alerting.API
	ev     *eventParts // nil when events are off
	logger *slog.Logger
}

// newSnapshotAPI returns the snapshot routes' handlers.
func newSnapshotAPI(db *tsdb.DB, al *alerting.API, ev *eventParts) *snapshotAPI {
	return &snapshotAPI{db: db, al: al, ev: ev, logger: slog.Default().With("component", "snapshot")}
}

// snapshotName is what Snapshot names a snapshot; anything else is refused
// before it reaches the file system.
var snapshotName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}$`)

// promError writes Prometheus' error envelope.
func promError(w http.ResponseWriter, code int, typ, msg string) {
	b, _ := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", typ, msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// create is POST /api/v1/admin/tsdb/snapshot?skip_head=BOOL.
func (s *snapshotAPI) create(w http.ResponseWriter, r *http.Request) {
	skip := false
	if v := r.FormValue("skip_head"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			promError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("cannot parse %q to a valid boolean", v))
			return
		}
		skip = b
	}
	name, err := s.db.Snapshot(r.Context(), tsdb.SnapshotOptions{SkipHead: skip, Extra: func(dir string) error {
		if err := s.al.CopyState(filepath.Join(dir, "alerting.db")); err != nil {
			return err
		}
		return s.ev.copyTo(filepath.Join(dir, "events"))
	}})
	if err != nil {
		promError(w, http.StatusInternalServerError, "internal", "create snapshot: "+err.Error())
		return
	}
	type data struct {
		Name string `json:"name"`
	}
	b, _ := json.Marshal(struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{name}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// path returns the directory of the snapshot the request names, or answers
// 400/404 and returns "".
func (s *snapshotAPI) path(w http.ResponseWriter, r *http.Request) string {
	name := r.PathValue("name")
	if !snapshotName.MatchString(name) {
		promError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid snapshot name %q", name))
		return ""
	}
	dir := s.db.SnapshotPath(name)
	if _, err := os.Stat(dir); err != nil {
		promError(w, http.StatusNotFound, "not_found", fmt.Sprintf("snapshot %q not found", name))
		return ""
	}
	return dir
}

// stream is GET /api/v1/admin/tsdb/snapshot/{name}: the snapshot's files
// as an uncompressed tar (day files are already compressed chunks).
func (s *snapshotAPI) stream(w http.ResponseWriter, r *http.Request) {
	dir := s.path(w, r)
	if dir == "" {
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	rc := http.NewResponseController(w)
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// A big store takes longer than http.write_timeout: each file gets
		// its own allowance instead.
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute + time.Duration(info.Size()>>20)*time.Second))
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: info.Size(),
			ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.CopyN(tw, f, info.Size())
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil { // headers are sent: the truncated tar tells the client
		s.logger.Warn("streaming snapshot failed", "dir", dir, "err", err)
	}
}

// remove is DELETE /api/v1/admin/tsdb/snapshot/{name}.
func (s *snapshotAPI) remove(w http.ResponseWriter, r *http.Request) {
	dir := s.path(w, r)
	if dir == "" {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		promError(w, http.StatusInternalServerError, "internal", "remove snapshot: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
