package leakage

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var benchWords = strings.Fields(`the a of to and in is that for it on with as was be by this are or from at an have
not but what all were when we there can your which their if will each about how up out them then she many some so
these would other into has more her two like him see time could no make than first been its who now people my made
over did down only way find use may water long little very after words called just where most know get through back
invoice budget report meeting customer contract server database deploy account card payment transfer balance
statement loan mortgage branch fee refund code internal escalation never give advice investment orange`)

// BenchmarkObserveSupport is the detection benchmark's support route: a
// system prompt with two fragments, and answers of a few dozen common
// words (some of them the fragments' own) that leak nothing.
func BenchmarkObserveSupport(b *testing.B) {
	d, err := New(Config{
		Canaries:              []string{"AIRLOCK-CANARY-5d1e8f02"},
		SystemPromptFragments: map[string][]string{"support": {"Internal escalation code is ORANGE-42", "Never give investment advice."}},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	outs := make([]string, 4096)
	for i := range outs {
		var s strings.Builder
		for j := range 20 + r.IntN(40) {
			if j > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(benchWords[int(float64(len(benchWords))*r.Float64()*r.Float64())])
		}
		s.WriteByte('.')
		outs[i] = s.String()
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
