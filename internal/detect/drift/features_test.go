package drift

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// shapeReference is shapeOf as first written.
func shapeReference(text string) uint8 {
	h := head(text, shapeScan)
	high := 0
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			high++
		}
	}
	if 10*high >= 3*len(h) {
		return shapeNonASCII
	}
	if strings.Contains(h, "```") {
		return shapeCode
	}
	lead := strings.TrimLeft(h, " \t\r\n")
	if lead == "" {
		return shapeProse
	}
	switch lead[0] {
	case '{', '[':
		return shapeJSON
	case '-', '*':
		if len(lead) > 1 && lead[1] == ' ' {
			return shapeList
		}
	}
	if len(lead) > 2 && lead[0] >= '1' && lead[0] <= '9' && (lead[1] == '.' || lead[1] == ')') && lead[2] == ' ' {
		return shapeList
	}
	if hasFoldPrefix(lead, "sorry") || hasFoldPrefix(lead, "i'm sorry") || hasFoldPrefix(lead, "i’m sorry") ||
		hasFoldPrefix(lead, "i am sorry") || hasFoldPrefix(lead, "i apologi") || hasFoldPrefix(lead, "unfortunately") {
		return shapeApology
	}
	return shapeProse
}

// TestShapeMatchesReference: the eight-bytes-at-a-time reading of an
// answer's shape agrees with the byte-by-byte one, on answers built from
// the phrases it looks for, in any case, with ’, non-ASCII letters and
// the characters that fold to ASCII (ſ, the Kelvin sign).
func TestShapeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	pieces := []string{"I can't", "I CANNOT", "i won’t", "I’m sorry", "I'm Sorry", "SORRY", "ſorry", "\u212Aelvin", "apologise",
		"As an AI", "can't help", "Unfortunately", "unable to assist", " ", "\n", "\t", "\"", "*", "- ", "1. ", "{", "[", "```",
		"é", "日本", "\xe2", "\xe2\x80", "Z", "hello", "I am unable", "not able to help", "refund", strings.Repeat("x", 150)}
	apologies := 0
	for range 200000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		shape, wantShape := shapeOf(s), shapeReference(s)
		if shape != wantShape {
			t.Fatalf("shapeOf(%q) = %v, want %v", s, shape, wantShape)
		}
		if shape == shapeApology {
			apologies++
		}
	}
	if apologies < 1000 {
		t.Errorf("%d apologies: the answers do not exercise the reading", apologies)
	}
}
