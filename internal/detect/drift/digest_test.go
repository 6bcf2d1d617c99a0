package drift

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Buffers for digestReference, as the detector's scratch has them.
var (
	referenceToks  = make([]token, 0, maxAnswerTokens)
	referenceBatch = make([]token, 0, tokenBatch)
)

// digestReference is the digest as first computed: every token read by
// the tokenizer, the first maxAnswerTokens at once and then tokenBatch at
// a time, and folded in with digestTokens.
func digestReference(s string) (uint64, int) {
	z := tokenizer{s: s}
	toks := z.fill(referenceToks[:0])
	h, size := digestTokens(fnvOffset, 0, toks)
	batch := referenceBatch
	for {
		more := z.fill(batch[:0])
		if len(more) == 0 {
			return h, size
		}
		h, size = digestTokens(h, size, more)
	}
}

// answerPieces build answers that hit the tokenizer's edges: tokens across
// its eight-byte loads and 64-byte blocks, joiners, numbers, non-ASCII
// letters, digits and punctuation, and invalid UTF-8 next to ASCII.
var answerPieces = []string{"a", "Z", "q", "0", "7", "-", "_", "--", " ", "  ", ".", ",", "é", "東", "\xff", "\xc3", "\xe2\x80", "١",
	"—", "’", "refund", "REFUNDS", "abcdefgh", "abcdefghi", "cf-trigger", "snake_case", "x1y2", "2024", "3.14", "@", "$", "\n",
	strings.Repeat("Long", 17), strings.Repeat("w", 63), strings.Repeat("9", 70), "a-b-c-d-e-f", "1-2_3", "Ünïcödé", "ſ", "\u212A"}

// TestDigestTextMatchesTokenizer: the digest-only pass gives the digest
// and size that tokenising the answer and folding its tokens in gave, so
// answers are told apart exactly as before.
func TestDigestTextMatchesTokenizer(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n := 100000
	if raceEnabled || testing.Short() {
		n = 10000
	}
	check := func(s string) {
		t.Helper()
		h, size := digestText(s)
		wh, wsize := digestReference(s)
		if h != wh || size != wsize {
			t.Fatalf("digestText(%q) = %x, %d, want %x, %d", s, h, size, wh, wsize)
		}
	}
	for range n {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(answerPieces[rng.IntN(len(answerPieces))])
		}
		s := b.String()
		check(s)
		// Every cut of it too, so that it ends anywhere in a block.
		if len(s) > 0 {
			check(s[:rng.IntN(len(s))])
			check(s[rng.IntN(len(s)):])
		}
	}
	// More tokens than the reference reads at once.
	for range 20 {
		var b strings.Builder
		for b.Len() < 20000 {
			b.WriteString(answerPieces[rng.IntN(len(answerPieces))])
			b.WriteByte(' ')
		}
		check(b.String())
	}
	// Random bytes, and prose of every length around the block size.
	for range n / 10 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		check(string(b))
	}
	w := newWords(3, 500)
	for range n / 10 {
		s := w.sentence(1, 80)
		check(s[:rng.IntN(len(s)+1)])
	}
}

// TestDigestEquivalence: answers that differ only in case, spacing,
// punctuation or a number digest alike; a different word does not.
func TestDigestEquivalence(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	digest := func(s string) uint64 {
		h, ok := d.answerDigest(s)
		if !ok {
			t.Fatalf("%q: too short", s)
		}
		return h
	}
	base := digest("Your refund of 42 dollars was sent on 2024-05-01.")
	for _, s := range []string{
		"your REFUND of 7 dollars was sent on 1999-12-31",
		"  Your refund, of 42 dollars; was sent on 2024-05-01!!",
		"Your\nrefund of 123456 dollars was sent on 1-2-3.",
	} {
		if got := digest(s); got != base {
			t.Errorf("%q digests unlike the base answer", s)
		}
	}
	for _, s := range []string{
		"Your refund of 42 euros was sent on 2024-05-01.",
		"Your refund of 42 dollars was sent on 2024-05-01. Thanks",
		"Your refund-of 42 dollars was sent on 2024-05-01.",
		"Your refünd of 42 dollars was sent on 2024-05-01.",
	} {
		if got := digest(s); got == base {
			t.Errorf("%q digests like the base answer", s)
		}
	}
}

func FuzzDigestText(f *testing.F) {
	for _, s := range answerPieces {
		f.Add(s + " " + s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, size := digestText(s)
		if wh, wsize := digestReference(s); h != wh || size != wsize {
			t.Fatalf("digestText(%q) = %x, %d, want %x, %d", s, h, size, wh, wsize)
		}
	})
}

// BenchmarkAnswerDigest measures the digest of answers like
// BenchmarkObserve's, about 250 bytes of prose.
func BenchmarkAnswerDigest(b *testing.B) {
	d, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := newWords(1, 5000)
	answers := make([]string, 1024)
	for i := range answers {
		answers[i] = w.benign("v").OutputText
	}
	i := 0
	for b.Loop() {
		d.answerDigest(answers[i%len(answers)])
		i++
	}
}
