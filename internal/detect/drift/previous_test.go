package drift

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/swar"
)

// The versions before the present ones of functions rewritten to be
// cheaper, which must decide as they did.

// TestReadBlockMatchesPrevious: readBlock finds, from every start and
// with any room left in out, the tokens the version before it found, and
// resumes where it did.
func TestReadBlockMatchesPrevious(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	n := 30000
	if raceEnabled || testing.Short() {
		n = 5000
	}
	w := newWords(12, 500)
	for i := range n {
		var s string
		if i%4 == 0 {
			s = w.sentence(1, 40)
		} else {
			var b strings.Builder
			for range rng.IntN(60) {
				b.WriteString(answerPieces[rng.IntN(len(answerPieces))])
			}
			s = b.String()
		}
		if len(s) == 0 {
			continue
		}
		p := rng.IntN(len(s))
		room := 1 + rng.IntN(70)
		used := rng.IntN(room)
		out := make([]token, used, room)
		got, gotNext := readBlock(s, p, out)
		want, wantNext := readBlockPrevious(s, p, make([]token, used, room))
		if gotNext != wantNext || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("readBlock(%q, %d) with room for %d = %v, %d, want %v, %d", s, p, room-used, got[used:], gotNext, want[used:], wantNext)
		}
	}
}

// readBlockPrevious is readBlock as it was before it read a zero-padded
// copy of its block: its loads check for the end of s.
func readBlockPrevious(s string, p int, out []token) ([]token, int) {
	var word, digits, joins, high uint64
	for g := 0; g < 8; g++ {
		var v uint64
		if i := p + 8*g; i+8 <= len(s) {
			v = swar.Load64(s, i)
		} else {
			v = swar.Load(s, i)
		}
		// (b|0x80) - k has its high bit set when b ≥ k and never borrows
		// from the next byte; non-ASCII bytes are masked out. Digits,
		// joiners and non-ASCII bytes are rare enough in prose to test
		// for before gathering their bits.
		lower := v | 0x20*swar.Lsb
		l := ((lower | swar.Msb) - 'a'*swar.Lsb) &^ ((lower | swar.Msb) - ('z'+1)*swar.Lsb)
		d := ((v | swar.Msb) - '0'*swar.Lsb) &^ ((v | swar.Msb) - ('9'+1)*swar.Lsb) &^ v & swar.Msb
		h := v & swar.Msb
		word |= gather(l&swar.Msb&^h|d) << (8 * g)
		if d != 0 {
			digits |= gather(d) << (8 * g)
		}
		if j := swar.ZeroBytes(v^'-'*swar.Lsb) | swar.ZeroBytes(v^'_'*swar.Lsb); j != 0 {
			joins |= gather(j) << (8 * g)
		}
		if h != 0 {
			high |= gather(h) << (8 * g)
		}
	}
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
		var v uint64
		if i := p + a; i+8 <= len(s) {
			v = swar.Load64(s, i)
		} else {
			v = swar.Load(s, i)
		}
		h := mix(tokenTag ^ (v|0x20*swar.Lsb)&byteMasks[min(n, 8)]) // lower case ('_' becomes 0x7f)
		for j := a + 8; j < e; j += 8 {
			h = mix(h ^ (swar.Load(s, p+j)|0x20*swar.Lsb)&byteMasks[min(e-j, 8)])
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
