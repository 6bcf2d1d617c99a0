package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// leet maps the ASCII characters that leetspeak puts in place of letters.
var leet = [utf8.RuneSelf]byte{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's',
}

// Deleet undoes leetspeak in every token (a run of non-space characters)
// that contains at least one letter: "1gn0r3" → "ignore", "p@$$word" →
// "password". Tokens without a letter, such as "2024" or "$100", are left
// alone. Text without anything to change is returned unchanged, without
// allocating.
func Deleet(s string) string {
	if !hasLeet(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		end := tokenEnd(s, i)
		tok := s[i:end]
		if changes := hasLeet(tok) && hasLetter(tok); changes || b.Cap() > 0 {
			if b.Cap() == 0 {
				b.Grow(len(s))
				b.WriteString(s[:i])
			}
			if changes {
				for j := 0; j < len(tok); j++ {
					c := tok[j]
					if c < utf8.RuneSelf && leet[c] != 0 {
						c = leet[c]
					}
					b.WriteByte(c)
				}
			} else {
				b.WriteString(tok)
			}
		}
		// Copy the whitespace after the token.
		j := end
		for j < len(s) {
			r, n := rune(s[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[j:])
			}
			if !unicode.IsSpace(r) {
				break
			}
			j += n
		}
		if b.Cap() > 0 {
			b.WriteString(s[end:j])
		}
		i = j
	}
	if b.Cap() == 0 {
		return s
	}
	return b.String()
}

func tokenEnd(s string, i int) int {
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}

func hasLeet(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < utf8.RuneSelf && leet[c] != 0 {
			return true
		}
	}
	return false
}

func hasLetter(tok string) bool {
	for _, r := range tok {
		if r < utf8.RuneSelf && asciiWord[r] && (r < '0' || r > '9') && r != '@' && r != '$' ||
			r >= utf8.RuneSelf && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
