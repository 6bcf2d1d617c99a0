package textnorm

import "strings"

// IndexASCIIFold searches without regard to ASCII case. Rather than
// stopping at every byte that could start the text sought (in English
// prose, every "a" of "api key"), it looks only where the text's rarest
// byte could be, using strings.IndexByte for each case of that byte; each
// byte of s is looked at once or twice whatever it holds.

// IndexASCIIFold is the index of the first sub (lower case) in s, ignoring
// ASCII case, or -1; rare is the offset in sub of the byte to look for
// first (see Rarest). Other bytes, non-ASCII ones included, must match
// exactly.
func IndexASCIIFold(s, sub string, rare int) int {
	if len(sub) == 0 {
		return 0
	}
	if len(s) < len(sub) {
		return -1
	}
	lo := sub[rare]
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	// at[i] is where sub's rare byte would be for a match at i.
	at := s[rare : len(s)-len(sub)+rare+1]
	n := len(at)
	nextLo, nextUp := nextByte(at, lo, 0), n
	if up != lo {
		nextUp = nextByte(at, up, 0)
	}
	for {
		i := min(nextLo, nextUp)
		if i == n {
			return -1
		}
		if equalASCIIFold(s[i:i+len(sub)], sub) {
			return i
		}
		if i == nextLo {
			nextLo = nextByte(at, lo, i+1)
		} else {
			nextUp = nextByte(at, up, i+1)
		}
	}
}

// nextByte is the index of the first c in s from from on, or len(s).
func nextByte(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}

// equalASCIIFold reports whether s, ASCII letters lower-cased, is lower.
func equalASCIIFold(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Rarest is the offset of the byte of sub (lower case) least common in
// English text, by how often letters occur in it: the byte for
// IndexASCIIFold to look for first.
func Rarest(sub string) int {
	best := 0
	for i := 1; i < len(sub); i++ {
		if Commonness(sub[i]) < Commonness(sub[best]) {
			best = i
		}
	}
	return best
}

// Commonness ranks a byte by how often it occurs in English prose, lower
// case: white space and the most frequent letters highest, 0 the rarest.
func Commonness(c byte) uint8 { return commonness[c] }

var commonness = func() (t [256]uint8) {
	const byFrequency = "zqxjkvbpygfwmuclrdhsnioate " // rarest first
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = 6 // as common as b
		case c == '.' || c == ',':
			t[c] = 10 // as g
		case c < 0x80 && strings.IndexByte(byFrequency, byte(c)) < 0:
			t[c] = 4 // other punctuation: as k
		}
	}
	for i := range len(byFrequency) {
		t[byFrequency[i]] = uint8(i)
	}
	t['\n'], t['\t'] = t[' '], t[' ']
	return t
}()

// LowerASCII returns s with its ASCII letters lower-cased, the form
// IndexASCIIFold wants the text sought in.
func LowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
