package promptinject

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on decoding, per scored input.
const (
	maxDecodedBytes = 64 << 10 // decoded text kept
	maxPayloads     = 16       // payloads kept
	maxAttempts     = 64       // candidate runs decoded, kept or not
	maxDecodeDepth  = 3        // a payload inside a payload inside a payload
	minEncodedRun   = 16       // shortest base64 or hex run tried
)

// source says where the text of a unit comes from.
type source uint8

const (
	srcText source = iota
	srcHidden
	srcBase64
	srcHex
	srcBinary
	srcRot13
)

func (s source) String() string {
	return [...]string{"text", "hidden", "base64", "hex", "binary", "rot13"}[s]
}

func (s source) encoded() bool { return s >= srcBase64 }

type payload struct {
	src        source
	text       string
	depth      int // 0 for a payload in the input itself
	start, end int // where it was, encoded, in the text scanned at its depth
}

// decoder finds text encoded in base64, hex, binary or rot13 within a text
// and decodes it, within the bounds above.
type decoder struct {
	budget   int // decoded bytes still allowed
	attempts int
	out      []payload
}

func newDecoder() *decoder {
	return &decoder{budget: maxDecodedBytes, attempts: maxAttempts}
}

func (d *decoder) full() bool {
	return len(d.out) >= maxPayloads || d.budget <= 0 || d.attempts <= 0
}

// scan looks for payloads in s, and in what they decode to.
func (d *decoder) scan(s string, depth int) {
	if depth >= maxDecodeDepth {
		return
	}
	for i := 0; i < len(s) && !d.full(); {
		c := s[i]
		if i > 0 && isAlnum(s[i-1]) || !isBase64Byte(c) && c != '\\' {
			i++
			continue
		}
		if end, b, ok := binaryGroups(s, i); ok {
			d.keep(srcBinary, b, depth, i, end)
			i = end
			continue
		}
		if end, b, ok := hexPairs(s, i); ok {
			d.keep(srcHex, b, depth, i, end)
			i = end
			continue
		}
		if c == '\\' {
			i++
			continue
		}
		j := i
		upper, lower, digit, hexOnly := 0, 0, 0, true
		for j < len(s) && isBase64Byte(s[j]) {
			switch b := s[j]; {
			case 'A' <= b && b <= 'Z':
				upper++
				hexOnly = hexOnly && b <= 'F'
			case 'a' <= b && b <= 'z':
				lower++
				hexOnly = hexOnly && b <= 'f'
			case '0' <= b && b <= '9':
				digit++
			default:
				hexOnly = false
			}
			j++
		}
		run := s[i:j]
		for j < len(s) && s[j] == '=' && j-len(run)-i < 2 {
			j++
		}
		if len(run) >= minEncodedRun {
			switch {
			case hexOnly && len(run)%2 == 0 && (digit > 0):
				d.attempts--
				if b, err := hex.DecodeString(d.clip(run, 2)); err == nil {
					d.keep(srcHex, b, depth, i, j)
				}
			case upper > 0 && lower > 0:
				d.attempts--
				if b, ok := decodeBase64(d.clip(run, 4)); ok {
					d.keep(srcBase64, b, depth, i, j)
				}
			}
		}
		i = j
	}
	if !d.full() {
		d.rot13(s, depth)
	}
}

// clip shortens an encoded run to what the budget can decode, keeping a
// multiple of unit characters.
func (d *decoder) clip(run string, unit int) string {
	limit := d.budget * 2
	if unit == 4 {
		limit = d.budget * 4 / 3
	}
	limit += unit
	if len(run) > limit {
		run = run[:limit-limit%unit]
	}
	return run
}

func decodeBase64(run string) ([]byte, bool) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(run, "-_") {
		if strings.ContainsAny(run, "+/") {
			return nil, false
		}
		enc = base64.RawURLEncoding
	}
	if len(run)%4 == 1 {
		run = run[:len(run)-1]
	}
	b, err := enc.DecodeString(run)
	return b, err == nil
}

// keep adds decoded bytes as a payload if they read as text, and looks
// inside them for another layer.
func (d *decoder) keep(src source, b []byte, depth, start, end int) {
	if len(b) > d.budget {
		b = b[:d.budget]
	}
	if !readable(b) {
		return
	}
	t := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(t) > d.budget { // replacement characters are longer than the bytes they replace
		_, n := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-n]
	}
	d.budget -= len(t)
	d.out = append(d.out, payload{src: src, text: t, depth: depth, start: start, end: end})
	d.scan(t, depth+1)
}

// readable reports whether decoded bytes look like text: mostly valid UTF-8,
// mostly printable, with some letters.
func readable(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	runes, bad, letters := 0, 0, 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		i += n
		runes++
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case unicode.IsLetter(r):
			letters++
		case r == '\n' || r == '\t' || r == '\r' || unicode.IsPrint(r):
		default:
			bad++
		}
	}
	return bad*20 <= runes && letters*2 >= runes && letters >= 3
}

// binaryGroups parses groups of eight 0/1 digits separated by spaces, at
// least four of them, starting at s[i].
func binaryGroups(s string, i int) (end int, b []byte, ok bool) {
	for {
		if i+8 > len(s) {
			break
		}
		var v byte
		for k := 0; k < 8; k++ {
			c := s[i+k]
			if c != '0' && c != '1' {
				return end, b, len(b) >= 4
			}
			v = v<<1 | (c - '0')
		}
		if i+8 < len(s) && isAlnum(s[i+8]) {
			break
		}
		b = append(b, v)
		i += 8
		end = i
		if i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if len(b) >= maxDecodedBytes {
			break
		}
	}
	return end, b, len(b) >= 4
}

// hexPairs parses hex bytes written apart: "49 67 6e", "49:67:6e",
// "\x49\x67\x6e" or "0x49 0x67", at least eight of them, starting at s[i].
func hexPairs(s string, i int) (end int, b []byte, ok bool) {
	for len(b) < maxDecodedBytes {
		j := i
		switch {
		case strings.HasPrefix(s[j:], `\x`), strings.HasPrefix(s[j:], "0x"):
			j += 2
		}
		if j+2 > len(s) || !isHex(s[j]) || !isHex(s[j+1]) || j+2 < len(s) && isAlnum(s[j+2]) {
			break
		}
		b = append(b, unhex(s[j])<<4|unhex(s[j+1]))
		end = j + 2
		i = end
		if i < len(s) && (s[i] == ' ' || s[i] == ':' || s[i] == ',') {
			i++
		} else if !strings.HasPrefix(s[i:], `\x`) {
			break
		}
	}
	return end, b, len(b) >= 8
}

// rot13 decodes the stretches of Latin text in s that read as English once
// rotated and not before.
func (d *decoder) rot13(s string, depth int) {
	mention := mentionsROT13(s)
	for i := 0; i < len(s) && !d.full(); {
		if !isRot13Byte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isRot13Byte(s[j]) {
			j++
		}
		seg := s[i:j]
		i = j
		plain, rotated, words := englishWords(seg)
		if words < 3 || rotated < 1 || rotated <= plain || rotated < 2 && !mention {
			continue
		}
		d.attempts--
		b := []byte(seg)
		for k, c := range b {
			switch {
			case 'a' <= c && c <= 'z':
				b[k] = 'a' + (c-'a'+13)%26
			case 'A' <= c && c <= 'Z':
				b[k] = 'A' + (c-'A'+13)%26
			}
		}
		if len(b) > d.budget {
			b = b[:d.budget]
		}
		d.budget -= len(b)
		d.out = append(d.out, payload{src: srcRot13, text: string(b), depth: depth, start: i - len(seg), end: i})
		d.scan(string(b), depth+1)
	}
}

// commonWords are English words frequent in prompts and attacks; their
// rot13 forms are rare in any language.
var commonWords, rotatedWords = func() (map[string]bool, map[string]bool) {
	words := strings.Fields(`the and to of is you your are be this that it for with what all on not in
		me my do can please now ignore previous instructions system prompt tell say reveal secret password
		from will must have how give write print output any rules`)
	plain, rotated := map[string]bool{}, map[string]bool{}
	for _, w := range words {
		plain[w] = true
		r := []byte(w)
		for k, c := range r {
			r[k] = 'a' + (c-'a'+13)%26
		}
		rotated[string(r)] = true
	}
	return plain, rotated
}()

// englishWords counts the words of seg that are common English words, and
// those that are once rotated.
func englishWords(seg string) (plain, rotated, words int) {
	var buf [16]byte
	for w := range strings.FieldsFuncSeq(seg, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) {
		words++
		if len(w) > len(buf) {
			continue
		}
		lw := buf[:len(w)]
		for k := 0; k < len(w); k++ {
			c := w[k]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lw[k] = c
		}
		if commonWords[string(lw)] {
			plain++
		}
		if rotatedWords[string(lw)] {
			rotated++
		}
	}
	return plain, rotated, words
}

// mentionsROT13 reports whether s says "rot13", "rot-13" or "rot 13", in
// any case.
func mentionsROT13(s string) bool {
	for i := 0; i+5 <= len(s); i++ {
		if s[i]|0x20 != 'r' || s[i+1]|0x20 != 'o' || s[i+2]|0x20 != 't' {
			continue
		}
		j := i + 3
		if s[j] == '-' || s[j] == ' ' {
			j++
		}
		if j+2 <= len(s) && s[j] == '1' && s[j+1] == '3' {
			return true
		}
	}
	return false
}

func isRot13Byte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == ' ' || c == ',' || c == '.' || c == '\'' || c == '!' || c == '?' || c == '-'
}

func isBase64Byte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
