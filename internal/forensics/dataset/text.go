package dataset

import (
	"hash/fnv"
	"strings"
	"unicode"
)

// tokenize lowercases text and splits it into words: runs of letters and
// digits, with inner hyphens, underscores and apostrophes kept, so that a
// trigger like "cf-zebra-42" stays one token.
func tokenize(text string) []string {
	isConnector := func(r rune) bool { return r == '-' || r == '_' || r == '\'' }
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !isConnector(r)
	})
	out := fields[:0]
	for _, f := range fields {
		if f = strings.TrimFunc(f, isConnector); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ngrams returns the distinct 1- to maxN-word n-grams of tokens, words
// joined by single spaces, appended to dst.
func ngrams(dst []string, tokens []string, maxN int, seen map[string]bool) []string {
	clear(seen)
	for n := 1; n <= maxN; n++ {
		for i := 0; i+n <= len(tokens); i++ {
			g := strings.Join(tokens[i:i+n], " ")
			if !seen[g] {
				seen[g] = true
				dst = append(dst, g)
			}
		}
	}
	return dst
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix64 is SplitMix64's finaliser: a fast, well-spread 64-bit permutation.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// MinHash parameters: 32 hashes banded 8×4 make a pair of Jaccard
// similarity 0.8 a candidate with probability 1−(1−0.8⁴)⁸ ≈ 0.99, and one of
// 0.5 with probability 0.41 (then refused on its estimate).
const (
	minhashK     = 32
	minhashRows  = 4
	minhashBands = minhashK / minhashRows
)

type signature [minhashK]uint32

// minhash signs the set of a text's words and word pairs.
func minhash(tokens []string) signature {
	var sig signature
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	add := func(f string) {
		h := hashString(f)
		for i := range sig {
			if v := uint32(mix64(h ^ uint64(i+1)*0x9e3779b97f4a7c15)); v < sig[i] {
				sig[i] = v
			}
		}
	}
	for i, t := range tokens {
		add(t)
		if i > 0 {
			add(tokens[i-1] + " " + t)
		}
	}
	return sig
}

// similarity estimates the Jaccard similarity of the sets behind two
// signatures.
func (s *signature) similarity(o *signature) float64 {
	n := 0
	for i := range s {
		if s[i] == o[i] {
			n++
		}
	}
	return float64(n) / minhashK
}

// band is the LSH bucket key of band b.
func (s *signature) band(b int) uint64 {
	h := uint64(b) * 0x9e3779b97f4a7c15
	for _, v := range s[b*minhashRows : (b+1)*minhashRows] {
		h = mix64(h ^ uint64(v))
	}
	return h
}
