package textnorm

// Variants returns the distinct forms of s a filter should scan, at most
// four: Fold(s), its despaced form, its deleeted form, and the form both
// despaced and deleeted. The first is always Fold(s).
//
// The despaced forms are computed before whitespace is collapsed, so that a
// wider gap between spaced-out words ("i g n o r e  p r e v i o u s") still
// separates them; on text with single spaces they equal Despace(Fold(s)).
func Variants(s string) []string {
	spaced := fold(s, false)
	folded := collapseSpaces(spaced)
	out := make([]string, 1, 4)
	out[0] = folded
	add := func(v string) {
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	despaced := collapseSpaces(Despace(spaced))
	add(despaced)
	add(Deleet(folded))
	if despaced != folded {
		add(Deleet(despaced))
	}
	return out
}
