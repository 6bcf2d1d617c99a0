package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Match says how a golden answer is held against its expectation.
type Match string

// The match modes.
const (
	// MatchExact: the answer, without leading and trailing white space, is
	// Expected (also trimmed), or its SHA-256 is ExpectedSHA256.
	MatchExact Match = "exact"
	// MatchContains: the answer holds Expected, ignoring case and runs of
	// white space.
	MatchContains Match = "contains"
	// MatchSimilarity: the word-shingle Jaccard similarity of the answer
	// and Expected is at least MinSimilarity.
	MatchSimilarity Match = "similarity"
)

// DefaultMinSimilarity is MinSimilarity when it is left zero.
const DefaultMinSimilarity = 0.8

// Golden is one golden prompt: a question asked on a schedule whose answer
// must match an expectation and must stay the same while the version does.
// A golden with neither Expected nor ExpectedSHA256 is checked for
// consistency only.
type Golden struct {
	ID string `json:"id" yaml:"id"`
	// Route and Model say what the prompt is for; the scheduler labels
	// its events with them.
	Route  string `json:"route,omitempty" yaml:"route,omitempty"`
	Model  string `json:"model,omitempty" yaml:"model,omitempty"`
	Prompt string `json:"prompt" yaml:"prompt"`
	// Expected is the expected answer (or, for MatchContains, the part
	// of it that must appear); ExpectedSHA256 is the hex SHA-256 of the
	// trimmed expected answer, for MatchExact, when the answer itself
	// should not be in the configuration.
	Expected       string `json:"expected,omitempty" yaml:"expected,omitempty"`
	ExpectedSHA256 string `json:"expected_sha256,omitempty" yaml:"expected_sha256,omitempty"`
	// Match defaults to exact when there is an expectation.
	Match         Match   `json:"match,omitempty" yaml:"match,omitempty"`
	MinSimilarity float64 `json:"min_similarity,omitempty" yaml:"min_similarity,omitempty"`
}

// Validate reports the first thing wrong with g.
func (g Golden) Validate() error {
	switch {
	case strings.TrimSpace(g.ID) != g.ID || g.ID == "":
		return errors.New("id must be set, without surrounding spaces")
	case len(g.ID) > MaxGoldenID || !utf8.ValidString(g.ID):
		return fmt.Errorf("id must be valid UTF-8 of at most %d bytes", MaxGoldenID)
	case strings.TrimSpace(g.Prompt) == "":
		return fmt.Errorf("golden %q: empty prompt", g.ID)
	case len(g.Prompt) > MaxAnswer || len(g.Expected) > MaxAnswer:
		return fmt.Errorf("golden %q: prompt and expected answer must be at most %d bytes", g.ID, MaxAnswer)
	case !utf8.ValidString(g.Prompt) || !utf8.ValidString(g.Expected) || !utf8.ValidString(g.Route) || !utf8.ValidString(g.Model):
		return fmt.Errorf("golden %q: not valid UTF-8", g.ID)
	}
	if g.ExpectedSHA256 != "" {
		if b, err := hex.DecodeString(g.ExpectedSHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("golden %q: expected_sha256 is not a hex SHA-256", g.ID)
		}
		if g.Expected != "" {
			return fmt.Errorf("golden %q: give expected or expected_sha256, not both", g.ID)
		}
	}
	hasExpectation := g.Expected != "" || g.ExpectedSHA256 != ""
	switch g.Match {
	case "":
	case MatchExact:
		if !hasExpectation {
			return fmt.Errorf("golden %q: match %q needs expected or expected_sha256", g.ID, g.Match)
		}
	case MatchContains, MatchSimilarity:
		if strings.TrimSpace(g.Expected) == "" {
			return fmt.Errorf("golden %q: match %q needs expected", g.ID, g.Match)
		}
	default:
		return fmt.Errorf("golden %q: unknown match %q (want exact, contains or similarity)", g.ID, g.Match)
	}
	if g.MinSimilarity < 0 || g.MinSimilarity > 1 || g.MinSimilarity != g.MinSimilarity {
		return fmt.Errorf("golden %q: min_similarity %v out of [0, 1]", g.ID, g.MinSimilarity)
	}
	if g.MinSimilarity != 0 && g.Match != MatchSimilarity {
		return fmt.Errorf("golden %q: min_similarity needs match %q", g.ID, MatchSimilarity)
	}
	return nil
}

// goldenCheck is a golden prompt ready to judge answers.
type goldenCheck struct {
	g        Golden
	match    Match
	exact    string   // trimmed expected answer
	digest   string   // lower-case hex
	folded   string   // expected, folded for contains
	shingles []uint64 // expected, for similarity
	minSim   float64
}

func compileGolden(g Golden) goldenCheck {
	c := goldenCheck{g: g, match: g.Match, minSim: g.MinSimilarity}
	if c.match == "" && (g.Expected != "" || g.ExpectedSHA256 != "") {
		c.match = MatchExact
	}
	c.exact = strings.TrimSpace(g.Expected)
	c.digest = strings.ToLower(g.ExpectedSHA256)
	c.folded = fold(g.Expected)
	if c.match == MatchSimilarity {
		c.shingles = shingles(g.Expected, nil)
		if c.minSim == 0 {
			c.minSim = DefaultMinSimilarity
		}
	}
	return c
}

// matches reports whether answer meets the expectation, and describes it.
func (c *goldenCheck) matches(answer string, sh []uint64) (bool, string) {
	switch c.match {
	case MatchExact:
		a := strings.TrimSpace(answer)
		if c.digest != "" {
			sum := sha256.Sum256([]byte(a))
			return hex.EncodeToString(sum[:]) == c.digest, "the expected answer's SHA-256"
		}
		return a == c.exact, "the expected answer exactly"
	case MatchContains:
		return strings.Contains(fold(answer), c.folded), "the expected text"
	case MatchSimilarity:
		j := jaccard(sh, c.shingles)
		return j >= c.minSim, fmt.Sprintf("the expected answer with similarity %.2f (needs %.2f)", j, c.minSim)
	}
	return true, ""
}

// fold lower-cases s and makes every run of white space one space.
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ToValidUTF8(s, "\uFFFD"))), " ")
}

// shingles returns the sorted, distinct hashes of the two-word shingles of
// s (of its one word, if it has only one), appended to buf[:0].
func shingles(s string, buf []uint64) []uint64 {
	out := buf[:0]
	var prev uint64
	n := 0
	scan(s, func(t token) {
		if n > 0 {
			out = append(out, mix(prev*fnvPrime^t.hash))
		}
		prev = t.hash
		n++
	})
	if n == 1 {
		out = append(out, mix(prev))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets; two empty sets are
// equal.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	both, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// bottomK is how many of its smallest shingle hashes stand for a first
// answer. For answers with at most bottomK shingles the comparison is
// exact; for longer ones it estimates the Jaccard similarity with a
// standard error below 0.05.
const bottomK = 128

// bottom returns the bottomK smallest of a sorted set, as a copy.
func bottom(sorted []uint64) []uint64 {
	return slices.Clone(sorted[:min(len(sorted), bottomK)])
}

// similarity estimates the Jaccard similarity of two sets from their
// bottom-k sketches: among the k smallest hashes of their union, the share
// that are in both. When neither sketch was cut it is the exact value.
func similarity(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	k := bottomK
	if len(a) < bottomK && len(b) < bottomK {
		k = len(a) + len(b) // both whole: the union is all there is
	}
	both, seen, i, j := 0, 0, 0, 0
	for seen < k && (i < len(a) || j < len(b)) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			i++
		case i >= len(a) || b[j] < a[i]:
			j++
		default:
			both++
			i++
			j++
		}
		seen++
	}
	if seen == 0 {
		return 1
	}
	return float64(both) / float64(seen)
}
