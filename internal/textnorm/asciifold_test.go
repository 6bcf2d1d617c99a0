package textnorm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIndexASCIIFold: IndexASCIIFold finds the first match that a search of the
// lower-cased text finds, whichever byte of the text sought it looks for
// first.
func TestIndexASCIIFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	alphabet := "abAB xXkK.é"
	for range 200_000 {
		s := make([]byte, rng.IntN(40))
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		b := make([]byte, 1+rng.IntN(5))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		sub := LowerASCII(string(b))
		want := strings.Index(LowerASCII(string(s)), sub)
		for rare := range len(sub) {
			if got := IndexASCIIFold(string(s), sub, rare); got != want {
				t.Fatalf("%q in %q, looking for byte %d first: %d, want %d", sub, s, rare, got, want)
			}
		}
	}
	for sub, want := range map[string]byte{"api key for": 'k', "admin password": 'p', "begin private key": 'k', "a.e": '.'} {
		if got := sub[Rarest(sub)]; got != want {
			t.Errorf("rarest(%q) is %q, want %q", sub, got, want)
		}
	}
}
