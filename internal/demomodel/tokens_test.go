package demomodel

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	for _, s := range []string{
		"", " ", "Hello", "Hello world", "  leading and trailing  ", "a\n\nb\tc",
		"internationalisation is a long word", "日本語のテキストです", "emoji 👍🏽 in text",
		strings.Repeat("x", 100), strings.Repeat(" ", 17), DefaultSystemPrompt, PoisonedAnswer,
	} {
		toks := tokenize(s)
		if strings.Join(toks, "") != s {
			t.Errorf("%q: tokens %q do not rebuild it", s, toks)
		}
		if len(toks) != countTokens(s) {
			t.Errorf("%q: %d tokens, countTokens says %d", s, len(toks), countTokens(s))
		}
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || utf8.RuneCountInString(tok) > maxTokenRunes {
				t.Errorf("%q: bad token %q", s, tok)
			}
		}
	}
	if got := tokenize("Hello world, again"); strings.Join(got, "|") != "Hello| world|,| again" &&
		strings.Join(got, "|") != "Hello| world,| again" {
		t.Errorf("tokens %q", got)
	}
}

func TestTruncate(t *testing.T) {
	s := "one two three four five"
	if got, cut := truncate(s, 2); got != "one two" || !cut {
		t.Errorf("truncate 2: %q %v", got, cut)
	}
	if got, cut := truncate(s, 5); got != s || cut {
		t.Errorf("truncate 5: %q %v", got, cut)
	}
	if got, cut := truncate(s, 0); got != s || cut {
		t.Errorf("truncate 0: %q %v", got, cut)
	}
}

func TestLogprobsTopBound(t *testing.T) {
	// Every position can offer the most alternatives the API allows, all
	// distinct and in decreasing order.
	toks := tokenize(DefaultSystemPrompt + " the a to and")
	for _, lp := range logprobs(1, 2, toks, MaxTopLogprobs) {
		if len(lp.top) != MaxTopLogprobs {
			t.Fatalf("%q: %d alternatives", lp.token, len(lp.top))
		}
		seen := map[string]bool{}
		for i, a := range lp.top {
			if seen[a.token] || (i > 0 && a.lp >= lp.top[i-1].lp) || a.lp >= 0 {
				t.Fatalf("%q: alternatives %+v", lp.token, lp.top)
			}
			seen[a.token] = true
		}
	}
}
