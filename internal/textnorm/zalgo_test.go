package textnorm

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestLongCombiningRunsEnd: a run of more than 30 combining marks ("zalgo"
// text) once made Sanitize loop for ever, because NFKC inserts U+034F into
// such runs and Sanitize removes it again.
func TestLongCombiningRunsEnd(t *testing.T) {
	for _, in := range []string{
		"a" + strings.Repeat("\u0301", 40) + "b",
		strings.Repeat("e\u200b"+strings.Repeat("\u0308", 35), 50),
		"नमस्ते" + strings.Repeat("\u094d", 64),
	} {
		done := make(chan string, 1)
		go func() { done <- Sanitize(in) }()
		select {
		case out := <-done:
			if !utf8.ValidString(out) || strings.ContainsRune(out, '\u034f') {
				t.Errorf("Sanitize(%q) = %q", in, out)
			}
			if Fold(out) == "" && in != "" {
				t.Errorf("Fold emptied %q", in)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Sanitize does not return on %d bytes of combining marks", len(in))
		}
	}
}
