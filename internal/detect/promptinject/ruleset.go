package promptinject

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
)

// Rules returns a copy of the signature table.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.ATLAS = slices.Clone(r.ATLAS)
		out[i] = r
	}
	return out
}

// ruleEngine runs the pattern rules over the forms of a text. A rule's
// regex runs only on forms that hold its required literals.
type ruleEngine struct {
	rules      []Rule
	res        []*regexp.Regexp // nil for trigger rules
	needs      [][][]int32      // rule → groups of literal indices, one of each group required
	span       []int            // rule → longest match in bytes, -1 if unbounded or anchored
	lits       *literalSet
	nlits      int
	litStrings []string       // literal index → literal
	trigger    map[string]int // trigger name → rule index
	index      map[string]int // rule id → index
}

var defaultEngine = sync.OnceValue(func() *ruleEngine {
	e, err := compileRules(rules)
	if err != nil {
		panic(err) // the table is tested
	}
	return e
})

func compileRules(rs []Rule) (*ruleEngine, error) {
	e := &ruleEngine{
		rules:   rs,
		res:     make([]*regexp.Regexp, len(rs)),
		needs:   make([][][]int32, len(rs)),
		span:    make([]int, len(rs)),
		trigger: map[string]int{},
		index:   map[string]int{},
	}
	litIndex := map[string]int32{}
	var lits []string
	for i, r := range rs {
		if _, dup := e.index[r.ID]; dup {
			return nil, fmt.Errorf("rule %s: duplicate id", r.ID)
		}
		e.index[r.ID] = i
		switch {
		case r.Trigger != "" && r.Pattern != "":
			return nil, fmt.Errorf("rule %s: both a pattern and a trigger", r.ID)
		case r.Trigger != "":
			e.trigger[r.Trigger] = i
			continue
		case r.Pattern == "":
			return nil, fmt.Errorf("rule %s: no pattern", r.ID)
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		e.res[i] = re
		parsed, err := syntax.Parse(r.Pattern, syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		parsed = parsed.Simplify()
		e.span[i] = maxLen(parsed)
		if anchored(parsed) {
			e.span[i] = -1
		}
		for _, group := range requiredLiterals(parsed) {
			var g []int32
			for _, l := range group {
				k, ok := litIndex[l]
				if !ok {
					k = int32(len(lits))
					litIndex[l] = k
					lits = append(lits, l)
				}
				g = append(g, k)
			}
			e.needs[i] = append(e.needs[i], g)
		}
	}
	e.lits = newLiteralSet(lits)
	e.litStrings = lits
	e.nlits = len(lits)
	return e, nil
}

// ruleMatch is the first match of a rule in the forms of a unit.
type ruleMatch struct {
	rule       int
	form       int // index of the form it matched in
	start, end int // in that form
}

// scan appends to out the first match of every pattern rule in forms,
// trying the forms in order. Rules marked DocumentOnly run only when doc is
// set. hits and done are scratch: done has one entry per rule.
func (e *ruleEngine) scan(forms []string, doc bool, hits *literalHits, done []bool, out []ruleMatch) []ruleMatch {
	clear(done)
	for fi, f := range forms {
		e.lits.find(f, hits)
	rule:
		for ri, re := range e.res {
			if re == nil || done[ri] || e.rules[ri].DocumentOnly && !doc {
				continue
			}
			// Every group must be present; the rarest is the anchor
			// around which the regex runs.
			anchor, anchorCount := -1, int32(0)
			for gi, g := range e.needs[ri] {
				var n int32
				for _, l := range g {
					c := hits.count[l]
					if c > maxHits {
						c = 1 << 20 // everywhere: a poor anchor
					}
					n += c
				}
				if n == 0 {
					continue rule
				}
				if anchor < 0 || n < anchorCount {
					anchor, anchorCount = gi, n
				}
			}
			if loc := e.find(ri, f, anchor, anchorCount, hits); loc != nil {
				done[ri] = true
				out = append(out, ruleMatch{rule: ri, form: fi, start: loc[0], end: loc[1]})
			}
		}
	}
	return out
}

// find runs rule ri's regex on f: only around the occurrences of its
// anchor group's literals when the match length is bounded, since a regex
// without a literal prefix walks every byte of what it is given.
func (e *ruleEngine) find(ri int, f string, anchor int, anchorCount int32, hits *literalHits) []int {
	re, span := e.res[ri], e.span[ri]
	if anchor < 0 || span < 0 || anchorCount > maxHits || len(f) <= 4*span {
		return re.FindStringIndex(f)
	}
	ends := hits.buf[:0]
	for _, l := range e.needs[ri][anchor] {
		for k := int32(0); k < min(hits.count[l], maxHits); k++ {
			ends = append(ends, hits.ends[l][k])
		}
	}
	slices.Sort(ends)
	hits.buf = ends
	// A match containing a literal that ends at p lies within
	// [p-span, p+span]. Windows are widened to whole words so that \b
	// means the same in them as in f, and merged where they overlap.
	lo, hi := -1, -1
	try := func() []int {
		for lo > 0 && isWordByte(f[lo-1]) {
			lo--
		}
		for hi < len(f) && isWordByte(f[hi]) {
			hi++
		}
		if loc := re.FindStringIndex(f[lo:hi]); loc != nil {
			return []int{lo + loc[0], lo + loc[1]}
		}
		return nil
	}
	covered := 0
	for _, p := range ends {
		a, b := max(0, int(p)-span), min(len(f), int(p)+span)
		covered += b - a
		if covered > len(f) {
			return re.FindStringIndex(f) // windows would cover f anyway
		}
		if lo >= 0 && a <= hi {
			hi = max(hi, b)
			continue
		}
		if lo >= 0 {
			if loc := try(); loc != nil {
				return loc
			}
		}
		lo, hi = a, b
	}
	if lo >= 0 {
		return try()
	}
	return nil
}

// isWordByte reports whether c may be inside a word: ASCII letters and
// digits, and every byte of a multi-byte rune, so that a window never
// starts inside one.
func isWordByte(c byte) bool {
	return c >= 0x80 || isAlnum(c) || c == '_'
}

// weight is the weight of rule i in a view.
func (e *ruleEngine) weight(i int, doc bool) float64 {
	r := &e.rules[i]
	if doc && r.DocumentWeight != 0 {
		return r.DocumentWeight
	}
	return r.Weight
}
