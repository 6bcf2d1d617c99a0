package drift

import (
	"math/bits"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/swar"
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

// mix spreads a hash over all 64 bits (see detect.Mix64).
func mix(x uint64) uint64 { return detect.Mix64(x) }

// token is one token found by scan: its hash, where it is in the text and
// whether it is only digits. Its stem, for a token of at least stemLen
// letters and digits, is the hash of its start up to the stemLen-th, so
// that "refunds" in a prompt can be found as "refund" in an answer; it is
// worked out only when needed (stem).
//
// A token is hashed eight bytes at a time, as the bytes stand once ASCII
// letters are lower-cased (and '_' made 0x7f: c|0x20 for every ASCII byte
// a token can hold, which keeps '-' and digits as they are): each
// eight-byte word, little-endian and zero-padded, is xored into the state
// and mixed. Tokens hold no zero byte, so padding cannot make two tokens
// alike, and a token of up to eight bytes, most of them, costs one mix.
type token struct {
	hash       uint64
	start, end int
	digits     bool
}

const (
	stemLen  = 5
	stemTag  = 0x9e3779b97f4a7c15 // seeds a stem's hash, apart from a whole token's
	tokenTag = 0x243f6a8885a308d3 // seeds a whole token's hash
)

// Character classes of ASCII bytes, for the tokenizer's slow path.
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

// tokenizer walks the tokens of s, a block of 64 bytes at a time: the
// letters, digits and joiners of a block are found eight bytes at a time
// as bit masks (SWAR), and its tokens are the runs of the mask. A token
// that may go on past the block starts the next one; a token next to a
// non-ASCII byte, which may be a letter, is read byte by byte (slowToken).
type tokenizer struct {
	s string
	i int // where reading resumes, never inside a token
}

// fill appends the next tokens to out until out is full (its capacity,
// which must not be zero) or the text ends.
func (z *tokenizer) fill(out []token) []token {
	for len(out) < cap(out) && z.i < len(z.s) {
		out, z.i = readBlock(z.s, z.i, out)
	}
	return out
}

// readBlock appends the tokens of the 64 bytes of s from p (fewer at its
// end) to out, as many as fit, and returns where reading resumes. The
// block is read from a zero-padded copy, as digestText reads it.
func readBlock(s string, p int, out []token) ([]token, int) {
	var w window
	if n := copy(w[:], s[p:]); n < len(w) {
		clear(w[n:])
	}
	word, digits, joins, high := classify(&w)
	// A joiner belongs to a token between a letter or digit and a letter
	// or digit, or a non-ASCII byte, which sends the token to slowToken.
	tok := word | joins&(word<<1)&((word|high)>>1)
	q := 64 // the first non-ASCII byte, 64 if none
	if high != 0 {
		q = bits.TrailingZeros64(high)
	}
	next := p + 64 // with every token of the block read
	slow := false
	// A token ending at limit or later is read another way: one next to
	// a non-ASCII byte byte by byte, from its start; one that may go on
	// past the block (whose last byte may be a joiner) in the next block,
	// or byte by byte if it fills this one.
	limit := 63
	switch {
	case q < 64:
		next, slow, limit = p+q, true, q // then the non-ASCII byte, byte by byte
	case p+64 >= len(s):
		limit = 65 // the block holds the rest of the text
	}
	nonDigits := word &^ digits
	// Where tokens start and where they end (the bit after each, none for
	// a token reaching the block's end), taken lowest first: two short
	// chains, where following each run from its start would be one long
	// one. The tokens go to dst[:k], the room left in out.
	starts, ends := tok&^(tok<<1), tok<<1&^tok
	dst := out[len(out):cap(out)]
	k, a, e := 0, 0, 0
	stopped := false
	for starts != 0 {
		a, e = bits.TrailingZeros64(starts), bits.TrailingZeros64(ends)
		starts &= starts - 1
		ends &= ends - 1
		if e >= limit || k == len(dst) {
			stopped = true
			break
		}
		n := e - a
		h := mix(tokenTag ^ (w.word(a)|0x20*swar.Lsb)&byteMasks[min(uint(n), 8)]) // lower case ('_' becomes 0x7f)
		for j := a + 8; j < e; j += 8 {
			h = mix(h ^ (w.word(j)|0x20*swar.Lsb)&byteMasks[min(uint(e-j), 8)])
		}
		// Field by field: a composite literal is built on the stack and
		// copied with wider loads than its stores, which stalls store
		// forwarding.
		t := &dst[k]
		t.hash, t.start, t.end, t.digits = h, p+a, p+e, nonDigits>>a&(1<<n-1) == 0
		k++
	}
	out = out[:len(out)+k]
	switch {
	case !stopped:
	case k == len(dst):
		next, slow = p+min(a, q), false // out is full: from here on, next time
	case a < q:
		next, slow = p+a, q < 64 || a == 0
	}
	if slow {
		next = slowNext(s, next, &out)
	}
	return out, min(next, len(s))
}

// slowNext reads one token from i byte by byte, skipping what precedes it,
// appends it to out and returns where it ends; with no token left, or no
// room in out, it returns where the token would start.
func slowNext(s string, i int, out *[]token) int {
	i = skipSeparators(s, i)
	if i >= len(s) || len(*out) == cap(*out) {
		return i
	}
	*out = (*out)[:len(*out)+1]
	t := &(*out)[len(*out)-1]
	slowToken(s, i, t)
	return t.end
}

// skipSeparators returns where the next token from i starts, len(s) if
// none does.
func skipSeparators(s string, i int) int {
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
	return i
}

// slowToken reads the token at s[start] byte by byte: tokens with
// non-ASCII letters or joined by '-' or '_'. It hashes as readBlock does.
func slowToken(s string, start int, t *token) {
	i := start
	h := uint64(tokenTag)
	var word uint64 // the bytes of the current eight-byte word
	nb := 0         // bytes hashed
	digits := true
	add := func(c byte) {
		word |= uint64(c) << (8 * (nb & 7))
		nb++
		if nb&7 == 0 {
			h = mix(h ^ word)
			word = 0
		}
	}
	for i < len(s) {
		c := s[i]
		size, digit := 1, false
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case classNone:
				if (c == '-' || c == '_') && i+1 < len(s) && startsWord(s, i+1) {
					add(c | 0x20)
					i++
					continue
				}
				goto done
			case classUpper:
				c += 'a' - 'A'
			case classDigit:
				digit = true
			}
			add(c)
		} else {
			var ok bool
			if size, ok, digit = wordRune(s, i); !ok {
				break
			}
			for k := i; k < i+size; k++ {
				add(s[k])
			}
		}
		digits = digits && digit
		i += size
	}
done:
	if nb&7 != 0 {
		h = mix(h ^ word)
	}
	t.hash, t.start, t.end, t.digits = h, start, i, digits
}

// stem returns the hash of the token's start, up to and with its
// stemLen-th letter or digit (a non-ASCII one counts as its bytes), hashed
// as tokens are from the stem's seed; 0 for a shorter token. s is the
// text the token was read from.
func (t *token) stem(s string) uint64 {
	var prefix [16]byte // at most four joiners and a four-byte letter past four letters
	nb, n := 0, 0
	for i := t.start; i < t.end && n < stemLen; {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] != classNone {
				n++
			}
			prefix[nb] = c | 0x20 // lower case, as hashed
			nb++
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		nb += copy(prefix[nb:], s[i:i+size])
		n += size
		i += size
	}
	if n < stemLen {
		return 0
	}
	h := uint64(stemTag)
	for b := prefix[:nb]; len(b) > 0; b = b[min(8, len(b)):] {
		var w uint64
		for k := 0; k < 8 && k < len(b); k++ {
			w |= uint64(b[k]) << (8 * k)
		}
		h = mix(h ^ w)
	}
	return h
}

// gather packs the high bits of v's bytes into eight bits, byte i's as
// bit i: the multiplication moves each to its own bit of the top byte,
// without carries.
func gather(v uint64) uint64 { return (v >> 7) * 0x0102040810204080 >> 56 }

// byteMasks[n] keeps the first n bytes of a word.
var byteMasks = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, 0xffffffffffffffff}

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
	var buf [64]token
	for {
		toks := z.fill(buf[:0])
		if len(toks) == 0 {
			return
		}
		for _, t := range toks {
			f(t)
		}
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

// hashSet is a set of token hashes for one text, reused from event to
// event: open addressing, cleared in constant time by bumping a generation.
type hashSet struct {
	slots []hashSlot
	cur   uint32
	n     int
}

// hashSlot keeps a key with its generation: one cache line to look at.
type hashSlot struct {
	key uint64
	gen uint32
}

func newHashSet(capacity int) *hashSet {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	return &hashSet{slots: make([]hashSlot, size), cur: 1}
}

func (s *hashSet) reset() {
	s.n = 0
	s.cur++
	if s.cur == 0 { // wrapped: old generations could look current
		clear(s.slots)
		s.cur = 1
	}
}

// add inserts h and reports whether it was new. A full set (half its
// slots) refuses new keys; callers bound what they insert.
func (s *hashSet) add(h uint64) bool {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := &s.slots[i]
		if e.gen != s.cur {
			if 2*(s.n+1) > len(s.slots) {
				return false
			}
			e.key, e.gen = h, s.cur
			s.n++
			return true
		}
		if e.key == h {
			return false
		}
	}
}

// insert is add for callers that act on the answer without branching on
// it: 1 if h was new, 0 if not. With few keys in the set, the slot h maps
// to is nearly always free or h's own, and that case takes no branch that
// depends on which it is.
func (s *hashSet) insert(h uint64) int {
	e := &s.slots[int(h)&(len(s.slots)-1)]
	taken, other := b2i(e.gen == s.cur), b2i(e.key != h)
	if taken&other != 0 || 2*(s.n+1) > len(s.slots) {
		return b2i(s.add(h)) // a collision, or nearly full: rare
	}
	e.key, e.gen = h, s.cur
	s.n += 1 - taken
	return 1 - taken
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *hashSet) has(h uint64) bool {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := &s.slots[i]
		if e.gen != s.cur {
			return false
		}
		if e.key == h {
			return true
		}
	}
}
