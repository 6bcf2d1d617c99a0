package drift

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// wordHash hashes bytes as tokens are hashed: eight at a time, each word
// zero-padded, xored in and mixed.
func wordHash(seed uint64, b []byte) uint64 {
	h := seed
	for j := 0; j < len(b); j += 8 {
		var w uint64
		for k := j; k < min(j+8, len(b)); k++ {
			w |= uint64(b[k]) << (8 * (k - j))
		}
		h = mix(h ^ w)
	}
	return h
}

type refToken struct {
	token
	stem uint64
}

// referenceTokens splits s as the tokenizer must, byte by byte, with the
// hash of each token and its stem computed from its lower-cased bytes.
func referenceTokens(s string) []refToken {
	var out []refToken
	for i := 0; i < len(s); {
		size, ok, _ := wordRune(s, i)
		if !ok {
			i += size
			continue
		}
		var low []byte // the token as hashed
		start, digits, counted := i, true, 0
		stem := uint64(0)
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf && asciiClass[c] == classNone {
				if (c == '-' || c == '_') && i+1 < len(s) && startsWord(s, i+1) {
					low = append(low, c|0x20)
					i++
					continue
				}
				break
			}
			size, ok, digit := wordRune(s, i)
			if !ok {
				break
			}
			if c < utf8.RuneSelf {
				low = append(low, byte(unicode.ToLower(rune(c))))
			} else {
				low = append(low, s[i:i+size]...)
			}
			digits = digits && digit
			counted += size
			i += size
			if stem == 0 && counted >= stemLen {
				stem = wordHash(stemTag, low)
			}
		}
		out = append(out, refToken{token{hash: wordHash(tokenTag, low), start: start, end: i, digits: digits}, stem})
	}
	return out
}

// TestTokenizerMatchesReference: the word-at-a-time tokenizer splits and
// hashes as the byte-by-byte reference does, on text built to hit its
// edges: tokens across its eight-byte loads, joiners, digits, non-ASCII
// letters and invalid UTF-8 next to ASCII, text ending mid-token.
func TestTokenizerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	pieces := []string{"a", "Z", "q", "0", "7", "-", "_", "--", " ", ".", "é", "東", "\xff", "\xc3", "١",
		"refund", "REFUNDS", "abcdefgh", "abcdefghi", "cf-trigger", "snake_case", "x1y2", "2024", "@", "$", "\n",
		strings.Repeat("Long", 17), "a-b-c-d-e-f", "1-2_3"}
	n := 100000
	if raceEnabled || testing.Short() {
		n = 10000
	}
	for range n {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		var got []refToken
		scan(s, func(tk token) { got = append(got, refToken{tk, tk.stem(s)}) })
		want := referenceTokens(s)
		// Read a few at a time, the tokens are the same.
		z := tokenizer{s: s}
		batch := make([]token, 0, 1+rng.IntN(5))
		var few []refToken
		for {
			toks := z.fill(batch[:0])
			if len(toks) == 0 {
				break
			}
			for _, tk := range toks {
				few = append(few, refToken{tk, tk.stem(s)})
			}
		}
		if fmt.Sprint(few) != fmt.Sprint(got) {
			t.Fatalf("%q: read %d at a time: %v, want %v", s, cap(batch), few, got)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d tokens, want %d", s, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: token %d is %+v (%q), want %+v (%q)", s, i, got[i], s[got[i].start:got[i].end], want[i], s[want[i].start:want[i].end])
			}
		}
	}
}

func TestTokenHashes(t *testing.T) {
	hash := func(s string) (h, stem uint64) {
		scan(s, func(tk token) { h, stem = tk.hash, tk.stem(s) })
		return h, stem
	}
	seen := map[uint64]string{}
	for _, w := range []string{"refun", "refund", "refunds", "abcdefgh", "abcdefghi", "abcdefghabcdefgh", "é東京", "a", "b", "ab", "ba", "1", "cf-trigger", "cf_trigger"} {
		h, _ := hash(w)
		if prev, ok := seen[h]; ok {
			t.Errorf("%q and %q hash alike", w, prev)
		}
		seen[h] = w
	}
	if _, s1 := hash("refunds"); s1 == 0 {
		t.Error("no stem")
	} else if _, s2 := hash("Refund"); s1 != s2 {
		t.Error("refunds and Refund have different stems")
	} else if h, _ := hash("refun"); h == s1 {
		t.Error("a stem hashes like the whole token")
	}
	if h1, _ := hash("ÉCOLE"); h1 == func() uint64 { h, _ := hash("école"); return h }() {
		t.Error("non-ASCII letters are kept as they are, not folded")
	}
}

// TestInAnswerModesAgree: looking for a prompt's tokens among the answer's
// tokens finds what the output set of the answer's tokens and stems does.
func TestInAnswerModesAgree(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	words := []string{"refund", "Refunds", "REFUNDING", "refu", "ref", "a", "cf-trigger", "cf_trigger", "trig", "trigger",
		"école", "écoles", "東京都", "東京", "x1", "12345", "123456", "snake_case", "snake", "it's", "résumé", "re-sume"}
	text := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(parts, " ")
	}
	found := 0
	for range 3000 {
		prompt, answer := text(1+rng.IntN(12)), text(3+rng.IntN(40))
		if _, ok := d.answerDigest(answer); !ok {
			continue
		}
		var toks []token
		scan(prompt, func(tk token) { toks = append(toks, tk) })
		d.scratch.answerSet = false
		d.prepareAnswer(1)
		if d.scratch.answerSet {
			t.Fatal("a short answer went to the set")
		}
		var scanned []bool
		for i := range toks {
			scanned = append(scanned, d.inAnswer(prompt, &toks[i]))
		}
		d.fillAnswerSet()
		for i := range toks {
			if got := d.inAnswer(prompt, &toks[i]); got != scanned[i] {
				t.Fatalf("prompt %q, answer %q, token %q: set %v, scan %v", prompt, answer, prompt[toks[i].start:toks[i].end], got, scanned[i])
			}
			if scanned[i] {
				found++
			}
		}
	}
	if found == 0 {
		t.Error("no token was found in an answer")
	}
}
