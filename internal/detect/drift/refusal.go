package drift

import "bytes"

// refusalHead is how much of an answer is looked at for a refusal.
const refusalHead = 160

// refused reports whether an answer opens with a refusal: "I can't",
// "I cannot", "I won't", "I'm unable", "As an AI" and the like, or an
// apology together with a can't. "I'm sorry to hear that" alone is not a
// refusal. It is the same judgement as the anomaly detector's, kept here in
// its smallest form because that one is not exported; if they drift apart,
// the drift detector's refusal rate stays consistent with itself, which is
// all a distribution comparison needs.
func refused(out string) bool {
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
	if bytes.Contains(s, orry) || bytes.Contains(s, polog) {
		for _, p := range refusalVerbs {
			if bytes.Contains(s, p) {
				return true
			}
		}
	}
	return false
}

var orry, polog = []byte("orry"), []byte("polog")

func byteStrings(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

var refusalOpeners = byteStrings(
	"i can't", "i cannot", "i can not", "i won't", "i will not", "i'm unable", "i am unable",
	"i'm not able to", "i am not able to", "i must decline", "i'm not going to", "as an ai",
)

var refusalVerbs = byteStrings(
	"can't help", "can't assist", "can't provide", "can't comply", "cannot help", "cannot assist",
	"cannot provide", "cannot comply", "unable to help", "unable to assist", "unable to provide",
	"not able to help", "not able to assist", "won't be able to", "can't do that", "cannot do that",
)
