package ui

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticator_Check measures the per-request cost of checking a
// token against a few configured ones (one SHA-256 plus a constant-time
// compare per token).
//
//	go test -run '^$' -bench Authenticator -benchmem ./ui
func BenchmarkAuthenticator_Check(b *testing.B) {
	a := newAuthenticator(AuthConfig{Tokens: []Token{
		{"tok-read-0123456789abcdef", RoleRead}, {"tok-write-0123456789abcdef", RoleWrite},
		{"tok-admin-0123456789abcdef", RoleAdmin},
	}})
	for _, c := range []struct{ name, header, query string }{
		{"bearer", "Bearer tok-write-0123456789abcdef", ""},
		{"basic", "Basic dGVsZWdyYWY6dG9rLXdyaXRlLTAxMjM0NTY3ODlhYmNkZWY=", ""},
		{"query_p", "", "db=x&u=telegraf&p=tok-write-0123456789abcdef"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/write?"+c.query, nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			if d := a.check(r, RoleWrite); d.status != 0 {
				b.Fatalf("check refused: %+v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.check(r, RoleWrite)
			}
		})
	}
}
