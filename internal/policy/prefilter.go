package policy

import (
	"regexp/syntax"
	"unicode/utf8"
)

// requiredLiterals returns strings of which every match of re contains at
// least one, or nil if it cannot tell. A filter runs a regex only on the
// forms that contain one of them, which spares the regex engine most
// prompts: a case-insensitive regex gets no literal-prefix speed-up in
// package regexp and walks every byte.
//
// The forms are folded (lower case, NFKC), so a case-folded ASCII literal is
// looked for in lower case; literals with other letters are not used, since
// their case folding is not always their lower case (σ, ς).
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				return nil
			}
			if re.Flags&syntax.FoldCase != 0 && 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
		}
		return []string{string(b)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if s := requiredLiterals(sub); s != nil && (best == nil || shortest(s) > shortest(best)) {
				best = s
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			s := requiredLiterals(sub)
			if s == nil {
				return nil
			}
			all = append(all, s...)
		}
		return all
	}
	return nil
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}
