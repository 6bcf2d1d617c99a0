package textnorm

import (
	"sort"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// homoglyphs maps letters that look like a Latin letter to that letter, for
// matching only. Capitals are listed only where their lower case looks like
// another letter (Greek Η is "h", η is "n"). Letters with a canonical
// decomposition (ё, ά, é) need no entry: their base letter is looked up.
var homoglyphs = []struct {
	from rune
	to   byte
}{
	// Cyrillic
	{'а', 'a'}, {'в', 'b'}, {'г', 'r'}, {'е', 'e'}, {'к', 'k'}, {'м', 'm'},
	{'н', 'h'}, {'о', 'o'}, {'п', 'n'}, {'р', 'p'}, {'с', 'c'}, {'т', 't'},
	{'у', 'y'}, {'х', 'x'}, {'ь', 'b'}, {'ѕ', 's'}, {'і', 'i'}, {'ј', 'j'},
	{'ԁ', 'd'}, {'ԛ', 'q'}, {'ԝ', 'w'}, {'һ', 'h'}, {'ӏ', 'l'}, {'ү', 'y'},
	{'ҽ', 'e'}, {'ɡ', 'g'},
	// Greek
	{'α', 'a'}, {'β', 'b'}, {'γ', 'y'}, {'ε', 'e'}, {'η', 'n'}, {'ι', 'i'},
	{'κ', 'k'}, {'μ', 'u'}, {'ν', 'v'}, {'ο', 'o'}, {'ρ', 'p'}, {'τ', 't'},
	{'υ', 'u'}, {'χ', 'x'}, {'ω', 'w'}, {'ϳ', 'j'}, {'ϱ', 'p'},
	{'Η', 'h'}, {'Ζ', 'z'}, {'Μ', 'm'}, {'Ν', 'n'}, {'Υ', 'y'},
	// Armenian
	{'օ', 'o'}, {'ս', 'u'}, {'ց', 'g'}, {'ո', 'n'}, {'հ', 'h'}, {'զ', 'q'},
	// Latin letters that do not decompose to their look-alike
	{'ı', 'i'}, {'ȷ', 'j'}, {'ɑ', 'a'}, {'ɛ', 'e'}, {'ɩ', 'i'}, {'ɨ', 'i'},
	{'ɵ', 'o'}, {'ø', 'o'}, {'đ', 'd'}, {'ł', 'l'}, {'ħ', 'h'}, {'ŧ', 't'},
	{'ƀ', 'b'}, {'ʋ', 'v'},
	// small capitals
	{'ᴀ', 'a'}, {'ʙ', 'b'}, {'ᴄ', 'c'}, {'ᴅ', 'd'}, {'ᴇ', 'e'}, {'ɢ', 'g'},
	{'ʜ', 'h'}, {'ɪ', 'i'}, {'ᴊ', 'j'}, {'ᴋ', 'k'}, {'ʟ', 'l'}, {'ᴍ', 'm'},
	{'ɴ', 'n'}, {'ᴏ', 'o'}, {'ᴘ', 'p'}, {'ʀ', 'r'}, {'ꜱ', 's'}, {'ᴛ', 't'},
	{'ᴜ', 'u'}, {'ᴠ', 'v'}, {'ᴡ', 'w'}, {'ʏ', 'y'}, {'ᴢ', 'z'},
}

// letterRanges map runs of letter-like symbols that NFKC leaves alone to
// a..z: regional indicators (🇦) and negative circled and squared capitals.
var letterRanges = []struct{ lo, hi rune }{
	{0x1F150, 0x1F169},
	{0x1F170, 0x1F189},
	{0x1F1E6, 0x1F1FF},
}

// denseFold holds, for every rune below denseLimit, its folded form (lower
// case, homoglyph mapped, and reduced to its base letter when that is Latin
// or a homoglyph: é → e, ё → e, ά → a) in the low bits and its runeClass
// above classShift.
const (
	denseLimit = 0x2000
	classShift = 24
	runeMask   = 1<<classShift - 1
)

var denseFold [denseLimit]uint32

// highFold holds the homoglyphs at or above denseLimit, sorted.
var highFold []struct {
	from rune
	to   byte
}

func init() {
	byRune := make(map[rune]byte, len(homoglyphs))
	for _, h := range homoglyphs {
		byRune[h.from] = h.to
		if h.from >= denseLimit {
			highFold = append(highFold, h)
		}
	}
	sort.Slice(highFold, func(i, j int) bool { return highFold[i].from < highFold[j].from })
	for r := rune(0); r < denseLimit; r++ {
		f, class := foldOf(r, byRune), classOther
		switch {
		case r == zwj || r == zwnj || isVariationSelector(r):
			f, class = r, classSkip
		case unicode.IsSpace(r):
			f, class = ' ', classSpace
		case unicode.IsMark(r):
			f, class = r, classMark
		case f < utf8.RuneSelf || unicode.Is(unicode.Latin, f):
			class = classLatin
		}
		denseFold[r] = uint32(f) | uint32(class)<<classShift
	}
}

func foldOf(r rune, byRune map[rune]byte) rune {
	if c, ok := byRune[r]; ok {
		return rune(c)
	}
	l := unicode.ToLower(r)
	if c, ok := byRune[l]; ok {
		return rune(c)
	}
	if l < utf8.RuneSelf || !unicode.IsLetter(l) {
		return l
	}
	var buf [utf8.UTFMax]byte
	d := norm.NFD.Properties(utf8.AppendRune(buf[:0], l)).Decomposition()
	if d == nil {
		return l
	}
	base, _ := utf8.DecodeRune(d)
	switch {
	case base < utf8.RuneSelf && unicode.IsLetter(base):
		return unicode.ToLower(base)
	case byRune[base] != 0:
		return rune(byRune[base])
	}
	return l
}

// foldRune folds one rune of sanitised text.
func foldRune(r rune) rune {
	if r < denseLimit {
		return rune(denseFold[r] & runeMask)
	}
	if m := highGlyph(r); m != 0 {
		return m
	}
	l := unicode.ToLower(r)
	if l != r {
		if m := highGlyph(l); m != 0 {
			return m
		}
	}
	return l
}

func highGlyph(r rune) rune {
	if r >= letterRanges[0].lo {
		for _, lr := range letterRanges {
			if r >= lr.lo && r <= lr.hi {
				return 'a' + r - lr.lo
			}
		}
		return 0
	}
	i := sort.Search(len(highFold), func(i int) bool { return highFold[i].from >= r })
	if i < len(highFold) && highFold[i].from == r {
		return rune(highFold[i].to)
	}
	return 0
}
