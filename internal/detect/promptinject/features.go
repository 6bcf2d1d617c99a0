package promptinject

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/textnorm"
)

// The classifier's features: character 2- to 5-grams (of runes, with a
// space at either end of the text) and word unigrams and bigrams, of every
// normalised form of a unit, hashed into 2^hashBits buckets and counted once
// each; plus one feature per rule hit. featureVersion changes whenever the
// features do, so that a model trained on other features is refused.
const (
	featureVersion = 1
	minCharN       = 2
	maxCharN       = 5
	maxWordBytes   = 40 // longer words are cut for hashing
)

// scratch is the reusable memory of one scoring or feature extraction.
type scratch struct {
	seen    []uint64 // bitset over the hashed buckets
	idx     []uint32 // buckets set, in order of first appearance
	buf     []byte
	hits    *literalHits
	done    []bool // rules already matched
	matches []ruleMatch
	forms   []string
}

func newScratch(bits uint8, e *ruleEngine) *scratch {
	return &scratch{
		seen: make([]uint64, (1<<bits+63)/64),
		hits: newLiteralHits(e.nlits),
		done: make([]bool, len(e.rules)),
	}
}

// resetFeatures clears the buckets of the previous unit.
func (sc *scratch) resetFeatures() {
	if len(sc.idx) > len(sc.seen)/4 {
		clear(sc.seen)
	} else {
		for _, i := range sc.idx {
			sc.seen[i>>6] = 0
		}
	}
	sc.idx = sc.idx[:0]
}

func (sc *scratch) add(h uint32) {
	i := h & uint32(len(sc.seen)*64-1)
	w, b := i>>6, uint64(1)<<(i&63)
	if sc.seen[w]&b == 0 {
		sc.seen[w] |= b
		sc.idx = append(sc.idx, i)
	}
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// fmix is MurmurHash3's finaliser: FNV's low bits are weak on short keys.
func fmix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// addForm adds the features of one normalised form.
func (sc *scratch) addForm(form string) {
	// A final full stop or question mark says how a prompt is phrased, not
	// what it asks; left in, the classifier learns which corpus phrased
	// its prompts how.
	form = strings.TrimRightFunc(form, func(r rune) bool { return !isWordRune(r) })
	sc.buf = append(append(append(sc.buf[:0], ' '), form...), ' ')
	sc.addCharGrams(sc.buf)
	sc.addWords(form)
}

func (sc *scratch) addCharGrams(b []byte) {
	// starts[k%8] is where the k-th rune begins.
	var starts [8]int
	runes := 0
	for i := 0; i < len(b); {
		n := 1
		if b[i] >= utf8.RuneSelf {
			_, n = utf8.DecodeRune(b[i:])
		}
		starts[runes&7] = i
		runes++
		i += n
		for g := minCharN; g <= maxCharN && g <= runes; g++ {
			h := uint32(fnvOffset) ^ uint32(g)*0x01000193
			for _, c := range b[starts[(runes-g)&7]:i] {
				h = (h ^ uint32(c)) * fnvPrime
			}
			sc.add(fmix(h))
		}
	}
}

func (sc *scratch) addWords(form string) {
	var prev uint32
	havePrev := false
	for i := 0; i < len(form); {
		// Skip to the next word.
		r, n := rune(form[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(form[i:])
		}
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(form) {
			r, n := rune(form[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(form[j:])
			}
			if !isWordRune(r) {
				break
			}
			j += n
		}
		w := form[i:min(j, i+maxWordBytes)]
		h := uint32(fnvOffset) ^ 0x77 // 'w'
		for k := 0; k < len(w); k++ {
			h = (h ^ uint32(w[k])) * fnvPrime
		}
		sc.add(fmix(h))
		if havePrev {
			sc.add(fmix(prev*0x9e3779b1 ^ h ^ 0x62)) // 'b'
		}
		prev, havePrev = h, true
		i = j
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || r == '\''
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// analysis is what the rules and the features say about one unit.
type analysis struct {
	idx   []uint32    // hashed features; aliases scratch
	hits  []int       // rules hit, as features: pattern rules and triggers
	first []ruleMatch // the match of each pattern rule hit; aliases scratch
	forms []string    // the forms scanned; aliases scratch
}

// analyse normalises a unit, runs the rules over its forms and collects its
// features into sc.
func analyse(u unit, doc bool, e *ruleEngine, sc *scratch) analysis {
	sc.forms = append(sc.forms[:0], textnorm.Variants(u.text)...)
	sc.resetFeatures()
	for _, f := range sc.forms {
		sc.addForm(f)
	}
	sc.matches = e.scan(sc.forms, doc, sc.hits, sc.done, sc.matches[:0])
	a := analysis{idx: sc.idx, first: sc.matches, forms: sc.forms}
	variantOnly := false
	for _, m := range sc.matches {
		a.hits = append(a.hits, m.rule)
		if m.form > 0 && e.rules[m.rule].Weight >= 0.45 {
			variantOnly = true
		}
	}
	if t, ok := e.trigger["variant"]; ok && variantOnly {
		a.hits = append(a.hits, t)
	}
	if t, ok := e.trigger["hidden"]; ok && u.src == srcHidden && len(strings.TrimSpace(u.text)) >= 8 {
		a.hits = append(a.hits, t)
	}
	if t, ok := e.trigger["homoglyph"]; ok && mixesScripts(u.text) {
		a.hits = append(a.hits, t)
	}
	return a
}

// mixesScripts reports whether a word of s mixes Latin letters with Greek
// or Cyrillic ones, as words spelled with look-alikes do.
func mixesScripts(s string) bool {
	latin, other := false, false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
				latin = true
			default:
				latin, other = false, false
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			switch {
			case r >= 0x0370 && r <= 0x052F: // Greek, Cyrillic
				other = true
			case unicode.IsLetter(r) || unicode.IsMark(r):
				if !unicode.Is(unicode.Latin, r) {
					latin, other = false, false
					continue
				}
				latin = true
			default:
				latin, other = false, false
				continue
			}
		}
		if latin && other {
			return true
		}
	}
	return false
}
