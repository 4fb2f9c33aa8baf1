package pages

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"outpost/ui"
)

// csrfLifetime is how long a form's token stays valid.
const csrfLifetime = 12 * time.Hour

// csrfField is the form field that carries the token.
const csrfField = "csrf_token"

// forms issues and checks the tokens of the forms that change state. A
// token is an HMAC, under a secret drawn when the process starts, of the
// hour it was issued and of the credential that loaded the form: a page of
// another site cannot read it, and it is of no use with another credential
// or after csrfLifetime (or a restart).
type forms struct {
	key [32]byte
	now func() time.Time
}

func newForms(now func() time.Time) (*forms, error) {
	f := &forms{now: now}
	if _, err := rand.Read(f.key[:]); err != nil {
		return nil, fmt.Errorf("draw the form token secret: %w", err)
	}
	return f, nil
}

// token returns a fresh token for forms shown in answer to r.
func (f *forms) token(r *http.Request) string {
	h := f.now().Unix() / 3600
	return strconv.FormatInt(h, 36) + "." + f.mac(h, ui.CredentialID(r))
}

func (f *forms) mac(hour int64, cred string) string {
	m := hmac.New(sha256.New, f.key[:])
	fmt.Fprintf(m, "outpost form\x00%d\x00%s", hour, cred)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// check reports why r's form token is not acceptable, or nil. It reads the
// form (r.ParseForm).
func (f *forms) check(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("read the form: %w", err)
	}
	tok := r.PostForm.Get(csrfField)
	if tok == "" {
		return fmt.Errorf("the form carries no %s: reload the page and try again", csrfField)
	}
	hs, mac, ok := strings.Cut(tok, ".")
	hour, err := strconv.ParseInt(hs, 36, 64)
	if !ok || err != nil {
		return fmt.Errorf("the form's %s is malformed: reload the page and try again", csrfField)
	}
	now := f.now().Unix() / 3600
	if hour > now || now-hour > int64(csrfLifetime/time.Hour) {
		return fmt.Errorf("the form's %s has expired: reload the page and try again", csrfField)
	}
	if !hmac.Equal([]byte(mac), []byte(f.mac(hour, ui.CredentialID(r)))) {
		return fmt.Errorf("the form's %s does not match: reload the page and try again", csrfField)
	}
	return nil
}
