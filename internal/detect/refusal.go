package detect

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"

	"github.com/airlock-ir/airlock/internal/swar"
)

// refusalHead is how much of an answer is looked at for a refusal.
const refusalHead = 160

// Refused reports whether a model's answer opens with a refusal: "I
// can't", "I cannot", "I won't", "I'm unable", "As an AI" and the like, or
// an apology ("sorry", "apologise") together with a can't ("can't help",
// "unable to assist"...), in the first refusalHead bytes after any leading
// spaces, quotes and asterisks, in any case, with ’ read as '. "I'm sorry
// to hear that" alone is not a refusal. The anomaly detector counts
// refusals per caller and route with it, the drift detector a model
// version's refusal rate.
//
// Nearly every answer is cleared by mayRefuse, one look at its bytes as
// they stand; only the rest are lower-cased and matched.
func Refused(out string) bool {
	i := 0
	for i < len(out) && isRefusalSpace(out[i]) {
		i++
	}
	w := out[i:min(len(out), i+refusalHead)]
	if !mayRefuse(w) {
		return false
	}
	if strings.IndexByte(w, 0xe2) >= 0 {
		return refusedSlow(out[i:]) // may hold ’, which reads as '
	}
	// Lower-case eight bytes at a time: (b|0x80) - k has its high bit set
	// when b ≥ k, without borrowing from the next byte; non-ASCII bytes
	// are left alone.
	var buf refusalBuf
	n := len(w)
	j := 0
	for ; j+8 <= n; j += 8 {
		x := swar.Load64(w, j)
		upper := ((x | swar.Msb) - 'A'*swar.Lsb) &^ ((x | swar.Msb) - ('Z'+1)*swar.Lsb) &^ x & swar.Msb
		binary.LittleEndian.PutUint64(buf[j:], x|upper>>2)
	}
	for ; j < n; j++ {
		c := w[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[j] = c
	}
	return refusalText(&buf, n)
}

// mayRefuse reports whether w, the start of an answer, may be judged a
// refusal: whether it may open like one of refusalOpeners or hold "rr" or
// "og" (as "sorry" and "apologise" do, which an apology needs), or ’. It
// looks at w as it stands, ASCII letters folded to lower case by setting
// their 0x20 bit: that folds other bytes too ('@' to '`', 0xc2 to 0xe2,
// 0x00 to ' '), but none to a letter, so it may say yes to an answer
// Refused would clear, never no to one it would judge a refusal. Most
// answers are cleared here, without the copy Refused judges.
func mayRefuse(w string) bool {
	if len(w) == 0 {
		return false
	}
	if c := w[0] | 0x20; c == 'i' || c == 'a' {
		first := swar.Load(w, 0) | 0x20*swar.Lsb
		for _, o := range openerHeads {
			if first&o.mask == o.bits {
				return true
			}
		}
	}
	j := 0
	for ; j+9 <= len(w); j += 8 {
		if mayApologise(swar.Load64(w, j)|0x20*swar.Lsb, swar.Load64(w, j+1)|0x20*swar.Lsb) {
			return true
		}
	}
	return j < len(w) && mayApologise(swar.Load(w, j)|0x20*swar.Lsb, swar.Load(w, j+1)|0x20*swar.Lsb) // zeros past w become spaces
}

// mayApologise reports whether x, eight bytes of an answer, holds the
// first byte of "rr" or "og" (y being the eight bytes from the next) or
// 0xe2. A byte is in both words of such a pair when it is zero in the
// two xored with it and ored; and v has a zero byte exactly when (v −
// 0x01…) &^ v has a high bit set (a borrow only follows a zero byte).
func mayApologise(x, y uint64) bool {
	rr := (x ^ 'r'*swar.Lsb) | (y ^ 'r'*swar.Lsb)
	og := (x ^ 'o'*swar.Lsb) | (y ^ 'g'*swar.Lsb)
	e2 := x ^ 0xe2*swar.Lsb
	return ((rr-swar.Lsb)&^rr|(og-swar.Lsb)&^og|(e2-swar.Lsb)&^e2)&swar.Msb != 0
}

// openerHeads are the first eight bytes (or fewer) of refusalOpeners, as
// mayRefuse compares them.
var openerHeads = func() []struct{ bits, mask uint64 } {
	heads := make([]struct{ bits, mask uint64 }, len(refusalOpeners))
	for i, o := range refusalOpeners {
		n := min(len(o), 8)
		heads[i].mask = swar.FirstBytes(n)
		heads[i].bits = swar.Load(string(o[:n]), 0) | 0x20*swar.Lsb&heads[i].mask
	}
	return heads
}()

// refusalBuf holds the start of an answer as judged, and zeros past it to
// read eight bytes at a time.
type refusalBuf [refusalHead + 16]byte

func isRefusalSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '*'
}

// refusedSlow is Refused for an answer that may hold ’ in its first bytes.
func refusedSlow(out string) bool {
	var buf refusalBuf
	n := 0
	for i := 0; i < len(out) && n < refusalHead; i++ {
		c := out[i]
		switch {
		case n == 0 && isRefusalSpace(c):
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xe2 && i+2 < len(out) && out[i+1] == 0x80 && out[i+2] == 0x99: // ’
			c, i = '\'', i+2
		}
		buf[n] = c
		n++
	}
	return refusalText(&buf, n)
}

// refusalText judges the start of an answer, its first n bytes of buf,
// lower-cased, with ’ as '.
func refusalText(buf *refusalBuf, n int) bool {
	if n == 0 {
		return false
	}
	s := buf[:n]
	if s[0] == 'i' || s[0] == 'a' {
		for _, p := range refusalOpeners {
			if bytes.HasPrefix(s, p) {
				return true
			}
		}
	}
	if apologises(buf, n) {
		for _, p := range refusalVerbs {
			if bytes.Contains(s, p) {
				return true
			}
		}
	}
	return false
}

// apologises reports whether the first n bytes of buf hold "sorry" or
// "apolog". It looks eight bytes at a time for "rr" and "og", rare in
// English, and only there for the words.
func apologises(buf *refusalBuf, n int) bool {
	for j := 0; j < n; j += 8 {
		x, y := swar.Load64(buf[:], j), swar.Load64(buf[:], j+1) // zeros past n match neither
		c := swar.ZeroBytes(x^'r'*swar.Lsb)&swar.ZeroBytes(y^'r'*swar.Lsb) | swar.ZeroBytes(x^'o'*swar.Lsb)&swar.ZeroBytes(y^'g'*swar.Lsb)
		for ; c != 0; c &= c - 1 {
			i := j + bits.TrailingZeros64(c)/8
			// Past n all is zero, so a match ends within the n bytes.
			if buf[i] == 'r' && i >= 2 && string(buf[i-2:i+3]) == "sorry" ||
				buf[i] == 'o' && i >= 4 && string(buf[i-4:i+2]) == "apolog" {
				return true
			}
		}
	}
	return false
}

func byteStrings(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

var refusalOpeners = byteStrings(
	"i can't", "i cannot", "i can not", "i won't", "i will not", "i'm unable", "i am unable",
	"i'm not able to", "i am not able to", "i must decline", "i'm not going to", "as an ai",
)

var refusalVerbs = byteStrings(
	"can't help", "can't assist", "can't provide", "can't comply", "cannot help", "cannot assist",
	"cannot provide", "cannot comply", "unable to help", "unable to assist", "unable to provide",
	"not able to help", "not able to assist", "won't be able to", "can't do that", "cannot do that",
)
