package redact

import "strings"

// The scanners match the rules whose shape a bounded RE2 expression cannot
// express. Each reads only t (the rule's window from where the match would
// begin) and answers more=true, when !final, instead of guessing past it.

// scanCard reads groups of digits separated by one space or one dash (the
// same one throughout) and returns the longest run of whole groups, 13 to 19
// digits, that ends at a number boundary and passes valid. Groups before the
// last have 4 to 6 digits, as every card layout does (4-4-4-4, 4-6-5, ...).
func scanCard(t string, final bool, valid func(string) bool) (int, bool, bool) {
	var ends, total [19]int
	groups, digits, firstBad := 0, 0, -1
	var sep byte
	for i := 0; ; {
		j := i
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		if j == len(t) && !final {
			return 0, false, true
		}
		digits += j - i
		if digits > 19 {
			break
		}
		if n := j - i; firstBad < 0 && (n < 4 || n > 6) {
			firstBad = groups
		}
		ends[groups], total[groups] = j, digits
		groups++
		if j == len(t) {
			break
		}
		if c := t[j]; (c == ' ' || c == '-') && (sep == 0 || c == sep) {
			if j+1 == len(t) {
				if !final {
					return 0, false, true
				}
				break
			}
			if isDigit(t[j+1]) {
				sep, i = c, j+1
				continue
			}
		}
		break
	}
	for g := groups - 1; g >= 0 && total[g] >= 13; g-- {
		if firstBad >= 0 && firstBad < g {
			continue
		}
		ok, more := rightOK(edgeNumber, t, ends[g], final)
		if more {
			return 0, false, true
		}
		if ok && valid(t[:ends[g]]) {
			return ends[g], true, false
		}
	}
	return 0, false, false
}

// scanIBAN reads a country code and check digits, then exactly as many
// letters and digits as that country's IBAN has, allowing one space before
// any of them ("DE89 3704 0044 0532 0130 00").
func scanIBAN(t string, final bool, valid func(string) bool) (int, bool, bool) {
	if len(t) < 4 {
		return 0, false, !final
	}
	want := ibanLengths[t[:2]]
	if want == 0 || !isDigit(t[2]) || !isDigit(t[3]) {
		return 0, false, false
	}
	i := 4
	for n := 4; n < want; n++ {
		if i < len(t) && t[i] == ' ' {
			i++
		}
		if i == len(t) {
			return 0, false, !final
		}
		if c := t[i]; !isUpper(c) && !isDigit(c) {
			return 0, false, false
		}
		i++
	}
	if ok, more := rightOK(edgeAlnum, t, i, final); !ok {
		return 0, false, more
	}
	if !valid(t[:i]) {
		return 0, false, false
	}
	return i, true, false
}

// pemBody holds the bytes a PEM body may contain: base64, line breaks (also
// escaped as \n inside a JSON or code string) and the Proc-Type and DEK-Info
// headers of encrypted keys.
var pemBody = func() (t [256]bool) {
	for c := range 256 {
		b := byte(c)
		t[c] = isAlnum(b) || strings.IndexByte("+/=:,- \t\r\n\\", b) >= 0
	}
	return t
}()

// scanPEM matches a private key block from its BEGIN line to its END line.
// Without an END line it matches the BEGIN line and the body bytes after it;
// either way it stops at maxPEM bytes.
func scanPEM(t string, final bool, _ func(string) bool) (int, bool, bool) {
	if len(t) >= maxPEM {
		t, final = t[:maxPEM], true
	}
	label, i, ok, more := pemLabel(t, len("-----BEGIN "), final)
	if !ok {
		return 0, false, more
	}
	if !strings.HasSuffix(label, "PRIVATE KEY") && !strings.HasSuffix(label, "PRIVATE KEY BLOCK") {
		return 0, false, false
	}
	const end = "-----END "
	for k := i; k < len(t); k++ {
		c := t[k]
		if c == '-' {
			rest := t[k:]
			if len(rest) < len(end) {
				if !final && rest == end[:len(rest)] {
					return 0, false, true
				}
			} else if rest[:len(end)] == end {
				_, e, ok, more := pemLabel(t, k+len(end), final)
				switch {
				case more:
					return 0, false, true
				case ok:
					return e, true, false
				}
				return k, true, false // a broken END line: the block ends before it
			}
		}
		if !pemBody[c] {
			return k, true, false
		}
	}
	if !final {
		return 0, false, true
	}
	return len(t), true, false
}

// pemLabel reads "LABEL-----" at t[i:] and returns the label and the offset
// after the dashes.
func pemLabel(t string, i int, final bool) (label string, end int, ok, more bool) {
	j := i
	for j < len(t) && j-i <= 64 && (isUpper(t[j]) || isDigit(t[j]) || t[j] == ' ') {
		j++
	}
	if j-i > 64 {
		return "", 0, false, false
	}
	const dashes = "-----"
	rest := t[j:]
	if len(rest) < len(dashes) {
		return "", 0, false, !final && rest == dashes[:len(rest)]
	}
	if rest[:len(dashes)] != dashes {
		return "", 0, false, false
	}
	return t[i:j], j + len(dashes), true, false
}

// scanJWT reads three base64url parts joined by dots: a header of at most
// 1 KiB (it begins "eyJ", a JSON object), a payload of at most 6000 bytes and
// a signature of at most 1 KiB, possibly empty (alg "none").
func scanJWT(t string, final bool, valid func(string) bool) (int, bool, bool) {
	h, ok, more := b64URLRun(t, 0, 1024, final)
	if !ok {
		return 0, false, more
	}
	if h < 10 || h == len(t) || t[h] != '.' {
		return 0, false, false
	}
	p, ok, more := b64URLRun(t, h+1, 6000, final)
	if !ok {
		return 0, false, more
	}
	if p-h-1 < 2 || p == len(t) || t[p] != '.' {
		return 0, false, false
	}
	e, ok, more := b64URLRun(t, p+1, 1024, final)
	if !ok {
		return 0, false, more
	}
	if valid != nil && !valid(t[:e]) {
		return 0, false, false
	}
	return e, true, false
}

// b64URLRun returns the end of the run of base64url bytes at t[i:], false if
// it is longer than limit.
func b64URLRun(t string, i, limit int, final bool) (int, bool, bool) {
	j := i
	for j < len(t) && isB64URL(t[j]) {
		j++
		if j-i > limit {
			return 0, false, false
		}
	}
	if j == len(t) && !final {
		return 0, false, true
	}
	return j, true, false
}
