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

// keyName is the end of the key name before a separator, lowercased and
// stripped of _ . - and spaces, reversed: `"DB_PASSWORD": ` gives
// "drowssapbd", as do `db-password = ` and `DB password: `. Only its last
// keySuffix letters and digits can matter to a rule.
type keyName struct {
	rev [keySuffix]byte
	n   int
}

// readKeyName reads the key name before the separator at s[p], skipping the
// closing quote, bracket and spaces (`os.environ["API_KEY"] = `). It reads
// at most 6+2*keySuffix bytes back.
func readKeyName(s string, p int) keyName {
	j := p
	for k := 0; k < 6 && j > 0; k++ {
		c := s[j-1]
		if c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '`' && c != ']' {
			break
		}
		j--
	}
	var k keyName
collect:
	for i := j; i > 0 && k.n < keySuffix && j-i < 2*keySuffix; i-- {
		switch c := s[i-1]; {
		case isUpper(c):
			k.rev[k.n] = c + ('a' - 'A')
			k.n++
		case isLower(c) || isDigit(c):
			k.rev[k.n] = c
			k.n++
		case c == '_' || c == '.' || c == '-' || c == ' ':
		default:
			break collect // the name begins after c
		}
	}
	return k
}

// endsWith reports whether the key name ends with one of keys.
func (k *keyName) endsWith(keys []string) bool {
next:
	for _, suf := range keys {
		if len(suf) > k.n {
			continue
		}
		for i := range len(suf) {
			if k.rev[i] != suf[len(suf)-1-i] {
				continue next
			}
		}
		return true
	}
	return false
}

// keySuffix is the longest key-name ending a rule lists ("secretaccesskey").
const keySuffix = 16
