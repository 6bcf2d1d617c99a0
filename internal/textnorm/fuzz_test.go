package textnorm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	for _, tt := range hidden {
		f.Add(tt.in)
	}
	for _, s := range []string{
		"", " ", "a\xffb", "e\u200b\u0301", "😀\u200d\u200d😀", "क्\u200dष", "می\u200cخواهم",
		"a\ufe00\ufe01\U000E0100", "\u0301\u0301", "i g n o r e  p r e v", "1 g n 0 r 3",
		"\U000E0049\U000E0047", "ǅ ǈ ǋ ǲ", "ﷺ ﷻ", "ΐ ΰ", "ᾈ", "\u0345", "Ϊ́",
	} {
		f.Add(s)
	}
}

func FuzzSanitize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Sanitize(%q) = %q, not valid UTF-8", s, got)
		}
		if again := Sanitize(got); again != got {
			t.Fatalf("Sanitize not idempotent: %q → %q → %q", s, got, again)
		}
		if strings.ContainsAny(got, "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff\u00ad\u061c\u180e") {
			t.Fatalf("Sanitize(%q) = %q keeps an invisible character", s, got)
		}
		for _, r := range got {
			if r >= 0xE0000 && r <= 0xE007F {
				t.Fatalf("Sanitize(%q) = %q keeps tag character %U", s, got, r)
			}
		}
	})
}

func FuzzFold(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q, not valid UTF-8", s, got)
		}
		if again := Fold(got); again != got {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, got, again)
		}
		if Sanitize(got) != got {
			t.Fatalf("Fold(%q) = %q is not sanitised", s, got)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q has untrimmed or repeated spaces", s, got)
		}
		vs := Variants(s)
		if len(vs) == 0 || len(vs) > 4 || vs[0] != got {
			t.Fatalf("Variants(%q) = %q, want 1..4 forms starting with %q", s, vs, got)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				t.Fatalf("Variants(%q) has invalid UTF-8 %q", s, v)
			}
		}
		for _, v := range []string{Despace(s), Deleet(s), Hidden(s)} {
			if utf8.ValidString(s) && !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 %q from valid %q", v, s)
			}
		}
	})
}
