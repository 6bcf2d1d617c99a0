package extraction

import (
	"math/bits"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/swar"
)

// Tokens are runs of ASCII letters and digits (folded to lower case) and
// single non-ASCII characters, so that text without spaces (Chinese,
// Japanese) still has tokens; everything else separates them. Invalid UTF-8
// bytes are separators too.

// textFeatures is what one pass over a prompt learns.
type textFeatures struct {
	sim        uint64 // SimHash of the token unigrams and bigrams
	tokens     int
	trigger    uint8  // triggerProbe / triggerDivergence: words some phrase rule needs
	probeWords uint64 // the probing phrases' key words seen, one bit each
	maxRun     int    // longest run of one repeated word (of two or more letters)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix spreads a token hash over all 64 bits, which SimHash needs.
func mix(x uint64) uint64 { return detect.Mix64(x) }

// Byte classes for the tokeniser: an ASCII letter or digit starts a word,
// a non-ASCII byte a character; every other ASCII byte is a separator (0).
const (
	classWord = 1 + iota
	classHigh
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = classWord
		case c >= utf8.RuneSelf:
			t[c] = classHigh
		}
	}
	return t
}()

// features tokenises s once and returns its SimHash, its trigger words and
// its longest run of a repeated word. Each token is counted in one place,
// with no closure, and what it learns is kept in local variables, not in
// the result's fields, so that the loop's state stays in registers.
func features(s string, triggers *triggerTable) textFeatures {
	var (
		acc       detect.SimHash
		batch     [32]uint64 // features not yet in acc, added sixteen at a time
		nb        int        // how many
		tokens    int
		seen      uint64 // the trigger table's values of the words seen, ORed
		maxRun    int
		run       int    // of the previous token, if it is a word; else 0
		prev      uint64 // hash of the previous token, 0 at the start
		prevFlags uint8  // triggerPairStart or triggerNumber, of the previous token
	)
	for i := 0; i < len(s); {
		class := byteClass[s[i]]
		if class == 0 {
			i++
			continue
		}
		var (
			th     uint64
			wordy  bool
			number bool // of three or more digits
		)
		if class == classWord {
			// The word is read eight bytes at a time: which bytes are
			// letters and which digits is found for all eight at once
			// (SWAR), so its end costs no branch per byte. Its hash takes
			// the same groups as wordHash: v|0x20 in every byte lower-cases
			// a letter and keeps a digit, and a byte swap turns the
			// little-endian load into wordHash's big-endian group.
			th = wordSeed
			n := 0
			var letters uint64
			for {
				var v uint64
				if i+n+8 <= len(s) {
					v = swar.Load64(s, i+n)
				} else {
					v = swar.Load(s, i+n) // zeros past the end, which end the word
				}
				lower := v | 0x20*swar.Lsb
				l := ((lower | swar.Msb) - 'a'*swar.Lsb) &^ ((lower | swar.Msb) - ('z'+1)*swar.Lsb) &^ v & swar.Msb
				d := ((v | swar.Msb) - '0'*swar.Lsb) &^ ((v | swar.Msb) - ('9'+1)*swar.Lsb) &^ v & swar.Msb
				end := ^(l | d) & swar.Msb // the high bit of each byte not in a word
				if end == 0 {
					n += 8
					letters |= l
					th = mix(th ^ bits.ReverseBytes64(lower))
					continue
				}
				// The word's k bytes are those below the first byte not in
				// it; below is every bit under that byte's high bit, so
				// below>>7 masks the word's bytes, and masks need no
				// variable shift (which Go checks against 64).
				below := end&-end - 1
				k := uint(bits.TrailingZeros64(end)) / 8
				// The next token starts at the next letter, digit or
				// non-ASCII byte: the separators between are skipped here
				// as far as v shows them (all of v's if there is none).
				starts := (l | d | v&swar.Msb) &^ below
				next := i + n + int(uint(bits.TrailingZeros64(starts))/8)
				n += int(k)
				letters |= l & below
				// k < 8, and with k = 0 the masked group is zero.
				th = mix(th ^ bits.ReverseBytes64(lower&(below>>7))>>((64-8*k)&63))
				i = next
				break
			}
			wordy = letters != 0 && n >= 2
			number = letters == 0 && n >= 3
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			if r == utf8.RuneError && n == 1 {
				continue // invalid UTF-8 separates
			}
			th = mix(uint64(r) ^ 0x5bd1e995)
		}

		tokens++
		batch[nb&31] = th
		nb++
		var pair uint64 // the feature of the word pair, and its key in triggers
		if prev != 0 {
			pair = bigram(prev, th)
			batch[nb&31] = pair
			nb++
		}
		if nb >= 16 {
			acc.AddMany(batch[:16])
			batch[0] = batch[16]
			nb -= 16
		}
		if !wordy {
			run, prev, prevFlags = 0, th, 0
			if number {
				prevFlags = triggerNumber
			}
			continue
		}
		v := triggers.find(th)
		if prevFlags&triggerPairStart != 0 {
			v |= triggers.find(pair) &^ keyBits
		}
		if prevFlags&triggerNumber != 0 && th == timesHash {
			v |= triggerDivergence << flagShift // "1000 times"
		}
		seen |= v
		prevFlags = uint8(v>>flagShift) & triggerPairStart
		// A word repeats the previous token only if that was a word too:
		// otherwise run is 0 and starts again at 1 either way.
		if th != prev {
			run = 0
		}
		run++
		maxRun = max(maxRun, run)
		prev = th
	}
	acc.AddMany(batch[:nb])
	return textFeatures{
		sim:        acc.Sum(),
		tokens:     tokens,
		trigger:    uint8(seen>>flagShift) &^ (triggerPairStart | triggerNumber),
		probeWords: seen & keyBits,
		maxRun:     maxRun,
	}
}

// wordHash is the token hash features gives an ASCII word: its bytes,
// lower-cased, taken eight at a time into a mixed chain (a word holds no
// zero byte, so the last, shorter group cannot pass for another word's).
func wordHash(w string) uint64 {
	h, word := uint64(wordSeed), uint64(0)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		word = word<<8 | uint64(c)
		if (i+1)&7 == 0 {
			h, word = mix(h^word), 0
		}
	}
	return mix(h ^ word)
}

// wordSeed starts every word's hash.
const wordSeed = 0x2d358dccaa6c78a5

func distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// bigram is the feature of two consecutive words, in the SimHash and as
// the trigger-table key of the pair.
func bigram(a, b uint64) uint64 { return mix(a*0x9e3779b97f4a7c15 ^ b) }

var timesHash = wordHash("times")

// triggerTable is a small open-addressing set of word (and word pair)
// hashes, each with the phrase rules it may start and, for a probing
// phrase's key word, its bit: a lookup per word costs a shift and a load,
// where a Go map would cost a call.
type triggerTable struct {
	keys [512]uint64
	vals [512]uint64 // the flags << flagShift | the key word's bit, if any
	n    int
}

// flagShift places a key's flags above the key words' bits, so that the
// tokeniser gathers both with one OR.
const (
	flagShift = 56
	keyBits   = 1<<flagShift - 1
)

// slot is where h's probe starts: its top bits, as its keys are mixed.
func (t *triggerTable) slot(h uint64) int { return int(h >> (64 - 9)) }

// add records h with a flag and bit, 1 + the index of its key word's bit
// (below flagShift), or 0.
func (t *triggerTable) add(h uint64, flag, bit uint8) {
	if t.n >= len(t.keys)/2 {
		panic("extraction: trigger table full")
	}
	if bit > flagShift {
		panic("extraction: key word bit out of range")
	}
	for i := t.slot(h); ; i = (i + 1) & 511 {
		if t.keys[i] == 0 || t.keys[i] == h {
			if t.keys[i] == 0 {
				t.n++
			}
			t.keys[i] = h
			t.vals[i] |= uint64(flag) << flagShift
			if bit > 0 {
				t.vals[i] = t.vals[i]&^keyBits | 1<<(bit-1)
			}
			return
		}
	}
}

// find is h's flags << flagShift | its key word's bit, or 0.
func (t *triggerTable) find(h uint64) uint64 {
	for i := t.slot(h); ; i = (i + 1) & 511 {
		switch t.keys[i] {
		case h:
			return t.vals[i]
		case 0:
			return 0
		}
	}
}

// lookup is find's answer taken apart: the flags and 1 + the key word's
// bit, or 0.
func (t *triggerTable) lookup(h uint64) (flags, bit uint8) {
	v := t.find(h)
	if v&keyBits != 0 {
		bit = uint8(bits.TrailingZeros64(v&keyBits)) + 1
	}
	return uint8(v >> flagShift), bit
}
