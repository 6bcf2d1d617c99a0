package policy

import (
	"regexp"
	"slices"
	"strings"

	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Filter matches prompts against the prompt_filter actions that apply to a
// request. It is immutable and safe for concurrent use.
type Filter struct {
	parts []*filterPart // in policy order
}

type filterPart struct {
	action   *Action
	literals *literalSet // nil if the action has none
	regexes  []*regexp.Regexp

	// required holds the literals the regexes need (see requiredLiterals);
	// needs[i] lists those of regexes[i], nil if it must always run.
	required *literalSet
	needs    [][]int
}

// minCompact is the shortest space-free form of a literal that is also
// matched: "ignore previous" is also found as "ignoreprevious", which is how
// Despace joins "i g n o r e p r e v i o u s"; short forms would match
// inside ordinary words.
const minCompact = 8

func newFilterPart(a *Action, regexes []compiledRegex) *filterPart {
	p := &filterPart{action: a}
	var required []string
	index := make(map[string]int)
	for _, r := range regexes {
		p.regexes = append(p.regexes, r.re)
		var needs []int
		for _, lit := range r.required {
			i, ok := index[lit]
			if !ok {
				i = len(required)
				index[lit] = i
				required = append(required, lit)
			}
			needs = append(needs, i)
		}
		p.needs = append(p.needs, needs)
	}
	if len(required) > 0 {
		p.required = newLiteralSet(required)
	}
	var patterns []string
	seen := make(map[string]bool)
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			patterns = append(patterns, s)
		}
	}
	for _, l := range a.Params.Literal {
		f := textnorm.Fold(l)
		add(f)
		if compact := strings.ReplaceAll(f, " ", ""); compact != f && len(compact) >= minCompact {
			add(compact)
		}
	}
	if len(patterns) > 0 {
		p.literals = newLiteralSet(patterns)
	}
	return p
}

// Match reports the first prompt_filter action, in policy order, that
// matches prompt, with the text it matched in the normalised prompt.
//
// Literals (folded with textnorm.Fold) and regexes (case-insensitive) are
// matched against every form textnorm.Variants gives, so prompts hidden with
// zero-width or tag characters, bidi tricks, homoglyphs, fullwidth letters,
// accents, spacing or leetspeak are caught; and against the forms of
// textnorm.Hidden, so instructions spelled invisibly in tag characters or
// variation selectors are caught too. A nil Filter matches nothing.
func (f *Filter) Match(prompt string) (*Action, string, bool) {
	if f == nil || len(f.parts) == 0 {
		return nil, "", false
	}
	forms := textnorm.Variants(prompt)
	if h := textnorm.Hidden(prompt); h != "" {
		forms = append(forms, textnorm.Variants(h)...)
	}
	var seen []bool
	for _, p := range f.parts {
		// Literals first, in every form: they are cheap and decide most
		// hostile prompts before any regex runs.
		if p.literals != nil {
			for _, form := range forms {
				if i, end, ok := p.literals.find(form); ok {
					return p.action, form[end-len(p.literals.patterns[i]) : end], true
				}
			}
		}
		if len(p.regexes) == 0 {
			continue
		}
		if p.required != nil {
			seen = slices.Grow(seen[:0], len(p.required.patterns))[:len(p.required.patterns)]
		}
		for _, form := range forms {
			if m, ok := p.matchRegex(form, seen); ok {
				return p.action, m, true
			}
		}
	}
	return nil, "", false
}

// matchRegex runs the part's regexes on one form, skipping those whose
// required literals it lacks; seen is scratch space for them.
func (p *filterPart) matchRegex(form string, seen []bool) (string, bool) {
	if p.required != nil {
		clear(seen)
		p.required.mark(form, seen)
	}
	for i, re := range p.regexes {
		if !p.mayMatch(i, seen) {
			continue
		}
		if loc := re.FindStringIndex(form); loc != nil {
			return form[loc[0]:loc[1]], true
		}
	}
	return "", false
}

// mayMatch reports whether form, whose required literals are seen, may
// match regexes[i].
func (p *filterPart) mayMatch(i int, seen []bool) bool {
	if p.needs[i] == nil {
		return true
	}
	for _, j := range p.needs[i] {
		if seen[j] {
			return true
		}
	}
	return false
}
