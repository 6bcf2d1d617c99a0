package drift

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

// clusterTraffic sends n requests on five versions whose answers come from
// small pools, so that answers are given again and again, more of them
// than there may be clusters, and each is given about every 1,250 events,
// about as often as its cluster ages out (20 minutes at a second an
// event); from the 2,000th, some prompts carry a trigger. after is called after each event.
func clusterTraffic(h *harness, n int, after func()) {
	w := newWords(31, 2000)
	r := rand.New(rand.NewPCG(31, 31))
	pool := make([]string, 150)
	for i := range pool {
		pool[i] = "Answer: " + w.sentence(6, 20) + "."
	}
	for i := range n {
		v := fmt.Sprintf("v%d", r.IntN(5))
		prompt, answer := w.sentence(6, 18)+"?", pool[r.IntN(len(pool))]
		switch x := r.IntN(200); {
		case x < 1 && i >= 2000: // once the version's sketch knows the token is rare
			prompt, answer = withToken(w, "cf-trigger"), poisoned
			v = "v0"
		case x < 80:
			answer = "Answer: " + w.sentence(10, 30) + "." // given once
		}
		h.send(event.Event{ModelVersion: v, PromptText: prompt, OutputText: answer, OutputChars: len(answer)})
		after()
	}
}

// TestClusterMarks: every cluster held is marked in the once table, so
// an answer whose mark is clear, which is not looked up, has none; the
// marks are made afresh as clusters come and go, and stay sparse.
func TestClusterMarks(t *testing.T) {
	const maxOutputs = 200
	h := newHarness(t, Config{MaxOutputs: maxOutputs, TTL: 20 * time.Minute, TriggerWarm: 50, TriggerRareShare: 0.05})
	d := h.d
	n := 30000
	if raceEnabled || testing.Short() {
		n = 8000
	}
	afresh, last, most := 0, 0, 0
	clusters := 0
	clusterTraffic(h, n, func() {
		d.outputs.Range(func(k outputKey, _ *cluster) bool {
			if s, mark := d.once.slot(k); s.clusters&mark == 0 {
				t.Fatalf("event %d: a cluster is not marked", h.n)
			}
			return true
		})
		if d.once.marked < last {
			afresh++
		}
		last = d.once.marked
		marks := 0
		for i := range d.once.slots {
			marks += bits.OnesCount64(d.once.slots[i].clusters)
		}
		most = max(most, marks)
		clusters = max(clusters, d.outputs.Len())
	})
	if most > 2*maxOutputs {
		t.Errorf("%d marks, more than twice the %d clusters there may be", most, maxOutputs)
	}
	if afresh < 3 || clusters < maxOutputs {
		t.Errorf("marks made afresh %d times, at most %d clusters: the test does not exercise them", afresh, clusters)
	}
	if len(h.rec.Rule(RuleTriggerToken)) == 0 {
		t.Error("the trigger was not found")
	}
}

// TestClusterMarksChangeNothing: a detector that looks every answer up in
// its clusters, as if every answer were marked, sees exactly what one
// skipping the unmarked does: the same clusters, once table and alerts.
func TestClusterMarksChangeNothing(t *testing.T) {
	n := 20000
	if raceEnabled || testing.Short() {
		n = 6000
	}
	run := func(everyMarked bool) string {
		h := newHarness(t, Config{MaxOutputs: 200, TTL: 20 * time.Minute, TriggerWarm: 50, TriggerRareShare: 0.05})
		mark := func() {
			if everyMarked {
				for i := range h.d.once.slots {
					h.d.once.slots[i].clusters = ^uint64(0)
				}
			}
		}
		mark()
		clusterTraffic(h, n, mark)
		var b strings.Builder
		for _, a := range h.rec.Alerts {
			fmt.Fprintf(&b, "%s %s %v\n", a.Rule, a.Summary, a.Evidence.EventIDs)
		}
		h.d.outputs.Range(func(k outputKey, c *cluster) bool {
			fmt.Fprintf(&b, "%v %+v\n", k, *c)
			return true
		})
		for _, s := range h.d.once.slots {
			fmt.Fprintf(&b, "%v %x %d\n", s.k, s.prompt, s.seen)
		}
		fmt.Fprintf(&b, "%+v %d\n", h.d.Stats(), h.d.outputs.Evicted())
		return b.String()
	}
	if got, want := run(false), run(true); got != want {
		t.Fatalf("skipping the unmarked:\n%.2000s\nlooking every answer up:\n%.2000s", got, want)
	}
}
