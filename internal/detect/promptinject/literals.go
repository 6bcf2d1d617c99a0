package promptinject

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// literalSet reports which of a set of byte strings occur in a text, in one
// pass (an Aho-Corasick automaton compiled to a DFA over byte classes). The
// rules use it to skip every regex whose required words are absent: most
// prompts run no regex at all.
type literalSet struct {
	n      int        // patterns
	class  [256]uint8 // byte → class; 0 for bytes in no pattern
	nclass int
	delta  []int32   // state*nclass+class → state
	outs   [][]int32 // state → patterns ending here, suffixes included
}

func newLiteralSet(patterns []string) *literalSet {
	m := &literalSet{n: len(patterns)}
	// Byte classes: every byte that occurs in a pattern gets its own.
	m.nclass = 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				m.class[p[i]] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	// Trie.
	next := []map[uint8]int32{{}}
	own := [][]int32{nil}
	for pi, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			t, ok := next[s][c]
			if !ok {
				t = int32(len(next))
				next = append(next, map[uint8]int32{})
				own = append(own, nil)
				next[s][c] = t
			}
			s = t
		}
		own[s] = append(own[s], int32(pi))
	}
	states := len(next)
	m.delta = make([]int32, states*m.nclass)
	m.outs = make([][]int32, states)
	fail := make([]int32, states)
	// Breadth first, so a state's failure link is complete before its
	// children need it.
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.outs[s] = append(slices.Clone(own[s]), m.outs[fail[s]]...)
		if s == 0 {
			m.outs[s] = own[0]
		}
		for c := 0; c < m.nclass; c++ {
			t, ok := next[s][uint8(c)]
			if !ok || c == 0 {
				if s == 0 {
					m.delta[c] = 0
				} else {
					m.delta[int(s)*m.nclass+c] = m.delta[int(fail[s])*m.nclass+c]
				}
				continue
			}
			m.delta[int(s)*m.nclass+c] = t
			if s != 0 {
				fail[t] = m.delta[int(fail[s])*m.nclass+c]
			}
			queue = append(queue, t)
		}
	}
	for s := range m.outs {
		slices.Sort(m.outs[s])
		m.outs[s] = slices.Compact(m.outs[s])
	}
	return m
}

// maxHits is how many end positions find keeps per pattern; a pattern
// seen more often is marked as everywhere.
const maxHits = 64

// literalHits is what find reports per pattern: how often it occurred and
// where its first occurrences end.
type literalHits struct {
	count []int32
	ends  [][maxHits]int32
	buf   []int32 // scratch for the rules
}

func newLiteralHits(n int) *literalHits {
	return &literalHits{count: make([]int32, n), ends: make([][maxHits]int32, n)}
}

// find records the occurrences of every pattern in text.
func (m *literalSet) find(text string, h *literalHits) {
	clear(h.count)
	s := int32(0)
	nc := int32(m.nclass)
	for i := 0; i < len(text); i++ {
		s = m.delta[s*nc+int32(m.class[text[i]])]
		if o := m.outs[s]; o != nil {
			for _, p := range o {
				if c := h.count[p]; c < maxHits {
					h.ends[p][c] = int32(i + 1)
				}
				h.count[p]++
			}
		}
	}
}

// maxExact bounds the strings an exact set may hold.
const maxExact = 64

// exactSet returns every string re matches, if there are at most maxExact
// and re is made of literals, small classes, alternations, optional parts
// and zero-width assertions (which are ignored: the set is then a superset,
// which is what a prefilter needs).
func exactSet(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return []string{""}, true
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = utf8.AppendRune(b, r)
		}
		return []string{string(b)}, true
	case syntax.OpCharClass:
		// Small classes only: [sz], [1-9], \d.
		var out []string
		for k := 0; k+1 < len(re.Rune); k += 2 {
			for r := re.Rune[k]; r <= re.Rune[k+1]; r++ {
				if len(out) >= 10 {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return exactSet(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := exactSet(re.Sub[0])
		if !ok || len(sub) >= maxExact {
			return nil, false
		}
		return append([]string{""}, sub...), true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			e, ok := exactSet(sub)
			if !ok || len(out)+len(e) > maxExact {
				return nil, false
			}
			out = append(out, e...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			e, ok := exactSet(sub)
			if !ok {
				return nil, false
			}
			out = crossProduct(out, e)
			if out == nil {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// crossProduct concatenates every string of a with every string of b, or
// returns nil if there would be more than maxExact.
func crossProduct(a, b []string) []string {
	if len(a)*len(b) > maxExact {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// requiredLiterals returns groups of strings such that every match of re,
// over lower-case text, contains at least one string of each group. An
// empty result means it cannot tell.
func requiredLiterals(re *syntax.Regexp) [][]string {
	if e, ok := exactSet(re); ok {
		if g := usable(e); g != nil {
			return [][]string{g}
		}
		return nil
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Parse factors common prefixes out of alternations ("dan mode|
		// dude mode" becomes "d(?:an mode|ude mode)"), which leaves short
		// pieces; distributing the concatenation over the alternation
		// gets the whole words back.
		if alt := unfactor(re); alt != nil {
			return requiredLiterals(alt)
		}
		// Runs of children with exact sets are multiplied out into longer
		// strings; every other child adds its own groups.
		var all [][]string
		run := []string{""}
		flush := func() {
			if g := usable(run); g != nil {
				all = append(all, g)
			}
			run = []string{""}
		}
		for _, sub := range re.Sub {
			if e, ok := exactSet(sub); ok {
				if next := crossProduct(run, e); next != nil {
					run = next
					continue
				}
				flush()
				run = e
				continue
			}
			flush()
			all = append(all, requiredLiterals(sub)...)
		}
		flush()
		return all
	case syntax.OpAlternate:
		// Every branch must contribute one group; the union of those
		// groups is required. Take each branch's most selective group:
		// the one whose shortest string is longest.
		var union []string
		for _, sub := range re.Sub {
			groups := requiredLiterals(sub)
			if len(groups) == 0 {
				return nil
			}
			best := groups[0]
			for _, g := range groups[1:] {
				if shortest(g) > shortest(best) {
					best = g
				}
			}
			union = append(union, best...)
		}
		return [][]string{union}
	}
	return nil
}

// unfactor rewrites a concatenation whose first inexact child is an
// alternation of a few branches, preceded by a short exact prefix, as the
// alternation of the concatenations; nil if it does not apply.
func unfactor(re *syntax.Regexp) *syntax.Regexp {
	for j, sub := range re.Sub {
		if _, ok := exactSet(sub); ok {
			continue
		}
		if j == 0 || sub.Op != syntax.OpAlternate || len(sub.Sub) > 16 {
			return nil
		}
		prefix, _ := exactSet(&syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[:j]})
		if len(prefix) != 1 || len(strings.TrimSpace(prefix[0])) >= 3 {
			return nil // long enough already
		}
		alt := &syntax.Regexp{Op: syntax.OpAlternate}
		for _, branch := range sub.Sub {
			subs := slices.Clone(re.Sub[:j])
			if branch.Op == syntax.OpConcat {
				subs = append(subs, branch.Sub...)
			} else {
				subs = append(subs, branch)
			}
			subs = append(subs, re.Sub[j+1:]...)
			alt.Sub = append(alt.Sub, &syntax.Regexp{Op: syntax.OpConcat, Sub: subs})
		}
		return alt
	}
	return nil
}

// usable returns the strings of an exact set trimmed of surrounding spaces
// (which the folded text may lack at its ends), or nil if any is shorter
// than two bytes: too common to filter anything.
func usable(set []string) []string {
	out := make([]string, 0, len(set))
	for _, s := range set {
		s = strings.TrimSpace(s)
		if len(s) < 2 {
			return nil
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxLen is the most bytes a match of re can span, or -1 if unbounded.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxLen(re.Sub[0])
	case syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return -1
		}
		n := maxLen(re.Sub[0])
		if n < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n := maxLen(sub)
			if n < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total
	}
	return -1
}

// anchored reports whether re uses ^ or $, which a window of the text
// would satisfy where the text does not.
func anchored(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return true
	}
	for _, sub := range re.Sub {
		if anchored(sub) {
			return true
		}
	}
	return false
}
func shortest(group []string) int {
	n := -1
	for _, s := range group {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}
