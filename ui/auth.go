package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Role is what a token may do, and what a route needs.
type Role string

// The roles. A token has RoleRead, RoleWrite or RoleAdmin; a route needs one
// of those or RolePublic.
const (
	// RolePublic routes need no token, even when tokens are configured
	// (GET/HEAD /ping, GET /health).
	RolePublic Role = "public"
	// RoleRead may query and look at pages.
	RoleRead Role = "read"
	// RoleWrite may ingest.
	RoleWrite Role = "write"
	// RoleAdmin may change rules and dashboards, retire series, ack and
	// silence alerts, delete data; it may also read and write.
	RoleAdmin Role = "admin"
)

// tokenRole reports whether r is a role a token may have.
func (r Role) tokenRole() bool { return r == RoleRead || r == RoleWrite || r == RoleAdmin }

// grants reports whether a token of role r may use a route that needs need.
func (r Role) grants(need Role) bool {
	return need == RolePublic || r == RoleAdmin || r == need
}

// Token is one configured token and its role (an item of auth.tokens).
type Token struct {
	// Token is the secret a client presents. It is never logged.
	Token string `koanf:"token"`
	// Role is read, write or admin.
	Role Role `koanf:"role"`
}

// AuthConfig is the authentication part of outpost's configuration (key
// "auth").
type AuthConfig struct {
	// Tokens lists the accepted tokens. Empty: read and write are open and
	// admin routes accept loopback clients only.
	Tokens []Token `koanf:"tokens"`
}

// DefaultAuthConfig returns the embedded defaults: no tokens.
func DefaultAuthConfig() AuthConfig { return AuthConfig{} }

// Validate names the first key with a bad value. It never prints a token.
func (c AuthConfig) Validate() error {
	seen := make(map[string]int, len(c.Tokens))
	for i, t := range c.Tokens {
		switch {
		case t.Token == "":
			return fmt.Errorf("auth.tokens[%d].token: must not be empty", i)
		case strings.TrimSpace(t.Token) != t.Token:
			return fmt.Errorf("auth.tokens[%d].token: must not begin or end with white space", i)
		case !t.Role.tokenRole():
			return fmt.Errorf("auth.tokens[%d].role: %q is not read, write or admin", i, t.Role)
		}
		if j, dup := seen[t.Token]; dup {
			return fmt.Errorf("auth.tokens[%d].token: repeats auth.tokens[%d].token", i, j)
		}
		seen[t.Token] = i
	}
	return nil
}

// authenticator decides whether a request may use a route. It is immutable
// after newAuthenticator, so safe for concurrent use.
type authenticator struct {
	// tokens holds the SHA-256 of each configured token, so that comparing
	// takes the same time whatever the lengths involved.
	tokens []hashedToken
}

type hashedToken struct {
	sum  [sha256.Size]byte
	role Role
}

func newAuthenticator(c AuthConfig) *authenticator {
	a := &authenticator{tokens: make([]hashedToken, len(c.Tokens))}
	for i, t := range c.Tokens {
		a.tokens[i] = hashedToken{sum: sha256.Sum256([]byte(t.Token)), role: t.Role}
	}
	return a
}

// denial says why a request was turned away; the zero value means allowed.
type denial struct {
	status int    // http.StatusUnauthorized or http.StatusForbidden
	reason string // for the response body and the debug log; never a token
}

// check decides whether r may use a route that needs need.
func (a *authenticator) check(r *http.Request, need Role) denial {
	if need == RolePublic {
		return denial{}
	}
	if len(a.tokens) == 0 {
		if need == RoleAdmin && !fromLoopback(r) {
			return denial{http.StatusForbidden, "admin actions are accepted only from loopback clients while no tokens are configured"}
		}
		return denial{}
	}
	tok, found, ok := credential(r)
	switch {
	case !ok:
		return denial{http.StatusUnauthorized, "malformed Authorization header"}
	case !found:
		return denial{http.StatusUnauthorized, "a token is required"}
	}
	role, known := a.lookup(tok)
	switch {
	case !known:
		return denial{http.StatusUnauthorized, "unknown token"}
	case !role.grants(need):
		return denial{http.StatusForbidden, fmt.Sprintf("a %s token may not use a route that needs the %s role", role, need)}
	}
	return denial{}
}

// lookup finds tok's role. It compares against every token, in constant
// time each, without stopping at a match.
func (a *authenticator) lookup(tok string) (Role, bool) {
	sum := sha256.Sum256([]byte(tok))
	var role Role
	found := 0
	for _, t := range a.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], t.sum[:])
		if eq == 1 {
			role = t.role
		}
		found |= eq
	}
	return role, found == 1
}

// credential extracts the token a request carries: found reports whether it
// carries one, ok is false when the Authorization header is malformed. The
// Authorization header wins over the u/p query parameters.
func credential(r *http.Request) (tok string, found, ok bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case rest == "":
			return "", false, false
		case strings.EqualFold(scheme, "Token"), strings.EqualFold(scheme, "Bearer"):
			return rest, true, true
		case strings.EqualFold(scheme, "Basic"):
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return "", false, false
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return "", false, false
			}
			if pass == "" {
				pass = user // curl -u TOKEN:
			}
			return pass, pass != "", true
		default:
			return "", false, false
		}
	}
	if p := r.URL.Query().Get("p"); p != "" {
		return p, true, true
	}
	return "", false, true
}

// fromLoopback reports whether the request's peer is a loopback address
// (127.0.0.0/8 or ::1). Only the connection's address counts: headers such
// as X-Forwarded-For are set by the client and never trusted.
func fromLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// Refuser writes the answer to a request that authentication turned away,
// in the shape of the API its route belongs to (InfluxDB, Prometheus,
// Alertmanager, a page): status is 401 or 403, reason says why and never
// holds a token. The package that owns the route provides it; ui only
// decides. Before it runs, a 401 carries WWW-Authenticate: Bearer, which a
// Refuser may replace.
type Refuser func(w http.ResponseWriter, r *http.Request, status int, reason string)

// RefuseText answers in plain text, "authorization failed: REASON" or
// "forbidden: REASON", and asks a browser for HTTP Basic credentials (the
// token as password), for the pages and other routes of no particular API.
func RefuseText(w http.ResponseWriter, r *http.Request, status int, reason string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="outpost", charset="UTF-8"`)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, RefusalMessage(status, reason))
}

// RefusalMessage is the usual wording of a refusal: "authorization failed:
// REASON" for 401, "forbidden: REASON" for 403.
func RefusalMessage(status int, reason string) string {
	if status == http.StatusForbidden {
		return "forbidden: " + reason
	}
	return "authorization failed: " + reason
}

// grantKey is the context key under which guard records the request's
// credential check, for Can.
type grantKey struct{}

// grant is what guard knows of a request that passed: the authenticator and
// the request, so that Can may ask about other roles later.
type grant struct {
	auth *authenticator
	r    *http.Request
}

// Can reports whether the request, which passed its route's check, would
// also pass a route that needs need: a page uses it to show the buttons of
// admin actions only to those who may use them. It reports false for a
// request that did not come through a mounted route.
func Can(r *http.Request, need Role) bool {
	g, ok := r.Context().Value(grantKey{}).(grant)
	if !ok {
		return false
	}
	return g.auth.check(g.r, need).status == 0
}

// CredentialID returns a digest of the credential the request carries
// (empty when it carries none), for binding a form token to the person who
// was shown the form. It never returns the token itself.
func CredentialID(r *http.Request) string {
	tok, found, ok := credential(r)
	if !found || !ok {
		return ""
	}
	sum := sha256.Sum256([]byte("outpost credential\x00" + tok))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}
