package drift

import (
	"unicode"
	"unicode/utf8"
)

// Tokens are what the trigger signal counts and the golden similarity
// compares: runs of ASCII letters and digits folded to lower case, joined
// across a single '-' or '_' between them (so "cf-trigger" and "snake_case"
// are one token each), and runs of non-ASCII letters and digits kept as
// they are. Everything else separates tokens, invalid UTF-8 included, so a
// hostile input cannot make a token out of garbage bytes.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix is the splitmix64 finaliser: FNV-1a's low bits are weak, and both the
// sketch's buckets and SimHash's votes need every bit to carry entropy.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// token is one token found by scan: its hash, where it is in the text,
// whether it is only digits, and for a token of at least stemLen bytes the
// hash of its first stemLen bytes (0 for shorter ones), so that "refunds"
// in a prompt can be found as "refund" in an answer.
type token struct {
	hash, stem uint64
	start, end int
	digits     bool
}

const (
	stemLen = 5
	stemTag = 0x9e3779b97f4a7c15 // keeps a stem's hash apart from a whole token's
)

// Character classes of ASCII bytes, for the tokenizer's fast path.
const (
	classNone = iota
	classLower
	classUpper
	classDigit
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLower
		t[c-'a'+'A'] = classUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	return t
}()

// tokenizer walks the tokens of s.
type tokenizer struct {
	s string
	i int
}

// next finds the next token, reporting false at the end of the text.
func (z *tokenizer) next(t *token) bool {
	s, i := z.s, z.i
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiClass[c] != classNone {
				break
			}
			i++
			continue
		}
		size, ok, _ := wordRune(s, i)
		if ok {
			break
		}
		i += size
	}
	if i >= len(s) {
		z.i = i
		return false
	}
	start := i
	h, stem := uint64(fnvOffset), uint64(0)
	n, digits := 0, true
	for i < len(s) {
		c := s[i]
		size, digit := 1, false
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case classNone:
				if (c == '-' || c == '_') && i+1 < len(s) && startsWord(s, i+1) {
					h = (h ^ uint64(c)) * fnvPrime
					i++
					continue
				}
				goto done
			case classUpper:
				c += 'a' - 'A'
			case classDigit:
				digit = true
			}
			h = (h ^ uint64(c)) * fnvPrime
			n++
		} else {
			var ok bool
			if size, ok, digit = wordRune(s, i); !ok {
				break
			}
			for k := i; k < i+size; k++ {
				h = (h ^ uint64(s[k])) * fnvPrime
			}
			n += size
		}
		digits = digits && digit
		i += size
		if stem == 0 && n >= stemLen {
			stem = mix(h ^ stemTag)
		}
	}
done:
	*t = token{hash: mix(h), stem: stem, start: start, end: i, digits: digits}
	z.i = i
	return true
}

// wordRune reports the size of the character at s[i] and whether it is a
// letter or digit, as a token character.
func wordRune(s string, i int) (size int, ok, digit bool) {
	if c := s[i]; c < utf8.RuneSelf {
		cl := asciiClass[c]
		return 1, cl != classNone, cl == classDigit
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		return 1, false, false
	case unicode.IsLetter(r):
		return size, true, false
	case unicode.IsDigit(r):
		return size, true, true
	}
	return size, false, false
}

func startsWord(s string, i int) bool {
	_, ok, _ := wordRune(s, i)
	return ok
}

// scan calls f for every token of s, in order.
func scan(s string, f func(token)) {
	z := tokenizer{s: s}
	var t token
	for z.next(&t) {
		f(t)
	}
}

// tail returns about the last n bytes of s, starting at a token boundary,
// so that the token the cut falls in is dropped rather than counted as a
// different, shorter token.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			return s[i:]
		}
	}
	return ""
}

// head returns at most the first n bytes of s.
func head(s string, n int) string { return s[:min(len(s), n)] }

// simAcc adds up, for each of the 64 bit positions, how many features have
// that bit set, to make a SimHash. The 64 counters are bit-sliced: planes[i]
// holds bit i of every counter, so adding a feature is a ripple-carry add
// that touches two planes on average instead of 64 counters.
type simAcc struct {
	planes [16]uint64
	n      int
}

func (a *simAcc) add(x uint64) {
	if a.n == 1<<16-1 {
		return
	}
	a.n++
	for i := range a.planes {
		t := a.planes[i] & x
		a.planes[i] ^= x
		x = t
		if x == 0 {
			return
		}
	}
}

// hash sets bit j when more than half the features have bit j set.
func (a *simAcc) hash() uint64 {
	half := uint64(a.n / 2)
	var gt uint64
	eq := ^uint64(0)
	for i := len(a.planes) - 1; i >= 0; i-- {
		p := a.planes[i]
		if half>>i&1 == 1 {
			eq &= p
		} else {
			gt |= eq & p
			eq &^= p
		}
	}
	return gt
}

// hashSet is a set of token hashes for one text, reused from event to
// event: open addressing, cleared in constant time by bumping a generation.
type hashSet struct {
	keys []uint64
	gen  []uint32
	cur  uint32
	n    int
}

func newHashSet(capacity int) *hashSet {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	return &hashSet{keys: make([]uint64, size), gen: make([]uint32, size), cur: 1}
}

func (s *hashSet) reset() {
	s.n = 0
	s.cur++
	if s.cur == 0 { // wrapped: old generations could look current
		clear(s.gen)
		s.cur = 1
	}
}

// add inserts h and reports whether it was new. A full set (half its
// slots) refuses new keys; callers bound what they insert.
func (s *hashSet) add(h uint64) bool {
	mask := len(s.keys) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		if s.gen[i] != s.cur {
			if 2*(s.n+1) > len(s.keys) {
				return false
			}
			s.keys[i], s.gen[i] = h, s.cur
			s.n++
			return true
		}
		if s.keys[i] == h {
			return false
		}
	}
}

func (s *hashSet) has(h uint64) bool {
	mask := len(s.keys) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		if s.gen[i] != s.cur {
			return false
		}
		if s.keys[i] == h {
			return true
		}
	}
}
