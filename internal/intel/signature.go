package intel

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/textnorm"
)

// normalizeSignature folds a literal signature, or checks a regex one.
func normalizeSignature(v string) (string, error) {
	if pat, ok := strings.CutPrefix(v, regexPrefix); ok {
		if _, err := compileSignature(pat); err != nil {
			return "", err
		}
		return v, nil
	}
	f := textnorm.Fold(v)
	if strings.HasPrefix(f, regexPrefix) {
		return "", fmt.Errorf("prompt_signature %q reads as %q once normalised; a regex signature starts with exactly %q", clip(v), regexPrefix, regexPrefix)
	}
	if n := utf8.RuneCountInString(strings.ReplaceAll(f, " ", "")); n < MinSignatureRunes {
		return "", fmt.Errorf("prompt_signature %q has %d characters once normalised, fewer than %d: it would flag benign prompts", clip(v), n, MinSignatureRunes)
	}
	return f, nil
}

// compileSignature compiles a regex signature: RE2 over folded text,
// case-insensitive, refused if it can match fewer than MinSignatureRunes
// characters (an empty match would flag every prompt).
//
// Folded text is lower case, so instead of matching case-insensitively,
// which costs package regexp its literal-prefix search and folds every
// rune, the regex's literals are lower-cased; its character classes were
// case-folded by the parser.
func compileSignature(pat string) (*regexp.Regexp, error) {
	if len(pat) > MaxRegexBytes {
		return nil, fmt.Errorf("prompt_signature regex is %d bytes, more than %d", len(pat), MaxRegexBytes)
	}
	tree, err := syntax.Parse(pat, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return nil, fmt.Errorf("prompt_signature regex %q: %v", clip(pat), err)
	}
	if n := minLen(tree); n < MinSignatureRunes {
		return nil, fmt.Errorf("prompt_signature regex %q can match %d characters, fewer than %d: it would flag benign prompts", clip(pat), n, MinSignatureRunes)
	}
	lowerLiterals(tree)
	re, err := regexp.Compile(tree.String())
	if err != nil {
		return nil, fmt.Errorf("prompt_signature regex %q: %v", clip(pat), err)
	}
	return re, nil
}

// lowerLiterals turns the case-insensitive ASCII literals of re into
// lower-case case-sensitive ones. That is exact on folded text, which is
// lower case and NFKC (so the long s and the Kelvin sign, which also fold
// to s and k, are gone). Literals with other letters keep matching
// case-insensitively: final sigma is lower case and folds with σ.
func lowerLiterals(re *syntax.Regexp) {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
		ascii := true
		for _, r := range re.Rune {
			ascii = ascii && r < utf8.RuneSelf
		}
		if ascii {
			for i, r := range re.Rune {
				if 'A' <= r && r <= 'Z' {
					re.Rune[i] = r + 'a' - 'A'
				}
			}
			re.Flags &^= syntax.FoldCase
		}
	}
	for _, sub := range re.Sub {
		lowerLiterals(sub)
	}
}

// minLen is the fewest runes re can match.
func minLen(re *syntax.Regexp) int {
	const inf = 1 << 20
	switch re.Op {
	case syntax.OpNoMatch:
		return inf
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minLen(re.Sub[0]), inf)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+minLen(s), inf)
		}
		return n
	case syntax.OpAlternate:
		n := inf
		for _, s := range re.Sub {
			n = min(n, minLen(s))
		}
		return n
	}
	return 0 // empty match, anchors, word boundaries, star, quest
}
