package extraction

import (
	"github.com/airlock-ir/airlock/internal/detect"
	"math/bits"
	"unicode/utf8"
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

// features tokenises s once and returns its SimHash, its trigger words and
// its longest run of a repeated word.
func features(s string, triggers *triggerTable) textFeatures {
	var (
		acc              detect.SimHash
		f                textFeatures
		prev             uint64 // hash of the previous token, 0 at the start
		prevDigits       int    // length of the previous token if it was all digits
		runHash          uint64
		run              int
		h, word          uint64 // a word's hash so far and its bytes not yet in it
		inWord, hasAlpha bool
		wordLen          int
	)
	token := func(th uint64, wordy bool, digits int) {
		f.tokens++
		acc.Add(th)
		var pair uint64 // the feature of the word pair, and its key in triggers
		if prev != 0 {
			pair = bigram(prev, th)
			acc.Add(pair)
		}
		if wordy {
			flags, bit := triggers.lookup(th)
			if prev != 0 {
				bf, _ := triggers.lookup(pair)
				flags |= bf
			}
			if prevDigits >= 3 && th == timesHash {
				flags |= triggerDivergence // "1000 times"
			}
			f.trigger |= flags
			if bit > 0 {
				f.probeWords |= 1 << (bit - 1)
			}
			if th == runHash {
				run++
			} else {
				runHash, run = th, 1
			}
			f.maxRun = max(f.maxRun, run)
		} else {
			runHash, run = 0, 0
		}
		prev, prevDigits = th, digits
	}
	endWord := func() {
		if inWord {
			digits := 0
			if !hasAlpha {
				digits = wordLen
			}
			token(mix(h^word), hasAlpha && wordLen >= 2, digits)
			inWord = false
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', 'A' <= c && c <= 'Z':
				if !inWord {
					inWord, hasAlpha, wordLen, h, word = true, false, 0, wordSeed, 0
				}
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				if c >= 'a' {
					hasAlpha = true
				}
				word = word<<8 | uint64(c)
				if wordLen++; wordLen&7 == 0 {
					h, word = mix(h^word), 0
				}
			default:
				endWord()
			}
			i++
			continue
		}
		endWord()
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			token(mix(uint64(r)^0x5bd1e995), false, 0)
		}
		i += n
	}
	endWord()
	f.sim = acc.Sum()
	return f
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
// phrase's key word, its bit: a lookup per word costs a multiply and a
// load, where a Go map would cost a call.
type triggerTable struct {
	keys  [512]uint64
	flags [512]uint8
	bits  [512]uint8 // 1 + the key word's bit, or 0
	n     int
}

func (t *triggerTable) slot(h uint64) int { return int((h * 0x9e3779b97f4a7c15) >> (64 - 9)) }

func (t *triggerTable) add(h uint64, flag, bit uint8) {
	if t.n >= len(t.keys)/2 {
		panic("extraction: trigger table full")
	}
	for i := t.slot(h); ; i = (i + 1) & 511 {
		if t.keys[i] == 0 || t.keys[i] == h {
			if t.keys[i] == 0 {
				t.n++
			}
			t.keys[i] = h
			t.flags[i] |= flag
			if bit > 0 {
				t.bits[i] = bit
			}
			return
		}
	}
}

func (t *triggerTable) lookup(h uint64) (flags, bit uint8) {
	for i := t.slot(h); ; i = (i + 1) & 511 {
		switch t.keys[i] {
		case h:
			return t.flags[i], t.bits[i]
		case 0:
			return 0, 0
		}
	}
}
