package redact

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// startKind says where a rule's match begins relative to its keyword.
type startKind uint8

const (
	atKeyword startKind = iota // the match begins with the keyword
	beforeAt                   // the keyword is "@"; the match begins at the local part
	afterKey                   // the keyword is ":" or "="; a key with a listed name stands before it
	atNumber                   // the keyword is a digit that begins a group of digits
)

// lead is what a number rule's match may begin with before its first digit.
type lead uint8

const (
	leadNone         lead = iota
	leadSign              // "+" or "(" (phones)
	leadLetters           // two capital letters (IBAN)
	leadLettersSpace      // two capital letters, then perhaps a space (NINO)
)

// edge is the set of bytes that must not touch a match on one side, so that
// a rule does not match the middle of a longer word, token or number.
type edge uint8

const (
	edgeNone   edge = iota
	edgeLetter      // A-Z a-z
	edgeAlnum       // A-Z a-z 0-9
	edgeToken       // A-Z a-z 0-9 _ -
	edgeBase64      // A-Z a-z 0-9 + / =
	edgeNumber      // A-Z a-z 0-9, and . , - / with a digit on its far side
)

// A scanner matches a rule by code. t is the text from where the match would
// begin, cut to the rule's window; final says no more text will follow t
// (end of input, or the window is full). It returns the match t[:end], or
// more=true when the answer depends on text not yet seen.
type scanner func(t string, final bool, valid func(string) bool) (end int, ok, more bool)

// compiledRule is a Rule ready to run.
type compiledRule struct {
	Rule
	order  int
	re     *regexp.Regexp // ^(?:Pattern), for rules without a scanner
	secret int            // submatch index of the "secret" group, or 0
	window int            // bytes a decision may read from where the match begins
}

// lookbehind is how many bytes before a candidate or a new keyword a decision
// may read: the local part of an email (64 bytes, and one more to see that it
// ends), or the end of a key name (32 bytes) behind its quote and spaces.
const lookbehind = 96

var compiled = compileRules(table)

func compileRules(rules []Rule) []*compiledRule {
	out := make([]*compiledRule, len(rules))
	seen := map[string]bool{}
	for i, r := range rules {
		if seen[r.ID] {
			panic("redact: duplicate rule " + r.ID)
		}
		seen[r.ID] = true
		c, err := compileRule(r)
		if err != nil {
			panic("redact: rule " + r.ID + ": " + err.Error())
		}
		c.order = i
		out[i] = c
	}
	return out
}

func compileRule(r Rule) (*compiledRule, error) {
	if r.ID == "" || (r.Class != PII && r.Class != Secret) || len(r.Keywords) == 0 {
		return nil, fmt.Errorf("needs an id, a class and keywords")
	}
	parsed, err := syntax.Parse(r.Pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	c := &compiledRule{Rule: r}
	if r.scan == nil {
		n, ok := patternMaxLen(parsed)
		if !ok {
			return nil, fmt.Errorf("pattern %q has no bounded length", r.Pattern)
		}
		c.MaxLen = n
		c.re, err = regexp.Compile(`^(?:` + r.Pattern + `)`)
		if err != nil {
			return nil, err
		}
		c.secret = c.re.SubexpIndex("secret")
		if c.secret < 0 {
			c.secret = 0
		}
	} else if r.MaxLen <= 0 {
		return nil, fmt.Errorf("a scanner rule needs MaxLen")
	}
	// Two more bytes than the longest match: the right edge may need the
	// byte after the match and the one after that ("4111…1111.5").
	c.window = c.MaxLen + 2
	for _, kw := range r.Keywords {
		if kw == "" {
			return nil, fmt.Errorf("empty keyword")
		}
	}
	for _, k := range r.keys {
		if len(k) > keySuffix {
			return nil, fmt.Errorf("key name ending %q is longer than %d", k, keySuffix)
		}
	}
	return c, nil
}

// patternMaxLen is the longest text, in bytes, that re can match, and false
// if a repetition is unbounded.
func patternMaxLen(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n, true
	case syntax.OpCharClass:
		n := 0
		for i := 1; i < len(re.Rune); i += 2 {
			n = max(n, utf8.RuneLen(re.Rune[i]))
		}
		return n, true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax, true
	case syntax.OpCapture, syntax.OpQuest:
		return patternMaxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return 0, false
	case syntax.OpRepeat:
		if re.Max < 0 {
			return 0, false
		}
		n, ok := patternMaxLen(re.Sub[0])
		return n * re.Max, ok
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n, ok := patternMaxLen(sub)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total, true
	}
	return 0, false
}

// letterFreq is the frequency in percent of a–z in English text.
var letterFreq = [26]float64{
	8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4,
	6.7, 7.5, 1.9, 0.095, 6.0, 6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074,
}

// commonness estimates how often c occurs in English prose. Each keyword is
// looked for by its least common byte, so that the scan stops rarely.
func commonness(c byte) float64 {
	switch {
	case c == ' ':
		return 18
	case 'a' <= c && c <= 'z':
		return letterFreq[c-'a']
	case 'A' <= c && c <= 'Z':
		return letterFreq[c-'A'] / 10
	case '0' <= c && c <= '9':
		return 0.3
	case c == '.' || c == ',':
		return 1
	}
	return 0.05
}

// anchorOffset is the index of kw's least common byte.
func anchorOffset(kw string) int {
	best := 0
	for i := 1; i < len(kw); i++ {
		if commonness(kw[i]) < commonness(kw[best]) {
			best = i
		}
	}
	return best
}
