package promrw

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// respond answers a request from its outcome (the table in doc.go).
// Remote write senders retry on 5xx and drop on 4xx, so overload is never
// a 4xx; batches written before an overload are written again on retry,
// which stores the same samples again (same series, same millisecond: the
// last write wins).
func (h *Handler) respond(w http.ResponseWriter, o outcome) {
	switch {
	case o.overload || o.canceled:
		w.Header().Set("Retry-After", "1")
		h.fail(w, http.StatusServiceUnavailable, "outpost is overloaded, retry later"+o.progress())
	case o.unavail:
		// The store cannot append to its WAL (a full disk, say) and
		// resumes by itself: later, as for overload, but not at once.
		w.Header().Set("Retry-After", "5")
		h.fail(w, http.StatusServiceUnavailable, "outpost cannot store writes for now, retry later"+o.progress())
	case o.internal != nil:
		h.logStore(o.internal)
		h.fail(w, http.StatusInternalServerError, "internal error"+o.progress())
	case o.body != nil:
		status := http.StatusBadRequest
		if errors.Is(o.body, ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		msg := o.body.Error() + o.progress()
		if o.first != nil {
			msg += "; before that: " + o.first.Error()
		}
		h.fail(w, status, msg)
	case o.first == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		h.fail(w, http.StatusBadRequest, o.first.Error()+"; "+o.summary())
	}
}

// summary says what a request wrote and dropped.
func (o outcome) summary() string {
	s := "wrote " + strconv.Itoa(o.written) + " samples"
	var dropped []string
	if o.dropped > 0 {
		dropped = append(dropped, strconv.Itoa(o.dropped)+" samples")
	}
	if o.badLines > 0 {
		dropped = append(dropped, strconv.Itoa(o.badLines)+" lines")
	}
	if len(dropped) > 0 {
		s += ", dropped " + strings.Join(dropped, " and ")
	}
	return s
}

// progress says how far an import went before it stopped, so that it can
// be resumed from the next line; nothing for remote write.
func (o outcome) progress() string {
	if !o.imported {
		return ""
	}
	if o.lines == 0 {
		return " (no line written; " + o.summary() + ")"
	}
	return fmt.Sprintf(" (lines 1 to %d written; %s)", o.lines, o.summary())
}

// fail answers an error as Prometheus answers remote write errors: the
// message as plain text.
func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// Refuse answers a request to /api/v1/write or /api/v1/import that
// authentication turned away, in the same plain text as every other error
// of these endpoints: 401 "authorization failed: REASON", 403 "forbidden:
// REASON". Senders log the text and drop the batch (4xx). It fits
// ui.Refuser.
func (h *Handler) Refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	msg := "authorization failed: " + reason
	if status == http.StatusForbidden {
		msg = "forbidden: " + reason
	}
	h.fail(w, status, msg)
}
