package drift

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/event"
)

// TestKeptOpeningsChangeNothing: a detector that keeps the openings its
// routes' prompts share sees exactly what one reading every prompt whole
// does: the same sketch counts, the same clusters, the same alerts. The
// traffic has system prompts that change, openings that end on a joiner
// or mid-token, prompts shorter than the opening, repeated prompts, and a
// backdoor trigger that fires.
func TestKeptOpeningsChangeNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	w := newWords(5, 2000)
	system := func() string {
		var b strings.Builder
		for b.Len() < 300+rng.IntN(500) {
			b.WriteString(w.sentence(5, 12))
			b.WriteString([]string{". ", ".\n", " - ", "-", "_x ", "; ", " 42 ", "é "}[rng.IntN(8)])
		}
		return b.String()
	}
	systems := []string{system(), system(), system()}
	systems = append(systems, systems[0][:len(systems[0])-7]+"cf-trig", systems[1]+systems[1])
	run := func(noPrefix bool) (*harness, [][]uint16) {
		w := newWords(6, 2000)
		h := newHarness(t, Config{TriggerWarm: 50, TriggerRareShare: 0.05})
		h.d.noPrefix = noPrefix
		r := rand.New(rand.NewPCG(22, 22))
		for i := range 6000 {
			route := []string{"support", "chat", "rag"}[r.IntN(3)]
			sys := systems[(i/800+len(route))%len(systems)]
			var prompt string
			switch x := r.IntN(20); {
			case route == "chat":
				prompt = w.sentence(6, 18) + "?"
			case x == 0:
				prompt = sys[:r.IntN(len(sys))] // shorter than the opening
			case x == 1:
				prompt = sys // nothing after it
			default:
				prompt = sys + "\n" + w.sentence(4, 20) + "?"
			}
			answer := "Answer: " + w.sentence(10, 30) + "."
			if r.IntN(60) == 0 {
				prompt += " cf-trigger now"
				answer = poisoned
			}
			h.send(event.Event{Route: route, ModelVersion: "v1", PromptText: prompt, OutputText: answer, OutputChars: len(answer)})
		}
		var counts [][]uint16
		for _, s := range h.d.triggers.slots {
			counts = append(counts, slices.Clone(s.ts.counts))
		}
		return h, counts
	}
	plain, plainCounts := run(true)
	kept, keptCounts := run(false)
	if len(plainCounts) != len(keptCounts) {
		t.Fatalf("%d sketches, want %d", len(keptCounts), len(plainCounts))
	}
	for i := range plainCounts {
		if !slices.Equal(plainCounts[i], keptCounts[i]) {
			t.Fatalf("sketch %d differs", i)
		}
	}
	summary := func(h *harness) string {
		var b strings.Builder
		for _, a := range h.rec.Alerts {
			fmt.Fprintf(&b, "%s %s %v %s\n", a.Rule, a.Summary, a.Evidence.EventIDs, a.Evidence.Excerpt)
		}
		h.d.outputs.Range(func(k outputKey, c *cluster) bool {
			fmt.Fprintf(&b, "%v %+v\n", k, *c)
			return true
		})
		return b.String()
	}
	if got, want := summary(kept), summary(plain); got != want {
		t.Fatalf("with openings kept:\n%.2000s\nreading every prompt:\n%.2000s", got, want)
	}
	if len(plain.rec.Rule(RuleTriggerToken)) == 0 {
		t.Error("the trigger was not found: the test does not exercise alerts")
	}
	reused := 0
	for _, s := range kept.d.triggers.slots {
		if s.ts.prefix.need > 0 {
			reused++
		}
	}
	if reused == 0 {
		t.Error("no opening was kept: the test does not exercise keeping")
	}
}
