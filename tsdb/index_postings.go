package tsdb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// postings returns the IDs of the series that match every matcher, with
// Prometheus semantics: a missing label matches as "", so a matcher that
// matches "" also selects the series without the label, and {a!=""}
// requires a. Regexps are anchored. With no matchers it returns every
// series. The bitmap is new and owned by the caller.
//
// Equality and literal alternations (a|b|c) look their values up; other
// regexps scan the values of their label only, or, when the series already
// selected are fewer than those values, check each selected series' label.
// Matchers that match "" subtract the series they reject. Only a query whose
// every matcher matches "" starts from the set of all series; the others
// intersect their sets, smallest first.
func (ix *index) postings(ms []*Matcher) (*roaring.Bitmap, error) {
	for _, m := range ms {
		if err := postingsCheckMatcher(m); err != nil {
			return nil, err
		}
	}
	ix.pmu.RLock()
	res, deferred := ix.post.selectLocked(ms)
	ix.pmu.RUnlock()
	if len(deferred) > 0 && !res.IsEmpty() {
		res = ix.filterSeries(res, deferred)
	}
	return res, nil
}

// postingsCheckMatcher rejects matchers the evaluation cannot run.
func postingsCheckMatcher(m *Matcher) error {
	switch m.Type {
	case MatchEqual, MatchNotEqual:
		return nil
	case MatchRegexp, MatchNotRegexp:
		if m.re == nil {
			return fmt.Errorf("label matcher %s: not built by NewMatcher", m)
		}
		return nil
	}
	return fmt.Errorf("label matcher %s%d%q: unknown match type", m.Name, int(m.Type), m.Value)
}

// postingsLiterals returns the finite set of values L that a matcher
// compares with, and pos: the matcher accepts a value v exactly when
// (v in L) == pos. ok is false for a regexp that is not a literal
// alternation.
func postingsLiterals(m *Matcher) (lits []string, pos, ok bool) {
	switch m.Type {
	case MatchEqual:
		return []string{m.Value}, true, true
	case MatchNotEqual:
		return []string{m.Value}, false, true
	}
	pos = m.Type == MatchRegexp
	switch m.Value {
	case "":
		return []string{""}, pos, true
	case ".+": // any value but ""
		return []string{""}, !pos, true
	}
	asRe := *m
	asRe.Type = MatchRegexp
	lits = asRe.LiteralValues()
	return lits, pos, lits != nil
}

// selectLocked evaluates ms over the postings. It returns the selected
// series and the matchers left to check series by series (filterSeries).
// pmu must be held.
func (p *postingsIndex) selectLocked(ms []*Matcher) (*roaring.Bitmap, []*Matcher) {
	var incl, excl []postingsSet
	var scans []*Matcher
	for _, m := range ms {
		pn := p.names[m.Name]
		if pn == nil || (m.Type == MatchRegexp && m.Value == ".*") {
			if !m.MatchesEmpty() {
				return roaring.New(), nil // the label is absent: nothing matches
			}
			continue // every series matches
		}
		s, exclusive, ok := p.literalSet(pn, m)
		switch {
		case !ok:
			scans = append(scans, m)
		case exclusive:
			excl = append(excl, s)
		default:
			incl = append(incl, s)
		}
	}
	cand := p.intersect(incl)
	if cand != nil && cand.IsEmpty() {
		return cand, nil
	}
	slices.SortFunc(scans, func(a, b *Matcher) int {
		return len(p.names[a.Name].vals) - len(p.names[b.Name].vals)
	})
	var deferred []*Matcher
	for _, m := range scans {
		pn := p.names[m.Name]
		if cand != nil && cand.GetCardinality() < uint64(len(pn.vals)) {
			deferred = append(deferred, m)
			continue
		}
		s, exclusive := p.scan(pn, m)
		if exclusive {
			excl = append(excl, s)
			continue
		}
		if cand = p.intersect([]postingsSet{s, {bm: cand, owned: true}}); cand.IsEmpty() {
			return cand, nil
		}
	}
	if cand == nil {
		cand = p.all.Clone()
	}
	for _, s := range excl {
		if cand.IsEmpty() {
			break
		}
		cand.AndNot(s.bm)
	}
	return cand, deferred
}

// literalSet evaluates a matcher that compares with a finite set of values
// L by looking them up. The series with a value in L are u; those with the
// label and a value outside L are has-u. It returns the side the matcher
// accepts or, when exclusive (the matcher matches ""), the side it rejects.
// ok is false when the matcher is a regexp that needs a scan.
func (p *postingsIndex) literalSet(pn *postingsName, m *Matcher) (s postingsSet, exclusive, ok bool) {
	lits, pos, ok := postingsLiterals(m)
	if !ok {
		return postingsSet{}, false, false
	}
	refs := make([]uint32, 0, len(lits))
	for _, v := range lits {
		if ref, ok := pn.vals[v]; ok {
			refs = append(refs, ref)
		}
	}
	exclusive = slices.Contains(lits, "") == pos
	if pos != exclusive {
		return p.union(refs), exclusive, true
	}
	return p.hasMinus(pn, refs), exclusive, true
}

// intersect returns the intersection of sets as an owned bitmap, starting
// from the smallest set; nil sets are ignored, and no set at all gives nil.
func (p *postingsIndex) intersect(sets []postingsSet) *roaring.Bitmap {
	sets = slices.DeleteFunc(sets, func(s postingsSet) bool { return s.bm == nil })
	if len(sets) == 0 {
		return nil
	}
	cards := make([]uint64, len(sets))
	for i, s := range sets {
		cards[i] = s.bm.GetCardinality()
	}
	order := make([]int, len(sets))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(cards[a]) - int(cards[b]) })
	first := sets[order[0]]
	res := first.bm
	if !first.owned {
		res = res.Clone()
	}
	for _, i := range order[1:] {
		if res.IsEmpty() {
			break
		}
		res.And(sets[i].bm)
	}
	return res
}

// scan evaluates a regexp matcher over the values of its label. It returns
// the series it accepts, or, when exclusive (the matcher matches ""), the
// series it rejects. Whichever side has fewer values is unioned; the other
// is derived from the label's series.
func (p *postingsIndex) scan(pn *postingsName, m *Matcher) (postingsSet, bool) {
	prefix, _ := m.re.LiteralPrefix()
	var hit, miss []uint32
	for v, ref := range pn.vals {
		ok := strings.HasPrefix(v, prefix) && m.re.MatchString(v)
		if ok == (m.Type == MatchRegexp) {
			hit = append(hit, ref)
		} else {
			miss = append(miss, ref)
		}
	}
	exclusive := m.MatchesEmpty()
	want, other := hit, miss
	if exclusive {
		want, other = miss, hit
	}
	if len(want) <= len(other) {
		return p.union(want), exclusive
	}
	return p.hasMinus(pn, other), exclusive
}
