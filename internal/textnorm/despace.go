package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// minSpacedRun is how many single letters in a row count as spaced-out
// writing; three would join "U S A" and "a b c" in ordinary text.
const minSpacedRun = 4

// maxGap is the longest separator, in runes, between two spaced letters.
const maxGap = 3

// Despace joins single letters written apart, "i g n o r e" or
// "i.g.n.o.r.e" → "ignore", when at least four appear in a row separated by
// up to three spaces or punctuation characters. A separator that differs
// from the run's usual one ("i g n o r e  p r e v" with a double space, or
// "i-g-n / p-r-e-v") marks a word break and becomes one space. Digits, "@"
// and "$" count as letters so that spaced leetspeak ("1 g n 0 r 3") joins
// too. Text without such a run is returned unchanged, without allocating.
func Despace(s string) string {
	if !hasSpacedRun(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		seg := nextSegment(s, i)
		if !seg.single {
			b.WriteString(s[seg.start:seg.end])
			i = seg.end
			continue
		}
		end, letters, usual := scanRun(s, seg)
		if letters < minSpacedRun {
			b.WriteString(s[seg.start:seg.end])
			i = seg.end
			continue
		}
		for j := seg.start; j < end; {
			part := nextSegment(s, j)
			switch g := s[part.start:part.end]; {
			case part.word:
				b.WriteString(g)
			case g != usual:
				b.WriteByte(' ')
			}
			j = part.end
		}
		i = end
	}
	return b.String()
}

// scanRun follows the run of single letters that starts with first and
// returns where its last letter ends, how many letters it has and its most
// frequent gap, the one between letters of the same word.
func scanRun(s string, first segment) (end, letters int, usual string) {
	var gaps [4]struct {
		gap string
		n   int
	}
	end, letters = first.end, 1
	for end < len(s) {
		gap := nextSegment(s, end)
		if gap.wide || gap.end == len(s) {
			break
		}
		next := nextSegment(s, gap.end)
		if !next.single {
			break
		}
		g := s[gap.start:gap.end]
		for k := range gaps {
			if gaps[k].gap == g || gaps[k].n == 0 {
				gaps[k].gap = g
				gaps[k].n++
				break
			}
		}
		end, letters = next.end, letters+1
	}
	best := 0
	for k := range gaps {
		if gaps[k].n > gaps[best].n || gaps[k].n == gaps[best].n && gaps[k].n > 0 && len(gaps[k].gap) < len(gaps[best].gap) {
			best = k
		}
	}
	return end, letters, gaps[best].gap
}

type segment struct {
	start, end int
	word       bool // letters, digits and marks; otherwise a gap
	single     bool // a word of one letter plus its marks
	wide       bool // a gap too wide to join across
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '@' || c == '$'
	}
	return t
}()

// nextSegment returns the word or gap that starts at s[i].
func nextSegment(s string, i int) segment {
	seg := segment{start: i}
	letters, runes := 0, 0
	for ; i < len(s); runes++ {
		if c := s[i]; c < utf8.RuneSelf {
			if runes == 0 {
				seg.word = asciiWord[c]
			} else if asciiWord[c] != seg.word {
				break
			}
			letters++
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if runes == 0 {
			seg.word = isWordRune(r)
		} else if isWordRune(r) != seg.word {
			break
		}
		if !unicode.IsMark(r) {
			letters++
		}
		i += n
	}
	seg.end = i
	seg.single = seg.word && letters == 1
	seg.wide = !seg.word && runes > maxGap
	return seg
}

// hasSpacedRun reports, without allocating, whether Despace would change s.
// It walks s once, byte by byte where s is ASCII.
func hasSpacedRun(s string) bool {
	run := 0          // single letters in the current run
	gap := 0          // runes in the gap since the last word
	letters := 0      // letters in the current word
	inWord := false   // inside a word
	joinable := false // the current word follows a single letter across a narrow gap
	endWord := func() bool {
		switch {
		case letters != 1:
			run = 0
		case joinable:
			run++
		default:
			run = 1
		}
		inWord, gap = false, 0
		return run >= minSpacedRun
	}
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		var word bool
		if r < utf8.RuneSelf {
			word = asciiWord[r]
		} else {
			r, n = utf8.DecodeRuneInString(s[i:])
			word = isWordRune(r)
		}
		i += n
		if word {
			if !inWord {
				inWord, letters = true, 0
				joinable = run > 0 && gap <= maxGap
			}
			if r < utf8.RuneSelf || !unicode.IsMark(r) {
				letters++
			}
			continue
		}
		if inWord && endWord() {
			return true
		}
		gap++
	}
	return inWord && endWord()
}
