package ui

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthConfig_Validate(t *testing.T) {
	f := func(tokens []Token, want string) {
		t.Helper()
		err := AuthConfig{Tokens: tokens}.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Fatalf("Validate(%v) = %q, want %q", tokens, got, want)
		}
		for _, tk := range tokens {
			if len(tk.Token) > 3 && strings.Contains(got, tk.Token) {
				t.Fatalf("Validate error %q reveals a token", got)
			}
		}
	}
	f(nil, "")
	f([]Token{{"s3cret-r", RoleRead}, {"s3cret-w", RoleWrite}, {"s3cret-a", RoleAdmin}}, "")
	f([]Token{{"", RoleRead}}, "auth.tokens[0].token: must not be empty")
	f([]Token{{"s3cret-r", RoleRead}, {" s3cret-x", RoleRead}}, "auth.tokens[1].token: must not begin or end with white space")
	f([]Token{{"s3cret-r", "reader"}}, `auth.tokens[0].role: "reader" is not read, write or admin`)
	f([]Token{{"s3cret-r", RolePublic}}, `auth.tokens[0].role: "public" is not read, write or admin`)
	f([]Token{{"s3cret-r", ""}}, `auth.tokens[0].role: "" is not read, write or admin`)
	f([]Token{{"s3cret-r", RoleRead}, {"s3cret-w", RoleWrite}, {"s3cret-r", RoleAdmin}},
		"auth.tokens[2].token: repeats auth.tokens[0].token")
}

func TestCredential(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	f := func(header, query, wantTok string, wantFound, wantOK bool) {
		t.Helper()
		r := httptest.NewRequest("GET", "/x?"+query, nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		tok, found, ok := credential(r)
		if tok != wantTok || found != wantFound || ok != wantOK {
			t.Fatalf("credential(%q, %q) = %q, %v, %v; want %q, %v, %v",
				header, query, tok, found, ok, wantTok, wantFound, wantOK)
		}
	}
	f("", "", "", false, true)
	f("", "u=telegraf&p=tok1", "tok1", true, true)
	f("", "u=telegraf", "", false, true)
	f("Token tok1", "", "tok1", true, true)
	f("token  tok1 ", "", "tok1", true, true)
	f("Bearer tok1", "", "tok1", true, true)
	f("BEARER tok1", "", "tok1", true, true)
	f(basic("telegraf:tok1"), "", "tok1", true, true)
	f(basic("tok1:"), "", "tok1", true, true)
	f(basic("user:pa:ss"), "", "pa:ss", true, true)
	f(basic(":"), "", "", false, true)
	f(basic("nocolon"), "", "", false, false)
	f("Basic !!!", "", "", false, false)
	f("Bearer", "", "", false, false)
	f("Bearer ", "", "", false, false)
	f("Digest abc", "", "", false, false)
	// The header wins over the query parameters.
	f("Token tok1", "p=tok2", "tok1", true, true)
}

func TestFromLoopback(t *testing.T) {
	f := func(remote string, want bool) {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := fromLoopback(r); got != want {
			t.Fatalf("fromLoopback(%q) = %v, want %v", remote, got, want)
		}
	}
	f("127.0.0.1:5000", true)
	f("127.9.8.7:5000", true)
	f("[::1]:5000", true)
	f("[::ffff:127.0.0.1]:5000", true)
	f("192.0.2.1:5000", false)
	f("[2001:db8::1]:5000", false)
	f("[::ffff:192.0.2.1]:5000", false)
	f("", false)
	f("pipe", false)
}

func TestAuthenticator_Lookup(t *testing.T) {
	a := newAuthenticator(AuthConfig{Tokens: []Token{{"aaa", RoleRead}, {"bbb", RoleWrite}, {"ccc", RoleAdmin}}})
	f := func(tok string, want Role, wantOK bool) {
		t.Helper()
		got, ok := a.lookup(tok)
		if got != want || ok != wantOK {
			t.Fatalf("lookup(%q) = %q, %v; want %q, %v", tok, got, ok, want, wantOK)
		}
	}
	f("aaa", RoleRead, true)
	f("bbb", RoleWrite, true)
	f("ccc", RoleAdmin, true)
	f("ccc ", "", false)
	f("aa", "", false)
	f("", "", false)
}

// TestServer_Guard_NoTokens checks the open mode: read and write for anyone,
// admin for loopback peers only, whatever the headers claim.
func TestServer_Guard_NoTokens(t *testing.T) {
	s := newTestServer(t, AuthConfig{})
	f := func(remote, method, path string, hdr map[string]string, want int) {
		t.Helper()
		r := httptest.NewRequest(method, path, nil)
		r.RemoteAddr = remote
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%s %s from %s: status %d, want %d (%s)", method, path, remote, w.Code, want, w.Body)
		}
	}
	far := "192.0.2.1:40000"
	f(far, "GET", "/read", nil, 200)
	f(far, "POST", "/write", nil, 200)
	f(far, "GET", "/ping", nil, 200)
	f(far, "POST", "/admin", nil, 403)
	f(far, "POST", "/admin", map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1"}, 403)
	f(far, "POST", "/admin", map[string]string{"Authorization": "Token anything"}, 403)
	f("127.0.0.1:40000", "POST", "/admin", nil, 200)
	f("[::1]:40000", "POST", "/admin", nil, 200)
	// A token that means nothing (Telegraf's influxdb_v2 output always sends one) is ignored.
	f(far, "POST", "/write", map[string]string{"Authorization": "Token whatever"}, 200)
}

// TestServer_Guard_Tokens runs every role against every route role, with
// every way of carrying a token, through a real server on 127.0.0.1.
func TestServer_Guard_Tokens(t *testing.T) {
	tokens := map[Role]string{RoleRead: "tok-read-1", RoleWrite: "tok-write-2", RoleAdmin: "tok-admin-3"}
	s := newTestServer(t, AuthConfig{Tokens: []Token{
		{tokens[RoleRead], RoleRead}, {tokens[RoleWrite], RoleWrite}, {tokens[RoleAdmin], RoleAdmin},
	}})
	base := startTestServer(t, s)
	routes := map[Role][2]string{ // method, path
		RolePublic: {"GET", "/ping"}, RoleRead: {"GET", "/read"},
		RoleWrite: {"POST", "/write"}, RoleAdmin: {"POST", "/admin"},
	}
	carriers := map[string]func(r *http.Request, tok string){
		"query_p": func(r *http.Request, tok string) {
			r.URL.RawQuery = "u=telegraf&p=" + tok
		},
		"basic":  func(r *http.Request, tok string) { r.SetBasicAuth("telegraf", tok) },
		"token":  func(r *http.Request, tok string) { r.Header.Set("Authorization", "Token "+tok) },
		"bearer": func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) },
	}
	allowed := func(have, need Role) bool {
		return need == RolePublic || have == RoleAdmin || have == need
	}
	for need, rt := range routes {
		for carrier, set := range carriers {
			for have, tok := range tokens {
				want := 200
				if !allowed(have, need) {
					want = 403
				}
				t.Run(fmt.Sprintf("%s_route/%s/%s_token", need, carrier, have), func(t *testing.T) {
					checkStatus(t, base, rt[0], rt[1], func(r *http.Request) { set(r, tok) }, want)
				})
			}
			want := 401
			if need == RolePublic {
				want = 200
			}
			t.Run(fmt.Sprintf("%s_route/%s/unknown_token", need, carrier), func(t *testing.T) {
				checkStatus(t, base, rt[0], rt[1], func(r *http.Request) { set(r, "tok-nope") }, want)
			})
		}
		want := 401
		if need == RolePublic {
			want = 200
		}
		t.Run(fmt.Sprintf("%s_route/no_token", need), func(t *testing.T) {
			checkStatus(t, base, rt[0], rt[1], nil, want)
		})
	}
	t.Run("head_ping_public", func(t *testing.T) {
		checkStatus(t, base, "HEAD", "/ping", nil, 200)
	})
	t.Run("loopback_needs_admin_token", func(t *testing.T) {
		checkStatus(t, base, "POST", "/admin", nil, 401)
	})
	t.Run("malformed_header", func(t *testing.T) {
		checkStatus(t, base, "GET", "/read", func(r *http.Request) { r.Header.Set("Authorization", "Digest x") }, 401)
	})
}

func checkStatus(t *testing.T, base, method, path string, prep func(*http.Request), want int) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(r)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %q", method, path, resp.StatusCode, want, body)
	}
}
