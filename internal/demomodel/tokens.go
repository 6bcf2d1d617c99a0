package demomodel

import (
	"encoding/binary"
	"hash/fnv"
	"unicode"
)

// maxTokenRunes is the longest token: a word (with the white space before
// it) longer than this is cut every maxTokenRunes runes, which puts English
// text near the usual four characters a token.
const maxTokenRunes = 6

// tokenize cuts s into the demo model's tokens: each word with the white
// space before it, long words and long runs of white space cut into pieces.
// The pieces concatenate to s exactly, so a stream of them is the answer.
func tokenize(s string) []string {
	var toks []string
	start, n := 0, 0 // the current token's first byte and its runes so far
	inWord := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if n > 0 && ((inWord && space) || n == maxTokenRunes) {
			toks = append(toks, s[start:i])
			start, n, inWord = i, 0, false
		}
		n++
		if !space {
			inWord = true
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// countTokens is len(tokenize(s)) without building the slice.
func countTokens(s string) int {
	count, n, inWord := 0, 0, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if n > 0 && ((inWord && space) || n == maxTokenRunes) {
			count++
			n, inWord = 0, false
		}
		n++
		if !space {
			inWord = true
		}
	}
	if n > 0 {
		count++
	}
	return count
}

// truncate keeps the first max tokens of text (all of them when max is 0)
// and reports whether it cut anything.
func truncate(text string, max int) (string, bool) {
	if max <= 0 {
		return text, false
	}
	toks := tokenize(text)
	if len(toks) <= max {
		return text, false
	}
	n := 0
	for _, t := range toks[:max] {
		n += len(t)
	}
	return text[:n], true
}

// hashStrings is the model's one source of variety: FNV-1a over the seed
// and the parts (each terminated so that ("ab","c") and ("a","bc") differ),
// mixed so that every bit depends on every input bit.
func hashStrings(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0xff}) // never in UTF-8
	}
	return mix(h.Sum64())
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unit maps h to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// alternatives are the tokens offered as runners-up in top_logprobs.
var alternatives = []string{
	" the", " a", " to", " and", " of", " is", " in", " it", " you", " for", " on", " with",
	".", ",", " that", " this", " your", " can", " we", " be", " are", " or", " an", " as",
}

// MaxTopLogprobs is the most alternatives a token's top_logprobs holds, as
// in the OpenAI API.
const MaxTopLogprobs = 20

// logprob is one token with its log probability and, best first, the top
// alternatives (the token itself among them).
type logprob struct {
	token string
	lp    float64
	top   []alt
}

type alt struct {
	token string
	lp    float64
}

// logprobs invents deterministic log probabilities for toks: the chosen
// token is always the likeliest, and top holds k entries.
func logprobs(seed, salt uint64, toks []string, k int) []logprob {
	out := make([]logprob, len(toks))
	for i, tok := range toks {
		h := mix(salt ^ hashStrings(seed, tok) ^ uint64(i)*0x9e3779b97f4a7c15)
		lp := -(0.001 + 0.9*unit(h))
		top := make([]alt, 0, k)
		if k > 0 {
			top = append(top, alt{tok, lp})
		}
		next, step := int(h%uint64(len(alternatives))), steps[(h>>32)%uint64(len(steps))]
		for j, last := 1, lp; len(top) < k && j <= 2*len(alternatives); j++ {
			a := alternatives[next]
			next = (next + step) % len(alternatives)
			if a == tok || containsAlt(top, a) {
				continue
			}
			last -= 0.25 + 2*unit(mix(h+uint64(j)))
			top = append(top, alt{a, last})
		}
		out[i] = logprob{token: tok, lp: lp, top: top}
	}
	return out
}

// steps are coprime with len(alternatives), so that stepping through it
// from anywhere visits every alternative.
var steps = []int{1, 5, 7, 11, 13}

func containsAlt(as []alt, tok string) bool {
	for _, a := range as {
		if a.token == tok {
			return true
		}
	}
	return false
}

// byteValues is the UTF-8 of s as numbers, as the API's "bytes" field has
// it (a []byte would be encoded as base64).
func byteValues(s string) []int {
	out := make([]int, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, int(s[i]))
	}
	return out
}
