package intel

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type occurrence struct {
	pattern int32
	end     int
}

// naiveOccurrences finds every occurrence of every pattern, in the order
// literalSet.each reports them: by end, then longest pattern first.
func naiveOccurrences(patterns []string, text string) []occurrence {
	var out []occurrence
	for p, pat := range patterns {
		for i := 0; i+len(pat) <= len(text); i++ {
			if text[i:i+len(pat)] == pat {
				out = append(out, occurrence{int32(p), i + len(pat)})
			}
		}
	}
	slices.SortFunc(out, func(a, b occurrence) int {
		if a.end != b.end {
			return a.end - b.end
		}
		return len(patterns[b.pattern]) - len(patterns[a.pattern])
	})
	return out
}

func TestLiteralSetMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for round := range 300 {
		alphabet := "ab"
		if round%3 == 0 {
			alphabet = "abcé \x00\xff"
		}
		seen := map[string]bool{}
		var patterns []string
		for range 1 + rng.IntN(20) {
			p := word(alphabet, 1+rng.IntN(6))
			if !seen[p] {
				seen[p] = true
				patterns = append(patterns, p)
			}
		}
		text := word(alphabet, rng.IntN(80))
		want := naiveOccurrences(patterns, text)
		for _, limit := range []int64{0, 64, maxDFAEntries} { // trie, part DFA, all DFA
			m := buildLiteralSet(patterns, limit)
			if rows := int64(len(m.delta)) / int64(m.nclass); rows != min(int64(len(m.own)), max(limit/int64(m.nclass), 1)) {
				t.Fatalf("limit %d: %d DFA rows for %d nodes", limit, rows, len(m.own))
			}
			var got []occurrence
			m.each(text, func(p int32, end int) { got = append(got, occurrence{p, end}) })
			if !slices.Equal(got, want) {
				t.Fatalf("patterns %q, text %q, DFA limit %d:\ngot  %v\nwant %v", patterns, text, limit, got, want)
			}
		}
	}
}

func TestLiteralSetManyPatterns(t *testing.T) {
	var patterns []string
	for i := range 5000 {
		patterns = append(patterns, "signature number "+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa36(i))
	}
	text := "prefix " + patterns[4321] + " middle " + patterns[17] + " end"
	want := naiveOccurrences(patterns, text)
	for _, limit := range []int64{0, 1000, maxDFAEntries} {
		m := buildLiteralSet(patterns, limit)
		var got []occurrence
		m.each(text, func(p int32, end int) { got = append(got, occurrence{p, end}) })
		if !slices.Equal(got, want) || len(got) < 2 {
			t.Errorf("DFA limit %d: got %v, want %v", limit, got, want)
		}
	}
}

func itoa36(i int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 36 {
		b = append([]byte{digits[i%36]}, b...)
	}
	return string(b)
}
