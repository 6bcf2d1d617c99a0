package textnorm

import (
	"strings"
	"unicode/utf8"
)

// Hidden returns the text smuggled invisibly in s, or "" if there is none.
// Models read two such encodings that Sanitize removes and people cannot see:
//
//   - Unicode tag characters U+E0020..U+E007E, each standing for the ASCII
//     character 0x20..0x7E ("ASCII smuggling");
//   - runs of two or more variation selectors after one character, each
//     standing for a byte (U+FE00..U+FE0F for 0..15, U+E0100..U+E01EF for
//     16..255).
//
// Separate hidden runs are joined with a space; invalid UTF-8 in decoded
// bytes becomes U+FFFD. Filters scan Variants(Hidden(s)) as well as
// Variants(s), so an instruction spelled only in tags is caught too.
func Hidden(s string) string {
	if !mayHide(s) {
		return ""
	}
	var out []byte
	var run []byte // the bytes of the current variation-selector run
	inTags := false
	endVS := func() {
		if len(run) >= 2 {
			out = appendRun(out, run)
		}
		run = run[:0]
	}
	for _, r := range s {
		switch {
		case r >= 0xE0020 && r <= 0xE007E:
			endVS()
			if !inTags && len(out) > 0 {
				out = append(out, ' ')
			}
			out = append(out, byte(r-0xE0000))
			inTags = true
			continue
		case r == 0xE0001 || r == 0xE007F:
			continue // language tag and cancel tag frame a tag run
		case r >= 0xFE00 && r <= 0xFE0F:
			run = append(run, byte(r-0xFE00))
		case r >= 0xE0100 && r <= 0xE01EF:
			run = append(run, byte(r-0xE0100+16))
		default:
			endVS()
		}
		inTags = false
	}
	endVS()
	if len(out) == 0 {
		return ""
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func appendRun(out, run []byte) []byte {
	if len(out) > 0 {
		out = append(out, ' ')
	}
	return append(out, run...)
}

// mayHide reports whether s has any tag character or variation selector,
// all of which are encoded with a lead byte 0xEF (U+FE0x) or 0xF3 (plane 14).
func mayHide(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0xEF || c == 0xF3 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			if r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0000 && r <= 0xE01EF {
				return true
			}
		}
	}
	return false
}
