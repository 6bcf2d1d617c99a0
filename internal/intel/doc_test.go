package intel

import (
	"os"
	"strings"
	"testing"
)

// The pattern table in the package documentation parses as it says.
func TestDocPatterns(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.SplitSeq(string(doc), "\n") {
		pattern, ok := strings.CutPrefix(line, "//\t[")
		if !ok {
			continue
		}
		end := strings.LastIndex(pattern, "]")
		want := strings.Fields(pattern[end+1:])[0]
		pattern = "[" + pattern[:end+1]
		pattern = strings.ReplaceAll(pattern, "<64 hex digits>", strings.Repeat("ab", 32))
		pattern = strings.ReplaceAll(pattern, "<24 hex digits>", strings.Repeat("cd", 12))
		inds := mustSTIX(t, stixBundle(stixIndicatorJSON(1, pattern)))
		if len(inds) != 1 || string(inds[0].Type) != want {
			t.Errorf("%s: got %q, want one %s", pattern, values(inds), want)
		}
		n++
	}
	if n != 8 {
		t.Errorf("found %d documented patterns, want 8", n)
	}
}
