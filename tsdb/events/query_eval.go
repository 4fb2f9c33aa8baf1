package events

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// node is one part of a parsed query.
type node interface {
	// match reports whether the event (its JSON object) matches.
	match(raw []byte) bool
	// may reports whether the event's JSON could match: false only when
	// it cannot (a word it needs is absent). It is the cheap test that
	// spares most events their decode.
	may(raw []byte) bool
}

type allNode struct{}

func (allNode) match([]byte) bool { return true }
func (allNode) may([]byte) bool   { return true }

type andNode []node

func (n andNode) match(raw []byte) bool {
	for _, c := range n {
		if !c.match(raw) {
			return false
		}
	}
	return true
}

func (n andNode) may(raw []byte) bool {
	for _, c := range n {
		if !c.may(raw) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) match(raw []byte) bool {
	for _, c := range n {
		if c.match(raw) {
			return true
		}
	}
	return false
}

func (n orNode) may(raw []byte) bool {
	for _, c := range n {
		if c.may(raw) {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) match(raw []byte) bool { return !n.n.match(raw) }
func (notNode) may([]byte) bool         { return true }

// termKind says how a term compares a value.
type termKind int

const (
	kWords  termKind = iota // equal ignoring case, or its words in order
	kGlob                   // wildcard pattern over the value or a word
	kRegex                  // regular expression over the value or a word
	kExists                 // any value but null
)

// term is one field:value (path "": any value in the event).
type term struct {
	path string // dotted
	kind termKind
	text string
	toks []string       // kWords: Tokens(text)
	re   *regexp.Regexp // kGlob, kRegex
	lits []string       // lower-case ASCII words the raw JSON must contain
}

func (t *term) match(raw []byte) bool {
	found := false
	test := func(v string) bool {
		if t.leaf(v) {
			found = true
			return false
		}
		return true
	}
	if t.path == "" {
		allLeaves(raw, test)
	} else {
		pathLeaves(raw, t.path, test)
	}
	return found
}

// leaf reports whether one value matches.
func (t *term) leaf(v string) bool {
	switch t.kind {
	case kExists:
		return v != "null"
	case kWords:
		if strings.EqualFold(v, t.text) {
			return true
		}
		if len(t.toks) == 0 || (isASCII(t.toks[0]) && !containsFold([]byte(v), t.toks[0])) {
			return false
		}
		return containsRun(Tokens(v), t.toks)
	}
	if t.re.MatchString(v) {
		return true
	}
	for _, tok := range Tokens(v) {
		if t.re.MatchString(tok) {
			return true
		}
	}
	return false
}

func (t *term) may(raw []byte) bool {
	if t.kind == kWords && len(t.lits) > 1 && len(t.lits) == len(t.toks) {
		return containsRunFold(raw, t.lits)
	}
	for _, l := range t.lits {
		if !containsFold(raw, l) {
			return false
		}
	}
	return true
}

// containsRunFold reports whether raw (canonical JSON) may hold a value
// whose words include toks (lower-case ASCII) in a row: each token
// followed, after a gap of separators, by the next. A gap is ASCII
// punctuation or space, non-ASCII bytes (which may be separators) and
// JSON escapes (which encode only separators in canonical JSON). It is
// lenient (a false "yes" only costs a walk), never a false "no".
func containsRunFold(raw []byte, toks []string) bool {
	for i := 0; ; i++ {
		j := indexFold(raw[i:], toks[0])
		if j < 0 {
			return false
		}
		i += j
		if runAt(raw, i+len(toks[0]), toks[1:]) {
			return true
		}
	}
}

// runAt reports whether toks follow raw[i:], each after a gap.
func runAt(raw []byte, i int, toks []string) bool {
	for _, tok := range toks {
		gap := false
		for i < len(raw) {
			c := raw[i]
			switch {
			case c == '\\':
				i += 2
				if i <= len(raw) && raw[i-1] == 'u' {
					i += 4
				}
				gap = true
				continue
			case c >= 0x80 || !isAlnumASCII(c):
				i++
				gap = true
				continue
			}
			break
		}
		if !gap || i+len(tok) > len(raw) || !equalFoldASCII(raw[i:i+len(tok)], tok) {
			return false
		}
		i += len(tok)
	}
	return true
}

func isAlnumASCII(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// containsRun reports whether want occurs in toks as a consecutive run.
func containsRun(toks, want []string) bool {
	for i := 0; i+len(want) <= len(toks); i++ {
		if slices.Equal(toks[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// containsFold reports whether h contains n ignoring ASCII case; n is
// lower-case. Non-ASCII needles are not folded (callers only pass ASCII
// ones, or accept a false negative only where they also test EqualFold).
func containsFold(h []byte, n string) bool { return len(n) == 0 || indexFold(h, n) >= 0 }

// indexFold is the index of the first n in h ignoring ASCII case, or -1.
func indexFold(h []byte, n string) int {
	if len(n) == 0 {
		return 0
	}
	lo, up := n[0], n[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for i := 0; i+len(n) <= len(h); {
		j := bytes.IndexByte(h[i:], lo)
		if up != lo {
			lim := h[i:]
			if j >= 0 {
				lim = lim[:j]
			}
			if k := bytes.IndexByte(lim, up); k >= 0 {
				j = k
			}
		}
		if j < 0 {
			return -1
		}
		i += j
		if i+len(n) > len(h) {
			return -1
		}
		if equalFoldASCII(h[i:i+len(n)], n) {
			return i
		}
		i++
	}
	return -1
}

func equalFoldASCII(b []byte, lowerS string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerS[i] {
			return false
		}
	}
	return true
}

// Match reports whether the event raw (one JSON object) matches q.
func (q *Query) Match(raw []byte) bool { return q.root.may(raw) && q.root.match(raw) }

// indexTerm returns a term every match must satisfy, on one of the
// indexed fields, with the token to look up: nil when there is none.
func (q *Query) indexTerm(indexed map[string]bool) (field, token string) {
	var find func(n node) bool
	find = func(n node) bool {
		switch n := n.(type) {
		case *term:
			if n.kind != kWords || !indexed[n.path] {
				return false
			}
			for _, tok := range n.toks {
				if len(tok) > len(token) && len(tok) <= maxTokenLen {
					token = tok
				}
			}
			if token != "" {
				field = n.path
				return true
			}
		case andNode:
			for _, c := range n {
				if find(c) {
					return true
				}
			}
		}
		return false
	}
	find(q.root)
	return field, token
}
