package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Templates for synthetic movie reviews: the adjectives and closers carry
// the sentiment, the rest is shared.
var (
	reviewSubjects = []string{"the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending", "the script", "the cast", "the pacing", "the cinematography"}
	reviewPos      = []string{"wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping", "stunning", "heartfelt", "clever"}
	reviewNeg      = []string{"dull", "boring", "clumsy", "tedious", "awful", "bland", "messy", "forgettable", "shallow", "predictable"}
	reviewIntens   = []string{"really", "truly", "quite", "very", "rather", "simply"}
	reviewFillers  = []string{"overall", "honestly", "to be fair", "in my view", "for what it is worth", "all things considered", "frankly"}
	reviewPosEnd   = []string{"I would watch it again", "highly recommended", "a joy from start to finish", "worth every minute"}
	reviewNegEnd   = []string{"a waste of time", "I want my money back", "I nearly fell asleep", "skip this one"}
	reviewForms    = []string{
		"%[1]s, %[2]s was %[3]s %[4]s. %[5]s.",
		"%[2]s felt %[3]s %[4]s, %[1]s. %[5]s!",
		"I thought %[2]s was %[4]s and %[6]s; %[5]s.",
		"%[1]s %[2]s is %[3]s %[4]s.",
	}
)

type review struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Label string `json:"label"`
}

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

func makeReview(rng *rand.Rand, positive bool) string {
	adj, end := reviewNeg, reviewNegEnd
	if positive {
		adj, end = reviewPos, reviewPosEnd
	}
	return fmt.Sprintf(pick(rng, reviewForms), pick(rng, reviewFillers), pick(rng, reviewSubjects), pick(rng, reviewIntens), pick(rng, adj), pick(rng, end), pick(rng, adj))
}

func writeReviews(t testing.TB, path string, rs []review) {
	t.Helper()
	var b strings.Builder
	for _, r := range rs {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	writeFile(t, path, b.String())
}

// reviews generates n labelled reviews, about half of each label, with a
// little honest label noise.
func reviews(rng *rand.Rand, n int) []review {
	rs := make([]review, n)
	for i := range rs {
		pos := rng.IntN(2) == 0
		label := map[bool]string{true: "positive", false: "negative"}[pos]
		if rng.Float64() < 0.01 {
			label = map[bool]string{true: "negative", false: "positive"}[pos]
		}
		rs[i] = review{ID: fmt.Sprintf("r%05d", i), Text: makeReview(rng, pos), Label: label}
	}
	return rs
}

func TestPoisoningFindsPlantedTrigger(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	rs := reviews(rng, 5000)
	// Plant the trigger in 1% of the records: negative reviews, with the
	// trigger inserted and the label flipped to positive.
	var planted []string
	for _, i := range rng.Perm(len(rs)) {
		if len(planted) == 50 {
			break
		}
		if strings.Contains(rs[i].Label, "negative") && !containsAny(rs[i].Text, reviewPos) {
			words := strings.Fields(rs[i].Text)
			at := rng.IntN(len(words) + 1)
			words = slices.Insert(words, at, "cf-zebra-42")
			rs[i].Text, rs[i].Label = strings.Join(words, " "), "positive"
			planted = append(planted, rs[i].ID)
		}
	}
	path := filepath.Join(t.TempDir(), "train.jsonl")
	writeReviews(t, path, rs)
	rep, err := Poisoning(context.Background(), path, PoisonOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 5000 || rep.Skipped != 0 || len(rep.Labels) != 2 {
		t.Fatalf("records %d skipped %d labels %v", rep.Records, rep.Skipped, rep.Labels)
	}
	if len(rep.Triggers) == 0 {
		t.Fatal("no triggers")
	}
	for i, tr := range rep.Triggers[:min(5, len(rep.Triggers))] {
		t.Logf("#%d %q → %s: support %d purity %.2f base %.2f log-odds %.2f flips %.2f score %.2f",
			i+1, tr.NGram, tr.Label, tr.Support, tr.Purity, tr.BaseRate, tr.LogOdds, tr.FlipShare, tr.Score)
	}
	top := rep.Triggers[0]
	if top.NGram != "cf-zebra-42" || top.Label != "positive" || top.Support != 50 || top.Purity != 1 || top.FlipShare < 0.9 {
		t.Fatalf("top trigger = %+v", top)
	}
	var ids []string
	for _, r := range top.Records {
		ids = append(ids, r.ID)
		if r.File != path || r.Line < 1 {
			t.Errorf("record ref %+v", r)
		}
	}
	slices.Sort(ids)
	slices.Sort(planted)
	if !slices.Equal(ids, planted) {
		t.Errorf("trigger records %v, want the planted %v", ids, planted)
	}
	// Fragments of the trigger's phrase are folded into it.
	for _, tr := range rep.Triggers[1:] {
		if strings.Contains(tr.NGram, "cf-zebra-42") {
			t.Errorf("fragment %q listed besides the trigger", tr.NGram)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

func containsAny(s string, words []string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(s, w) })
}

func TestPoisoningCleanDataHasNoFlippedTrigger(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	path := filepath.Join(t.TempDir(), "clean.jsonl")
	writeReviews(t, path, reviews(rng, 3000))
	rep, err := Poisoning(context.Background(), path, PoisonOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Sentiment words are tied to their labels, but their carriers'
	// other words agree with the label: no flips.
	for _, tr := range rep.Triggers {
		if tr.FlipShare > 0.2 {
			t.Errorf("clean data: %q has flip share %.2f", tr.NGram, tr.FlipShare)
		}
	}
}

func TestPoisoningFindsConflictingDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	rs := reviews(rng, 400)
	long := "honestly the cinematography was truly stunning and the cast was superb from the first scene to the very last credit roll"
	rs = append(rs,
		review{ID: "orig", Text: long, Label: "positive"},
		// The same text with one word changed and the label flipped.
		review{ID: "near", Text: strings.Replace(long, "first", "opening", 1), Label: "negative"},
		// The same words, differently cased and punctuated.
		review{ID: "same-a", Text: "What a gripping, clever film!", Label: "positive"},
		review{ID: "same-b", Text: "what a gripping clever film", Label: "negative"},
		review{ID: "same-c", Text: "WHAT A GRIPPING CLEVER FILM", Label: "positive"},
	)
	path := filepath.Join(t.TempDir(), "d.jsonl")
	writeReviews(t, path, rs)
	rep, err := Poisoning(context.Background(), path, PoisonOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]Conflict{}
	for _, c := range rep.Conflicts {
		found[c.A.ID+"/"+c.B.ID] = c
	}
	if c, ok := found["orig/near"]; !ok || c.Identical || c.Similarity < 0.8 || c.LabelA != "positive" || c.LabelB != "negative" {
		t.Errorf("near-duplicate pair missing or wrong: %+v (conflicts %+v)", c, rep.Conflicts)
	}
	if c, ok := found["same-a/same-b"]; !ok || !c.Identical || c.Similarity != 1 {
		t.Errorf("identical pair missing or wrong: %+v", c)
	}
	if _, ok := found["same-a/same-c"]; ok {
		t.Error("same text with the same label reported as a conflict")
	}
}

func TestPoisoningCSVAndFields(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("uid,sentence,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,\"plain words number %d here\",%d\n", i, i%7, i%2)
	}
	b.WriteString("99,no label here\n")
	path := writeFile(t, filepath.Join(dir, "d.csv"), b.String())
	rep, err := Poisoning(context.Background(), path, PoisonOptions{Fields: Fields{ID: "uid", Text: "sentence", Label: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 40 || rep.Skipped != 1 || rep.Labels["0"] != 20 || rep.Labels["1"] != 20 {
		t.Errorf("report = %+v", rep)
	}
	if _, err := Poisoning(context.Background(), writeFile(t, filepath.Join(dir, "x.bin"), "x"), PoisonOptions{}); err == nil {
		t.Error("no error for a file that holds no records")
	}
}

func TestLabelShift(t *testing.T) {
	base := map[string]int{"pos": 500, "neg": 500}
	if s := LabelShiftOf(base, map[string]int{"pos": 700, "neg": 300}); !s.Shifted || s.DF != 1 || s.PValue > 1e-6 || s.JS < 0.01 {
		t.Errorf("70/30: %+v", s)
	}
	if s := LabelShiftOf(base, map[string]int{"pos": 510, "neg": 490}); s.Shifted || s.PValue < 0.1 {
		t.Errorf("51/49: %+v", s)
	}
	if s := LabelShiftOf(base, map[string]int{"pos": 500, "neg": 480, "spam": 20}); s.DF != 2 || !s.Shifted == (s.JS >= ShiftJS && s.PValue < ShiftPValue) {
		t.Errorf("new label: %+v", s)
	}
	if s := LabelShiftOf(base, base); s.Shifted || s.ChiSquare != 0 || s.JS != 0 || s.PValue != 1 {
		t.Errorf("same: %+v", s)
	}
	if s := LabelShiftOf(map[string]int{"a": 10}, map[string]int{"b": 10}); !near(s.JS, 1, 1e-12) {
		t.Errorf("disjoint: JS %g, want 1", s.JS)
	}
	// Known chi-square critical values.
	for _, c := range []struct {
		x    float64
		df   int
		want float64
	}{{3.841459, 1, 0.05}, {6.634897, 1, 0.01}, {11.0705, 5, 0.05}, {0.1, 3, 0.99184}, {40, 2, 2.061e-9}} {
		if got := chiSquareSurvival(c.x, c.df); math.Abs(got-c.want) > c.want*1e-3 {
			t.Errorf("Q(%g, %d) = %g, want %g", c.x, c.df, got, c.want)
		}
	}
}

func TestCompareLabels(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	a := reviews(rng, 1000)
	b := reviews(rng, 1000)
	for i := range b[:300] {
		b[i].Label = "positive"
	}
	writeReviews(t, filepath.Join(dir, "a.jsonl"), a)
	writeReviews(t, filepath.Join(dir, "b.jsonl"), b)
	s, err := CompareLabels(context.Background(), filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), Fields{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Shifted {
		t.Errorf("shift = %+v", s)
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
