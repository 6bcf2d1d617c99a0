package textnorm

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/airlock-ir/airlock/internal/swar"
)

const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// Sanitize is the gateway's input-sanitisation action. It applies NFKC
// (fullwidth and mathematical letters become plain ones, ligatures are split)
// and then removes what a reader cannot see but a tokenizer does:
//
//   - zero-width characters (U+200B..U+200F, U+2060..U+2064, U+FEFF, U+180E,
//     U+00AD soft hyphen);
//   - bidi controls (U+202A..U+202E, U+2066..U+2069, U+061C);
//   - Unicode tag characters (U+E0000..U+E007F), which spell ASCII invisibly;
//   - every other format character (category Cf) except the visible
//     prepended concatenation marks (U+0600..U+0605 and kin), and the other
//     default-ignorable code points (Hangul fillers, U+034F);
//   - control characters other than whitespace (TAB, LF, VT, FF, CR, NEL);
//   - a variation selector that does not directly follow a base character,
//     so a run of them cannot smuggle one byte per selector.
//
// U+200D ZERO WIDTH JOINER and U+200C ZERO WIDTH NON-JOINER are kept only
// where they change how visible text renders: ZWJ between two pictographs
// (emoji sequences such as 👩‍💻 or 🏳️‍🌈), and either joiner between letters
// of Arabic, Syriac or the Indic scripts (Persian and Hindi need them).
// Everywhere else, such as between Latin letters, they are removed. Emoji
// flag tag sequences (🏴 + tags) lose their tags and show as the black flag.
//
// Invalid UTF-8 bytes become U+FFFD. Sanitize returns s itself, without
// allocating, when nothing changes; pure-ASCII input without control
// characters takes a fast path. Sanitize is idempotent.
func Sanitize(s string) string {
	i := 0
	// Eight bytes at a time: stop at the first word holding a non-ASCII
	// byte, a byte below 0x20 (a control, or TAB, LF, CR) or DEL.
	for ; i+8 <= len(s); i += 8 {
		w := swar.Load64(s, i)
		below20 := (w - 0x20*swar.Lsb) &^ w & swar.Msb
		if w&swar.Msb|below20|swar.ZeroBytes(w^0x7f*swar.Lsb) != 0 { // non-ASCII, below 0x20, DEL
			break
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (c < 0x20 && !isASCIISpace(c)) || c == 0x7f {
			if isPlain(s[i:]) {
				return s
			}
			return sanitizeSlow(s)
		}
	}
	return s
}

// isPlain reports whether Sanitize would leave s unchanged, deciding the
// common cases (ASCII, CJK, Cyrillic, Arabic without harakat, emoji) with a
// table instead of package norm's slower quick check. False means "maybe".
func isPlain(s string) bool { return scanTable(s, &tables().plain) }

// isStable is like isPlain but ignores removable characters: true means s
// is in NFKC.
func isStable(s string) bool { return scanTable(s, &tables().stable) }

func scanTable(s string, t *bmpSet) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && !isASCIISpace(c) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			return false
		case r < 0x10000:
			if !t.has(r) {
				return false
			}
		case r >= 0x1F300 && r <= 0x1FAFF, // pictographs
			r >= 0x20000 && r <= 0x2F7FF, r >= 0x30000 && r <= 0x3FFFF: // CJK extensions
		default:
			return false
		}
	}
	return true
}

type bmpSet [0x10000 / 64]uint64

func (t *bmpSet) has(r rune) bool { return t[r/64]&(1<<(r%64)) != 0 }
func (t *bmpSet) add(r rune)      { t[r/64] |= 1 << (r % 64) }

// tables are built on first use (a few milliseconds) rather than at start-up.
var tables = sync.OnceValue(func() *struct{ stable, plain bmpSet } {
	t := new(struct{ stable, plain bmpSet })
	var buf [utf8.UTFMax]byte
	for r := rune(0x80); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		// stable: in NFKC and cannot combine with a neighbour.
		b := utf8.AppendRune(buf[:0], r)
		p := norm.NFKC.Properties(b)
		if p.CCC() == 0 && p.BoundaryBefore() && norm.NFKC.QuickSpan(b) == len(b) {
			t.stable.add(r)
			if !mayRemove(r) {
				t.plain.add(r)
			}
		}
	}
	return t
})

func sanitizeSlow(s string) string {
	t := prepare(s)
	if !isStable(t) && !isNFKC(t) {
		t = norm.NFKC.String(t)
	}
	for round := 0; ; round++ {
		u := strip(t)
		// Removing a character can bring a base and a combining mark
		// together ("e", ZWSP, U+0301), which NFKC composes; composing can
		// in turn change whether a joiner next to them is kept. The rounds
		// are bounded: on a run of more than 30 combining marks, package
		// norm inserts U+034F (stream-safe text) which strip removes again,
		// so "each round removes something" does not hold there.
		if len(u) == len(t) || isStable(u) || isNFKC(u) || round == maxSanitizeRounds {
			return u
		}
		t = norm.NFKC.String(u)
	}
}

// maxSanitizeRounds bounds sanitizeSlow's strip-and-normalise rounds; real
// text settles in one or two.
const maxSanitizeRounds = 4

// isNFKC is norm.NFKC.IsNormalString without its allocation in the common
// case where the quick check decides.
func isNFKC(s string) bool {
	return norm.NFKC.QuickSpanString(s) == len(s) || norm.NFKC.IsNormalString(s)
}

// prepare replaces each byte that does not start a valid UTF-8 sequence with
// U+FFFD, as ranging over the string would decode it, and replaces the
// fullwidth forms and spaces common in CJK text by the ASCII that NFKC would
// give: package norm spends about 150 ns on each, which adds up in Chinese
// text full of fullwidth punctuation. Replacing a character by its
// compatibility decomposition does not change the NFKC of the whole.
func prepare(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			if b.Cap() > 0 {
				b.WriteByte(s[i])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		c, ok := compatASCII(r)
		if !ok && (r != utf8.RuneError || n != 1) {
			if b.Cap() > 0 {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(s) + 8)
			b.WriteString(s[:i])
		}
		if ok {
			b.WriteByte(c)
		} else {
			b.WriteRune(utf8.RuneError)
		}
		i += n
	}
	if b.Cap() == 0 {
		return s
	}
	return b.String()
}

// compatASCII returns the ASCII character that is the NFKC form of r, for
// the fullwidth forms and the spaces.
func compatASCII(r rune) (byte, bool) {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return byte(r - 0xFF01 + '!'), true
	case r == 0x3000, r == 0xA0, r >= 0x2000 && r <= 0x200A, r == 0x202F, r == 0x205F:
		return ' ', true
	}
	return 0, false
}

// strip removes invisible characters from valid NFKC text, returning t
// itself if there are none.
func strip(t string) string {
	var b strings.Builder
	last := rune(-1) // last rune kept, -1 at the start
	for i, r := range t {
		if !mayRemove(r) || keep(r, last, t[i+utf8.RuneLen(r):]) {
			if b.Cap() > 0 {
				b.WriteRune(r)
			}
			last = r
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(t))
			b.WriteString(t[:i])
		}
	}
	if b.Cap() == 0 {
		return t
	}
	return b.String()
}

// removableBMP has a bit set for each rune below U+10000 that keep may
// reject, so that strip decides most runes with one lookup.
var removableBMP [0x10000 / 64]uint64

func init() {
	// Every rune keep may reject: controls, the Cf and other
	// default-ignorable ranges (a superset of invisible), joiners and
	// variation selectors. TestTablesAgreeWithSlowPath checks it.
	set := func(lo, hi rune) {
		for r := lo; r <= hi && r < 0x10000; r++ {
			removableBMP[r/64] |= 1 << (r % 64)
		}
	}
	set(0x00, 0x1F)
	set(0x7F, 0x9F)
	for _, t := range []*unicode.RangeTable{unicode.Cf, unicode.Other_Default_Ignorable_Code_Point} {
		for _, r16 := range t.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
				set(r, r)
			}
		}
	}
	set(0x180B, 0x180F)
	set(0x2060, 0x206F)
	set(0xFE00, 0xFE0F)
	for _, c := range "\t\n\v\f\r" {
		removableBMP[c/64] &^= 1 << (c % 64)
	}
}

func mayRemove(r rune) bool {
	if r < 0x10000 {
		return removableBMP[r/64]&(1<<(r%64)) != 0
	}
	return r >= 0x110BD && r <= 0x1D17A || r >= 0xE0000 && r <= 0xE0FFF
}

// keep reports whether Sanitize keeps r, given the last rune kept before it
// and the text after it.
func keep(r, last rune, rest string) bool {
	switch {
	case r < 0x80:
		return r >= 0x20 && r != 0x7f || isASCIISpace(byte(r))
	case r < 0xA0:
		return r == 0x85 // NEL is whitespace; the other C1 controls are not text
	case r == zwj || r == zwnj:
		next, _ := utf8.DecodeRuneInString(rest)
		return joinerMatters(r, last, next)
	case isVariationSelector(r):
		return last >= 0 && !isVariationSelector(last) && last != zwj && last != zwnj && !unicode.IsSpace(last)
	}
	return !invisible(r)
}

func isASCIISpace(c byte) bool {
	return c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// invisible reports whether r, other than a joiner or variation selector, is
// a character Sanitize removes.
func invisible(r rune) bool {
	switch {
	case r == 0xAD, r == 0x061C, r == 0x180E, r == 0xFEFF,
		r >= 0x200B && r <= 0x200F,
		r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F,
		r >= 0xE0000 && r <= 0xE007F:
		return true
	case r < 0x034F:
		return false
	case unicode.Is(unicode.Cf, r):
		return !unicode.Is(unicode.Prepended_Concatenation_Mark, r)
	}
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

func isVariationSelector(r rune) bool {
	return r >= 0xFE00 && r <= 0xFE0F ||
		r >= 0x180B && r <= 0x180D || r == 0x180F ||
		r >= 0xE0100 && r <= 0xE01EF
}

// joinerMatters reports whether the joiner j between prev and next changes
// how visible text renders.
func joinerMatters(j, prev, next rune) bool {
	if j == zwj && (isPictograph(prev) || prev == 0xFE0F || isSkinTone(prev)) && isPictograph(next) {
		return true
	}
	return joinerScriptRune(prev) && joinerScriptRune(next) &&
		(joinerScriptLetter(prev) || joinerScriptLetter(next)) &&
		!mayRemove(prev) && !mayRemove(next) // CGJ and variation selectors are Inherited marks too
}

// isPictograph approximates Extended_Pictographic, which package unicode
// does not provide: the symbols emoji sequences are built from.
func isPictograph(r rune) bool {
	switch {
	case r == 0xA9, r == 0xAE:
		return true
	case r >= 0x1F000 && r <= 0x1FAFF:
		return !isSkinTone(r) && !(r >= 0x1F1E6 && r <= 0x1F1FF)
	case r >= 0x2000:
		return unicode.Is(unicode.So, r)
	}
	return false
}

func isSkinTone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

var joinerScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Devanagari, unicode.Bengali,
	unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya, unicode.Tamil,
	unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala,
}

func joinerScriptLetter(r rune) bool {
	return r >= 0x0600 && unicode.IsLetter(r) && unicode.IsOneOf(joinerScripts, r)
}

// joinerScriptRune accepts the letters and marks of a joining script,
// including the script-neutral (Inherited) marks such as Arabic harakat.
func joinerScriptRune(r rune) bool {
	if r < 0x0300 {
		return false
	}
	if unicode.IsMark(r) {
		return unicode.Is(unicode.Inherited, r) || unicode.IsOneOf(joinerScripts, r)
	}
	return joinerScriptLetter(r)
}
