package redact

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// digitsOf copies the digits of s into buf and returns how many there were,
// or -1 if there are more than len(buf).
func digitsOf(s string, buf []byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if n == len(buf) {
				return -1
			}
			buf[n] = s[i]
			n++
		}
	}
	return n
}

// validCard accepts 13–19 digits that pass the Luhn check and begin with the
// prefix of a card network issuing that length.
func validCard(s string) bool {
	var buf [19]byte
	n := digitsOf(s, buf[:])
	if n < 13 {
		return false
	}
	d := buf[:n]
	return luhn(d) && cardNetwork(d)
}

func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardNetwork reports whether d has the IIN prefix and length of a major
// card network.
func cardNetwork(d []byte) bool {
	prefix := func(k int) int {
		v := 0
		for _, c := range d[:k] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	n := len(d)
	p2, p3, p4 := prefix(2), prefix(3), prefix(4)
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case 51 <= p2 && p2 <= 55, 2221 <= p4 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011, 644 <= p3 && p3 <= 649, p2 == 65: // Discover
		return 16 <= n && n <= 19
	case 3528 <= p4 && p4 <= 3589: // JCB
		return 16 <= n && n <= 19
	case 300 <= p3 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return 14 <= n && n <= 19
	case p2 == 62: // UnionPay
		return 16 <= n && n <= 19
	case 2200 <= p4 && p4 <= 2204: // Mir
		return 16 <= n && n <= 19
	case p2 == 50, 56 <= p2 && p2 <= 69: // Maestro
		return 13 <= n && n <= 19
	}
	return false
}

// ibanLengths is the IBAN length of each country in the SWIFT IBAN registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
	"JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
	"MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
	"PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
	"SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// validIBAN accepts an IBAN (spaces allowed) of its country's length whose
// check digits pass ISO 7064 mod 97-10.
func validIBAN(s string) bool {
	var buf [34]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			continue
		}
		if n == len(buf) {
			return false
		}
		buf[n] = s[i]
		n++
	}
	if n < 4 || ibanLengths[string(buf[:2])] != n {
		return false
	}
	rem := 0
	for i := range n {
		switch c := buf[(i+4)%n]; {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validSSN rejects the numbers the SSA never issues: area 000, 666 or
// 900–999, group 00, serial 0000.
func validSSN(s string) bool {
	area, group, serial := s[0:3], s[4:6], s[7:11]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

// validNINO rejects the prefixes HMRC never allocates.
func validNINO(s string) bool {
	switch s[:2] {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

// validPhone checks the digit count of each form the phone pattern allows:
// 8–15 for E.164, 9–12 for a European national number, 10 or 11 (with the
// leading 1) for North America.
func validPhone(s string) bool {
	var buf [20]byte
	n := digitsOf(s, buf[:])
	switch s[0] {
	case '+':
		return 8 <= n && n <= 15
	case '0':
		return 9 <= n && n <= 12
	}
	return n == 10 || n == 11
}

// validJWT accepts a token whose header is base64url JSON with an "alg".
func validJWT(tok string) bool {
	dot := strings.IndexByte(tok, '.')
	if dot < 0 {
		return false
	}
	header, err := base64.RawURLEncoding.DecodeString(tok[:dot])
	if err != nil {
		return false
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	return json.Unmarshal(header, &h) == nil && h.Alg != nil
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// charClasses reports which of lower case, upper case, digits and other
// symbols s contains. The separators . _ - do not count as symbols: they
// are what identifiers and references (process.env.API_KEY) are made of.
func charClasses(s string) (lower, upper, digit, symbol bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isLower(c):
			lower = true
		case isUpper(c):
			upper = true
		case isDigit(c):
			digit = true
		case c != '.' && c != '_' && c != '-':
			symbol = true
		}
	}
	return
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// validRandom accepts a token body that mixes at least two of lower case,
// upper case and digits, as generated keys do and hyphenated words
// ("sk-learn-compatible-estimators") do not.
func validRandom(s string) bool {
	lower, upper, digit, _ := charClasses(s)
	return count(lower, upper, digit) >= 2
}

// validAWSSecret accepts 40 characters that look random: at least 3.5 bits
// of entropy per byte and two kinds of character.
func validAWSSecret(s string) bool {
	return validRandom(s) && entropy(s) >= 3.5
}

// Thresholds for generic-secret values. Short passwords have little room for
// entropy (8 distinct bytes are exactly 3 bits), so the bar rises with length.
const (
	genericMinEntropy     = 2.5 // bits per byte, values under 16 bytes
	genericMinEntropyLong = 3.0 // bits per byte, values of 16 bytes or more
)

// validGenericSecret accepts a value assigned to a secret-sounding key when
// it looks like a credential rather than a placeholder or a reference: not
// starting like ${VAR}, <your key>, {{ var }} or %(var)s; a letter and a
// digit, or three kinds of character (lower, upper, digit, symbol); and at
// least genericMinEntropy bits per byte (genericMinEntropyLong from 16 bytes).
func validGenericSecret(s string) bool {
	if len(s) < 8 {
		return false
	}
	switch s[0] {
	case '$', '<', '{', '%':
		return false
	}
	lower, upper, digit, symbol := charClasses(s)
	if !(digit && (lower || upper)) && count(lower, upper, digit, symbol) < 3 {
		return false
	}
	min := genericMinEntropy
	if len(s) >= 16 {
		min = genericMinEntropyLong
	}
	return entropy(s) >= min
}
