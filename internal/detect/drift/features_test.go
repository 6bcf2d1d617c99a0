package drift

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// refusedReference is refused as first written, byte by byte.
func refusedReference(out string) bool {
	var buf [refusalHead]byte
	n := 0
	for i := 0; i < len(out) && n < len(buf); i++ {
		c := out[i]
		switch {
		case n == 0 && (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '*'):
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xe2 && i+2 < len(out) && out[i+1] == 0x80 && out[i+2] == 0x99: // ’
			c, i = '\'', i+2
		}
		buf[n] = c
		n++
	}
	s := buf[:n]
	if n == 0 {
		return false
	}
	if s[0] == 'i' || s[0] == 'a' {
		for _, p := range refusalOpeners {
			if bytes.HasPrefix(s, p) {
				return true
			}
		}
	}
	if bytes.Contains(s, []byte("orry")) || bytes.Contains(s, []byte("polog")) {
		for _, p := range refusalVerbs {
			if bytes.Contains(s, p) {
				return true
			}
		}
	}
	return false
}

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

// TestRefusalAndShapeMatchReference: the eight-bytes-at-a-time readings
// of an answer agree with the byte-by-byte ones, on answers built from
// the phrases they look for, in any case, with ’, non-ASCII letters and
// the characters that fold to ASCII (ſ, the Kelvin sign).
func TestRefusalAndShapeMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	pieces := []string{"I can't", "I CANNOT", "i won’t", "I’m sorry", "I'm Sorry", "SORRY", "ſorry", "\u212Aelvin", "apologise",
		"As an AI", "can't help", "Unfortunately", "unable to assist", " ", "\n", "\t", "\"", "*", "- ", "1. ", "{", "[", "```",
		"é", "日本", "\xe2", "\xe2\x80", "Z", "hello", "I am unable", "not able to help", "refund", strings.Repeat("x", 150)}
	var refusals, apologies int
	for range 200000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got, want := refused(s), refusedReference(s)
		if got != want {
			t.Fatalf("refused(%q) = %v, want %v", s, got, want)
		}
		if got {
			refusals++
		}
		shape, wantShape := shapeOf(s), shapeReference(s)
		if shape != wantShape {
			t.Fatalf("shapeOf(%q) = %v, want %v", s, shape, wantShape)
		}
		if shape == shapeApology {
			apologies++
		}
	}
	if refusals < 1000 || apologies < 1000 {
		t.Errorf("%d refusals, %d apologies: the answers do not exercise both readings", refusals, apologies)
	}
}

// TestMayRefuseClearsOnlyNonRefusals: the quick look that clears most
// answers before refused judges them never clears one the byte-by-byte
// reading calls a refusal, on prose, random bytes and refusal phrases cut
// anywhere; and it does clear most ordinary answers.
func TestMayRefuseClearsOnlyNonRefusals(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	w := newWords(10, 3000)
	pieces := []string{"I can't", "i cannot help", "I won’t", "Sorry,", "I apologize", "As an AI", "can't assist",
		"I'm not able to", "I AM UNABLE", "i must decline", "\xe2\x80\x99", "\xc2\xa0", "@", "`", "\x00", "\x07", " ", "\n",
		"error", "progress", "dog", "carry", "Ärger"}
	cleared, prose := 0, 0
	for i := range 100000 {
		var s string
		switch i % 3 {
		case 0:
			s = w.sentence(3, 60)
			prose++
		case 1:
			b := make([]byte, rng.IntN(200))
			for k := range b {
				b[k] = byte(rng.IntN(256))
			}
			s = string(b)
		default:
			var b strings.Builder
			for range rng.IntN(10) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
				if rng.IntN(2) == 0 {
					b.WriteString(w.sentence(1, 5))
				}
			}
			s = b.String()
		}
		s = s[:rng.IntN(len(s)+1)]
		want := refusedReference(s)
		if got := refused(s); got != want {
			t.Fatalf("refused(%q) = %v, want %v", s, got, want)
		}
		j := 0
		for j < len(s) && isRefusalSpace(s[j]) {
			j++
		}
		if !mayRefuse(s[j:min(len(s), j+refusalHead)]) {
			if want {
				t.Fatalf("%q is cleared but is a refusal", s)
			}
			if i%3 == 0 {
				cleared++
			}
		}
	}
	if cleared < prose/2 {
		t.Errorf("%d of %d ordinary answers cleared", cleared, prose)
	}
}
