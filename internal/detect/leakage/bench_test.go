package leakage

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// benchWords are the generated traffic's words and the fragments' own.
var benchWords = append(slices.Clone(detecttest.Words), strings.Fields("code internal escalation never give advice investment orange")...)

// BenchmarkObserveSupport is the detection benchmark's support route: a
// system prompt with two fragments, and answers of a few dozen common
// words (some of them the fragments' own) that leak nothing.
func BenchmarkObserveSupport(b *testing.B) {
	d, err := New(Config{
		Canaries:              []string{"AIRLOCK-CANARY-5d1e8f02"},
		SystemPromptFragments: map[string][]string{"support": detecttest.SupportFragments},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	outs := make([]string, 4096)
	for i := range outs {
		outs[i] = detecttest.Sentence(r, benchWords, 20, 59)
	}
	var rec detecttest.Recorder
	ev := event.Event{ID: "e", APIKeyHash: "k", Route: "support", PromptText: "How do I change my card's limit?"}
	i := 0
	for b.Loop() {
		ev.OutputText = outs[i%len(outs)]
		d.Observe(&ev, &rec)
		i++
	}
	if len(rec.Alerts) != 0 {
		b.Fatalf("alerts: %v", rec.Rules())
	}
}
