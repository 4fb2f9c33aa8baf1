package events

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenLen bounds an indexed token; longer ones are not indexed, and a
// query token longer than this never uses the index.
const maxTokenLen = 64

// Tokens returns the lower-cased runs of letters and digits of s.
func Tokens(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, lower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, lower(s[start:]))
	}
	return out
}

// lower lower-cases s, without allocating when it is lower case ASCII.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}
