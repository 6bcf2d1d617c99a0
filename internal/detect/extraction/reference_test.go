package extraction

import (
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
)

// referenceFeatures is features as first written, a byte at a time: the
// specification the fast tokeniser is checked against.
func referenceFeatures(s string, triggers *triggerTable) textFeatures {
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
			f.trigger |= flags &^ triggerPairStart // the fast tokeniser's own flag
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
