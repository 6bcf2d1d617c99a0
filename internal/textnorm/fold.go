package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold is for matching, never for forwarding. It sanitises s, lower-cases
// it, maps homoglyphs to the Latin letter they imitate (Cyrillic "о" → "o",
// Greek "ν" → "v", small capitals, regional indicators), reduces accented
// Latin letters to their base (é → e), drops combining marks that follow a
// Latin letter (so "zalgo" text folds too), drops the joiners and variation
// selectors Sanitize keeps, collapses every run of whitespace to one space
// and trims the ends. Marks on other scripts (Devanagari vowel signs,
// Arabic harakat) are kept.
//
// Fold returns s itself, without allocating, when it is ASCII and already
// folded. Fold is idempotent, and its result is sanitised.
func Fold(s string) string { return fold(s, true) }

// fold implements Fold; with collapse false every whitespace rune becomes
// one space but runs are kept, so that Despace can see where words end.
func fold(s string, collapse bool) string { return foldRounds(s, collapse, 0) }

// foldRounds is fold with a bound on its re-normalising rounds (see
// maxSanitizeRounds).
func foldRounds(s string, collapse bool, round int) string {
	t := Sanitize(s)
	if isFoldedASCII(t, collapse) {
		return t
	}
	var b strings.Builder
	b.Grow(len(t))
	space := false    // a space is owed before the next rune (collapse only)
	dropMarks := true // marks after a Latin letter, a space or nothing are noise
	nonASCII := false
	for i := 0; i < len(t); {
		if c := t[i]; c < utf8.RuneSelf {
			if asciiKeep[c] { // copy a run of bytes that fold to themselves
				j := i + 1
				for j < len(t) && t[j] < utf8.RuneSelf && asciiKeep[t[j]] {
					j++
				}
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteString(t[i:j])
				i = j
				dropMarks = true
				continue
			}
			i++
			if 'A' <= c && c <= 'Z' {
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteByte(c + 'a' - 'A')
				dropMarks = true
				continue
			}
			// whitespace: Sanitize left no other ASCII controls
			dropMarks = true
			if !collapse {
				b.WriteByte(' ')
			} else if b.Len() > 0 {
				space = true
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(t[i:])
		i += n
		f, class := foldClass(r)
		switch class {
		case classSkip:
			continue
		case classSpace:
			dropMarks = true
			if !collapse {
				b.WriteByte(' ')
			} else if b.Len() > 0 {
				space = true
			}
			continue
		case classMark:
			if dropMarks {
				continue
			}
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(f)
		if class != classMark {
			dropMarks = class == classLatin
		}
		nonASCII = true
	}
	out := b.String()
	// Dropping a joiner or variation selector, or lower-casing, can bring a
	// base and a mark together that NFKC composes ("か", U+FE00, U+3099).
	if nonASCII && round < maxSanitizeRounds && !isStable(out) && !isNFKC(out) {
		return foldRounds(norm.NFKC.String(out), collapse, round+1)
	}
	return out
}

// asciiKeep marks the ASCII bytes that fold copies unchanged.
var asciiKeep = func() (t [utf8.RuneSelf]bool) {
	for c := ' ' + 1; c < 0x7f; c++ {
		t[c] = c < 'A' || c > 'Z'
	}
	return t
}()

type runeClass uint8

const (
	classOther runeClass = iota // folds to a non-Latin letter, digit or symbol
	classLatin                  // folds to a Latin letter: marks after it are dropped
	classMark
	classSpace
	classSkip // joiners and variation selectors
)

// foldClass returns what r folds to and its class.
func foldClass(r rune) (rune, runeClass) {
	if r < denseLimit {
		e := denseFold[r]
		return rune(e & runeMask), runeClass(e >> classShift)
	}
	switch {
	case r >= 0x3040 && r <= 0x9FFF && r != 0x3099 && r != 0x309A, // kana and CJK
		r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables
		return r, classOther
	case r == zwj || r == zwnj || isVariationSelector(r):
		return r, classSkip
	case unicode.IsSpace(r):
		return ' ', classSpace
	case unicode.IsMark(r):
		return r, classMark
	}
	f := foldRune(r)
	if f < utf8.RuneSelf || unicode.Is(unicode.Latin, f) {
		return f, classLatin
	}
	return f, classOther
}

// isFoldedASCII reports whether t is ASCII that fold would return unchanged.
func isFoldedASCII(t string, collapse bool) bool {
	prevSpace := true // true at the start: a leading space is trimmed
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= utf8.RuneSelf, 'A' <= c && c <= 'Z':
			return false
		case c == ' ':
			if collapse && prevSpace {
				return false
			}
			prevSpace = true
		case isASCIISpace(c):
			return false
		default:
			prevSpace = false
		}
	}
	return !collapse || !prevSpace || len(t) == 0
}

// collapseSpaces turns runs of spaces into one and trims the ends, returning
// t itself if there is nothing to do. t holds no whitespace but ' '.
func collapseSpaces(t string) string {
	if !strings.Contains(t, "  ") && !strings.HasPrefix(t, " ") && !strings.HasSuffix(t, " ") {
		return t
	}
	var b strings.Builder
	b.Grow(len(t))
	for f := range strings.FieldsSeq(t) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}
