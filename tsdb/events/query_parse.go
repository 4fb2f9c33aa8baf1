package events

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Query is a parsed search query; it is immutable and safe for concurrent
// use.
//
// The language is the part of Lucene's query_string that ElastAlert
// filters use:
//
//   - or  *:*                    every event
//     word  "a phrase"               free text: any value anywhere in the event
//     field:value  field:"a phrase"  a value at a dotted path (detail.lastStatus:STOPPED)
//     field:st*p?                    wildcards: * any run, ? one character
//     field:/regex/                  a regular expression (RE2) over the whole value or a word
//     field:*                        the field exists and is not null
//     field:(a OR b)                 a group over one field
//     a AND b, a && b                both
//     a OR b, a || b, a b            either (adjacent clauses are OR'd, as in Lucene)
//     NOT a, !a, -a                  not a; a b -c is (a OR b) AND NOT c
//     +a                             a is required: +a b is a
//     ( ... )                        grouping; NOT binds tighter than AND, AND than OR
//
// A word or phrase matches a value that equals it ignoring case, or whose
// words (runs of letters and digits, lower-cased) contain its words in
// order: message:error matches "Connection error: refused". A backslash
// escapes the next character. Ranges ([a TO b], >5), fuzzy (~) and boosts
// (^) are not supported and are syntax errors.
type Query struct {
	src  string
	root node
}

// String returns the query as it was written.
func (q *Query) String() string { return q.src }

// maxQueryDepth bounds the nesting of parentheses.
const maxQueryDepth = 64

// ParseQuery parses a search query; an empty or blank query is "*". Its
// errors are *QueryError.
func ParseQuery(s string) (*Query, error) {
	if len(s) > 64<<10 {
		return nil, &QueryError{Col: 1, Msg: "query longer than 64 KiB"}
	}
	if !utf8.ValidString(s) {
		return nil, &QueryError{Col: 1, Msg: "query is not valid UTF-8"}
	}
	p := &parser{s: s}
	n, err := p.or("", 0)
	if err != nil {
		return nil, err
	}
	if p.skip(); p.pos < len(s) {
		return nil, p.errf("unexpected %q", p.s[p.pos:p.pos+1])
	}
	return &Query{src: s, root: n}, nil
}

type parser struct {
	s   string
	pos int
	pat string // the regexp of the last word read (wildcards as .* and .)
}

func (p *parser) errf(msg string, args ...any) *QueryError {
	return &QueryError{Col: utf8.RuneCountInString(p.s[:p.pos]) + 1, Msg: fmt.Sprintf(msg, args...)}
}

func (p *parser) skip() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// keyword reports whether the operator kw starts at pos, followed by a
// space, a parenthesis or the end; it consumes it when it does.
func (p *parser) keyword(kw string) bool {
	if !strings.HasPrefix(p.s[p.pos:], kw) {
		return false
	}
	if kw != "&&" && kw != "||" {
		if e := p.pos + len(kw); e < len(p.s) && !isSpace(p.s[e]) && p.s[e] != '(' {
			return false
		}
	}
	p.pos += len(kw)
	return true
}

// modifier of a clause: Lucene's MUST, MUST_NOT, SHOULD.
type modifier int

const (
	modShould modifier = iota
	modMust
	modNot
)

type clause struct {
	mod modifier
	n   node
}

// or parses clauses up to ')' or the end; field is the default field of
// a field:( ... ) group, "" outside one.
func (p *parser) or(field string, depth int) (node, error) {
	if depth > maxQueryDepth {
		return nil, p.errf("parentheses nested deeper than %d", maxQueryDepth)
	}
	var groups [][]clause // OR of AND-chains
	for {
		p.skip()
		if p.pos >= len(p.s) || p.s[p.pos] == ')' {
			break
		}
		and := false
		if len(groups) > 0 {
			switch {
			case p.keyword("AND") || p.keyword("&&"):
				and = true
			case p.keyword("OR") || p.keyword("||"):
			}
			p.skip()
			if p.pos >= len(p.s) || p.s[p.pos] == ')' {
				return nil, p.errf("an operator needs a clause after it")
			}
		}
		c, err := p.unary(field, depth)
		if err != nil {
			return nil, err
		}
		if and {
			groups[len(groups)-1] = append(groups[len(groups)-1], c)
		} else {
			groups = append(groups, []clause{c})
		}
	}
	if len(groups) == 0 {
		if depth > 0 && p.pos >= len(p.s) {
			return nil, p.errf("missing )")
		}
		if depth > 0 {
			return nil, p.errf("empty group")
		}
		return allNode{}, nil
	}
	return combine(groups), nil
}

// combine applies Lucene's rules: an AND-chain requires each of its
// clauses; at the OR level, +clauses are required, -clauses excluded, and
// the rest are alternatives unless something is required.
func combine(groups [][]clause) node {
	var must, not, should []node
	for _, g := range groups {
		c := g[0]
		if len(g) > 1 {
			var all andNode
			for _, c := range g {
				if c.mod == modNot {
					all = append(all, notNode{c.n})
				} else {
					all = append(all, c.n)
				}
			}
			c = clause{modShould, all}
		}
		switch c.mod {
		case modMust:
			must = append(must, c.n)
		case modNot:
			not = append(not, c.n)
		default:
			should = append(should, c.n)
		}
	}
	out := andNode(must)
	if len(must) == 0 && len(should) > 0 {
		if len(should) == 1 {
			out = append(out, should[0])
		} else {
			out = append(out, orNode(should))
		}
	}
	for _, n := range not {
		out = append(out, notNode{n})
	}
	switch len(out) {
	case 0:
		return allNode{}
	case 1:
		return out[0]
	}
	return out
}

func (p *parser) unary(field string, depth int) (clause, error) {
	mod := modShould
	switch {
	case p.keyword("NOT"):
		mod = modNot
	case p.pos < len(p.s) && (p.s[p.pos] == '-' || p.s[p.pos] == '!' || p.s[p.pos] == '+'):
		if p.s[p.pos] == '+' {
			mod = modMust
		} else {
			mod = modNot
		}
		p.pos++
		if p.pos >= len(p.s) || isSpace(p.s[p.pos]) {
			return clause{}, p.errf("%q needs a clause right after it", p.s[p.pos-1:p.pos])
		}
	}
	p.skip()
	if p.pos >= len(p.s) || p.s[p.pos] == ')' {
		return clause{}, p.errf("NOT needs a clause after it")
	}
	n, err := p.primary(field, depth)
	return clause{mod, n}, err
}

func (p *parser) primary(field string, depth int) (node, error) {
	switch p.s[p.pos] {
	case '(':
		return p.group(field, depth)
	case '"':
		return p.phrase(field)
	case '/':
		return p.regex(field)
	}
	start := p.pos
	w, wild, err := p.word(true)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) && p.s[p.pos] == ':' && w != "" && (!wild || w == "*") {
		if field != "" {
			return nil, p.errf("field %q inside the group of field %q", w, field)
		}
		if w == "*" && wild && (p.pos+1 >= len(p.s) || p.s[p.pos+1] != '*') {
			return nil, p.errf("only *:* may have * as its field")
		}
		p.pos++
		if p.pos >= len(p.s) || isSpace(p.s[p.pos]) || p.s[p.pos] == ')' {
			return nil, p.errf("field %q has no value", w)
		}
		if w == "*" && p.s[p.pos] == '*' && (p.pos+1 == len(p.s) || isSpace(p.s[p.pos+1]) || p.s[p.pos+1] == ')') {
			p.pos++
			return allNode{}, nil
		}
		return p.value(w, depth)
	}
	if w == "" {
		return nil, p.errf("unexpected %q", p.s[p.pos:p.pos+1])
	}
	if w == "*" && p.s[start] == '*' {
		if field == "" {
			return allNode{}, nil
		}
		return &term{path: field, kind: kExists}, nil
	}
	return p.wordTerm(field, w, wild)
}

// value parses what follows "field:".
func (p *parser) value(field string, depth int) (node, error) {
	switch c := p.s[p.pos]; c {
	case '(':
		return p.group(field, depth)
	case '"':
		return p.phrase(field)
	case '/':
		return p.regex(field)
	case '[', '{', '>', '<':
		return nil, p.errf("range queries are not supported")
	}
	w, wild, err := p.word(false)
	if err != nil {
		return nil, err
	}
	if w == "*" && wild {
		return &term{path: field, kind: kExists}, nil
	}
	return p.wordTerm(field, w, wild)
}

func (p *parser) group(field string, depth int) (node, error) {
	p.pos++ // (
	n, err := p.or(field, depth+1)
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.s) {
		return nil, p.errf("missing )")
	}
	p.pos++
	return n, nil
}

// word reads a bare word up to a space, a parenthesis or, when colon, an
// unescaped ':'; wild reports an unescaped * or ?. The returned text
// keeps wildcards as they are and drops escaping backslashes; p.glob
// receives the pattern.
func (p *parser) word(colon bool) (string, bool, error) {
	var b, pat strings.Builder
	wild := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if isSpace(c) || c == '(' || c == ')' || (colon && c == ':') || (c == '"' && b.Len() > 0) {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.s) {
				return "", false, p.errf("a backslash at the end escapes nothing")
			}
			_, n := utf8.DecodeRuneInString(p.s[p.pos+1:])
			b.WriteString(p.s[p.pos+1 : p.pos+1+n])
			pat.WriteString(regexp.QuoteMeta(p.s[p.pos+1 : p.pos+1+n]))
			p.pos += 1 + n
			continue
		case '*':
			wild = true
			pat.WriteString(".*")
		case '?':
			wild = true
			pat.WriteString(".")
		case '~', '^':
			return "", false, p.errf("fuzzy (~) and boost (^) are not supported; escape it as \\%c", c)
		default:
			pat.WriteString(regexp.QuoteMeta(string(c)))
		}
		b.WriteByte(c)
		p.pos++
	}
	p.pat = pat.String()
	return b.String(), wild, nil
}

func (p *parser) phrase(field string) (node, error) {
	text, err := p.delimited('"', "unterminated phrase: missing closing \"", func(byte) bool { return true })
	if err != nil {
		return nil, err
	}
	return wordsTerm(field, text), nil
}

// delimited reads from the opening delimiter at p.pos to the closing end,
// and returns what lies between. A backslash escapes the next byte when
// unescape(next) says so (the backslash is dropped); otherwise both are
// kept. Unterminated, p.pos goes back to the opening delimiter.
func (p *parser) delimited(end byte, missing string, unescape func(next byte) bool) (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.s) {
			p.pos = start
			return "", p.errf("%s", missing)
		}
		c := p.s[p.pos]
		if c == end {
			p.pos++
			return b.String(), nil
		}
		if c == '\\' && p.pos+1 < len(p.s) {
			if !unescape(p.s[p.pos+1]) {
				b.WriteByte(c)
			}
			p.pos++
			c = p.s[p.pos]
		}
		b.WriteByte(c)
		p.pos++
	}
}

func (p *parser) regex(field string) (node, error) {
	start := p.pos
	expr, err := p.delimited('/', "unterminated regular expression: missing closing /", func(next byte) bool { return next == '/' })
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		p.pos = start
		return nil, p.errf("bad regular expression /%s/: %v", expr, err)
	}
	return &term{path: field, kind: kRegex, text: expr, re: re, lits: regexLits(expr)}, nil
}

// regexLits returns the lower-case ASCII words of the literals every
// match of the regular expression must contain (those its top-level
// sequence holds), for the prefilter.
func regexLits(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	for re.Op == syntax.OpCapture && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var out []string
	for _, s := range subs {
		if s.Op != syntax.OpLiteral {
			continue
		}
		for _, tok := range Tokens(string(s.Rune)) {
			if isASCII(tok) {
				out = append(out, tok)
			}
		}
	}
	return out
}

// wordTerm builds the term of a bare word (p.pat holds its pattern).
func (p *parser) wordTerm(field string, w string, wild bool) (node, error) {
	if !wild {
		return wordsTerm(field, w), nil
	}
	re, err := regexp.Compile("(?is)^(?:" + p.pat + ")$")
	if err != nil {
		return nil, p.errf("bad wildcard %q: %v", w, err)
	}
	t := &term{path: field, kind: kGlob, text: w, re: re}
	for _, tok := range Tokens(strings.NewReplacer("*", " ", "?", " ").Replace(w)) {
		if isASCII(tok) {
			t.lits = append(t.lits, tok)
		}
	}
	return t, nil
}

func wordsTerm(field string, w string) *term {
	t := &term{path: field, kind: kWords, text: w, toks: Tokens(w)}
	for _, tok := range t.toks {
		if isASCII(tok) {
			t.lits = append(t.lits, tok)
		}
	}
	return t
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
