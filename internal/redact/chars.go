package redact

import "io"

var errEOF = io.EOF

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) || isLower(c) }

// isLocal reports whether c may be in the local part of an email address as
// the rule writes it: letters, digits and . _ % + -.
func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isB64URL(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// isNumberJoin reports whether c joins two numbers into one when digits stand
// on both sides of it ("3.14", "1,299", "2023-01-15", "12/05").
func isNumberJoin(c byte) bool { return c == '.' || c == ',' || c == '-' || c == '/' }

// edgeSets[e][c] is true when byte c may not touch a match on an edge e side.
var edgeSets = func() (t [edgeNumber + 1][256]bool) {
	for c := range 256 {
		b := byte(c)
		t[edgeLetter][c] = isUpper(b) || isLower(b)
		t[edgeAlnum][c] = isAlnum(b)
		t[edgeToken][c] = isB64URL(b)
		t[edgeBase64][c] = isAlnum(b) || b == '+' || b == '/' || b == '='
		t[edgeNumber][c] = isAlnum(b)
	}
	return t
}()

// leftOK reports whether a match may begin at s[start] given the byte before.
func leftOK(e edge, s string, start int) bool {
	if e == edgeNone || start == 0 {
		return true
	}
	c := s[start-1]
	if edgeSets[e][c] {
		return false
	}
	return e != edgeNumber || !isNumberJoin(c) || start < 2 || !isDigit(s[start-2])
}

// rightOK reports whether a match may end at t[end], or more=true when that
// depends on bytes after t (only when !final).
func rightOK(e edge, t string, end int, final bool) (ok, more bool) {
	if e == edgeNone {
		return true, false
	}
	if end >= len(t) {
		return final, !final
	}
	c := t[end]
	if edgeSets[e][c] {
		return false, false
	}
	if e == edgeNumber && isNumberJoin(c) {
		if end+1 >= len(t) {
			return final, !final
		}
		return !isDigit(t[end+1]), false
	}
	return true, false
}

// maxNumberLen bounds the text countDigits reads: at least the window of
// every rule with minDigits, so that its count is never the smaller.
const maxNumberLen = 64

// countDigits counts the digits of the number at the start of t as
// enoughDigits does, and reports whether the number runs on to the end of t.
func countDigits(t string) (n int, open bool) {
	seps := 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case isDigit(c):
			n++
			seps = 0
		case c == ' ' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')' || c == '+':
			seps++
			if seps > 2 {
				return n, false
			}
		default:
			return n, false
		}
	}
	return n, true
}

// enoughDigits reports whether the number at the start of t has at least
// need digits, counting through short runs of the separators phone and card
// numbers are written with. It is the cheap test that keeps "2023" or
// "v1.2.3" away from the regular expressions.
func enoughDigits(t string, need int, final bool) (ok, more bool) {
	n, seps := 0, 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case isDigit(c):
			n++
			seps = 0
			if n >= need {
				return true, false
			}
		case c == ' ' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')' || c == '+':
			seps++
			if seps > 2 {
				return false, false
			}
		default:
			return false, false
		}
	}
	return false, !final
}

// keyEndsWith reports whether the key name just before the separator at s[p]
// ends with one of keys once lowercased and stripped of _ . - and spaces:
// `"DB_PASSWORD": `, `api-key = `, `os.environ["OPENAI_API_KEY"] = `,
// `AWS secret key: `. Only the last keySuffix letters and digits of the name
// can matter, so it reads at most a few dozen bytes back.
func keyEndsWith(s string, p int, keys []string) bool {
	j := p
	for k := 0; k < 6 && j > 0; k++ {
		c := s[j-1]
		if c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '`' && c != ']' {
			break
		}
		j--
	}
	// Collect the name's last letters and digits, backwards, lowercased.
	var rev [keySuffix]byte
	n := 0
collect:
	for i := j; i > 0 && n < keySuffix && j-i < 2*keySuffix; i-- {
		switch c := s[i-1]; {
		case isUpper(c):
			rev[n] = c + ('a' - 'A')
			n++
		case isLower(c) || isDigit(c):
			rev[n] = c
			n++
		case c == '_' || c == '.' || c == '-' || c == ' ':
		default:
			break collect // the name begins after c
		}
	}
next:
	for _, suf := range keys {
		if len(suf) > n {
			continue
		}
		for k := range len(suf) {
			if rev[k] != suf[len(suf)-1-k] {
				continue next
			}
		}
		return true
	}
	return false
}

// keySuffix is the longest key-name ending a rule lists ("secretaccesskey").
const keySuffix = 16
