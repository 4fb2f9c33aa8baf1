package influx

import "strings"

// token is one word of an InfluxQL statement: a bare word, or a "quoted
// identifier" or 'string' with its quotes removed and escapes resolved.
type token struct {
	text   string
	quoted bool
}

// splitStatements cuts q into statements at semicolons outside quotes and
// each statement into tokens. Empty statements are dropped. This is all the
// InfluxQL outpost needs: it only recognises a few statements by their
// leading keywords.
func splitStatements(q string) [][]token {
	var out [][]token
	var cur []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ';':
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			text, n := readQuoted(q[i:])
			cur = append(cur, token{text: text, quoted: true})
			i += n
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\n\r;\"'", rune(q[j])) {
				j++
			}
			cur = append(cur, token{text: q[i:j]})
			i = j
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// readQuoted reads a quoted token at the start of s (s[0] is the quote) and
// returns its text and how many bytes it took. Backslash escapes the next
// byte. An unterminated quote runs to the end of s.
func readQuoted(s string) (string, int) {
	quote := s[0]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
		case c == quote:
			return b.String(), i + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), i
}
