package redact

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

// maxNumberLen bounds the text countDigits reads for the shared count: at
// least the window of every rule with minDigits, so that count is never the
// smaller.
const maxNumberLen = 64

// countDigits counts the digits of the number at the start of t, through
// short runs of the separators phone and card numbers are written with, and
// reports whether the number runs on to the end of t. It is the cheap test
// that keeps "2023" or "v1.2.3" away from the number rules.
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
