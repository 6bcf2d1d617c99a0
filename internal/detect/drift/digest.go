package drift

import (
	"math/bits"

	"github.com/airlock-ir/airlock/internal/swar"
)

// An answer is known by a digest of its tokens, every number alike, so
// that answers differing only in spacing, case, punctuation or a number
// are the same answer. Most answers are given once and need nothing more
// than the digest: digestText walks the text as the tokenizer does
// (readBlock, slowNext) but folds each token into the digest as it is
// found instead of storing it. The answer's tokens themselves are read
// only when a cluster starts (readAnswer).

// digestMul is odd, so each step of the digest is a bijection.
const digestMul = 0xff51afd7ed558ccd

// digestTokens adds tokens to a digest and their lengths (and a separator
// each) to size.
func digestTokens(h uint64, size int, toks []token) (uint64, int) {
	for i := range toks {
		t := &toks[i]
		h, size = digestToken(h, size, t.hash, t.end-t.start, t.digits)
	}
	return h, size
}

// digestToken adds one token, its hash th, n bytes long, to a digest.
func digestToken(h uint64, size int, th uint64, n int, digits bool) (uint64, int) {
	if digits {
		th = digitsToken
	}
	return (h ^ th) * digestMul, size + n + 1
}

// digestText returns what digestTokens gives, from fnvOffset and 0, for
// every token of s.
func digestText(s string) (h uint64, size int) {
	h = fnvOffset
	// Each block is read from a copy of its bytes, zero-padded past the
	// end of s (a zero separates tokens): a window of fixed size, read
	// eight bytes at a time without a bounds or length check.
	var w window
	for p := 0; p < len(s); {
		if n := copy(w[:], s[p:]); n < len(w) {
			clear(w[n:])
		}
		var next int
		var slow bool
		h, size, next, slow = digestBlock(&w, len(s)-p, h, size)
		next += p
		if slow {
			h, size, next = digestSlow(s, next, h, size)
		}
		p = min(next, len(s))
	}
	return h, size
}

// blockReach is how far past its start a block may read: its 64 bytes,
// and eight bytes from the start of a token in it that ends by its last.
const blockReach = 64 + 8

// window holds the bytes of a block, zeros past the end of the text.
type window [blockReach]byte

// word returns the eight bytes of w from i, little-endian; i is below 64,
// as a token's start, a group's or a token's next eight bytes are (the
// mask only spares a bounds check).
func (w *window) word(i int) uint64 {
	return swar.Load64(w[:], i&(blockReach-8-1))
}

// digestBlock is readBlock with room for every token, each added to the
// digest h and size instead of stored, on the block held by w, whose text
// goes on for rest bytes from its start. It returns where reading resumes,
// from the block's start, and whether a token must be read there byte by
// byte (digestSlow). The two must find the same tokens:
// TestDigestTextMatchesTokenizer.
func digestBlock(w *window, rest int, h uint64, size int) (uint64, int, int, bool) {
	word, digits, joins, high := classify(w)
	tok := word | joins&(word<<1)&((word|high)>>1)
	q := 64
	if high != 0 {
		q = bits.TrailingZeros64(high)
	}
	limit := 63
	switch {
	case q < 64:
		limit = q
	case rest <= 64:
		limit = 65
	}
	nonDigits := word &^ digits
	starts, ends := tok&^(tok<<1), tok<<1&^tok
	for starts != 0 {
		// The token's bits are those from its start's up to its end's,
		// or to the top when it reaches the block's end (no end bit).
		sbit, ebit := starts&-starts, ends&-ends
		starts &^= sbit
		ends &^= ebit
		a, e := bits.TrailingZeros64(sbit), bits.TrailingZeros64(ebit)
		if e >= limit {
			if a < q {
				return h, size, a, q < 64 || a == 0
			}
			break
		}
		th := mix(tokenTag ^ (w.word(a)|0x20*swar.Lsb)&byteMasks[min(uint(e-a), 8)])
		for j := a + 8; j < e; j += 8 {
			th = mix(th ^ (w.word(j)|0x20*swar.Lsb)&byteMasks[min(uint(e-j), 8)])
		}
		h, size = digestToken(h, size, th, e-a, nonDigits&(ebit-sbit) == 0)
	}
	if q < 64 {
		return h, size, q, true
	}
	return h, size, 64, false
}

// classify returns the bit masks of the 64 bytes of w that are ASCII
// letters or digits (word), digits, joiners ('-', '_') and non-ASCII.
// (b|0x80) - k has its high bit set when b ≥ k and never borrows from the
// next byte; non-ASCII bytes are masked out. Digits, joiners and
// non-ASCII bytes are rare enough in prose to test for before gathering
// their bits, joiners with a test that may say yes after a byte that is
// one, never no when there is one.
func classify(w *window) (word, digits, joins, high uint64) {
	for g := 0; g < 8; g++ {
		v := w.word(8 * g)
		lower := v | 0x20*swar.Lsb
		l := ((lower | swar.Msb) - 'a'*swar.Lsb) &^ ((lower | swar.Msb) - ('z'+1)*swar.Lsb)
		d := ((v | swar.Msb) - '0'*swar.Lsb) &^ ((v | swar.Msb) - ('9'+1)*swar.Lsb) &^ v & swar.Msb
		hi := v & swar.Msb
		word |= gather(l&swar.Msb&^hi|d) << (8 * g)
		if d != 0 {
			digits |= gather(d) << (8 * g)
		}
		if x, y := v^'-'*swar.Lsb, v^'_'*swar.Lsb; ((x-swar.Lsb)&^x|(y-swar.Lsb)&^y)&swar.Msb != 0 {
			joins |= gather(swar.ZeroBytes(x)|swar.ZeroBytes(y)) << (8 * g)
		}
		if hi != 0 {
			high |= gather(hi) << (8 * g)
		}
	}
	return word, digits, joins, high
}

// digestSlow is slowNext for digestText: it adds the token from i, if
// there is one, and returns where it ends.
func digestSlow(s string, i int, h uint64, size int) (uint64, int, int) {
	i = skipSeparators(s, i)
	if i >= len(s) {
		return h, size, i
	}
	var t token
	slowToken(s, i, &t)
	h, size = digestToken(h, size, t.hash, t.end-t.start, t.digits)
	return h, size, t.end
}
