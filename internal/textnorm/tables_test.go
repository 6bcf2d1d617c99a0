package textnorm

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The fast tables must never claim a rune is left alone when the slow path
// would change it.
func TestTablesAgreeWithSlowPath(t *testing.T) {
	neighbours := []string{"é", "क", " "}
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r > 0xFFFF && r%31 != 0 && !mayRemove(r) {
			continue // sample the planes above the BMP
		}
		s := string(r)
		if !mayRemove(r) && !keep(r, 'a', " ") {
			t.Errorf("mayRemove(%U) = false, but keep rejects it", r)
		}
		if !isStable(s) {
			continue
		}
		for _, a := range neighbours {
			for _, b := range neighbours {
				in := a + s + b
				if !norm.NFKC.IsNormalString(in) {
					t.Fatalf("isStable(%U) but %q is not NFKC", r, in)
				}
				if isPlain(in) && sanitizeSlow(in) != in {
					t.Fatalf("isPlain(%q) but Sanitize changes it to %q", in, sanitizeSlow(in))
				}
			}
		}
	}
}

func TestFoldMatchesSpacedForm(t *testing.T) {
	for _, tt := range hidden {
		if got, want := collapseSpaces(fold(tt.in, false)), Fold(tt.in); got != want {
			t.Errorf("collapse(fold(%q, false)) = %q, Fold = %q", tt.in, got, want)
		}
	}
	_ = utf8.RuneError
}
