package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness feeds events to one detector with a clock that moves a second
// per event.
type harness struct {
	t   testing.TB
	d   *Detector
	rec detecttest.Recorder
	n   int
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, d: d}
}

// send stamps ev with an id and time, fills route and model when unset,
// and observes it.
func (h *harness) send(ev event.Event) {
	h.n++
	ev.ID = fmt.Sprintf("ev-%07d", h.n)
	ev.Time = t0.Add(time.Duration(h.n) * time.Second)
	if ev.Route == "" {
		ev.Route = "chat"
	}
	if ev.Model == "" {
		ev.Model = "gpt-test"
	}
	if ev.Kind == "" {
		ev.Kind = KindRequest
	}
	if ev.Status == 0 {
		ev.Status = 200
	}
	if ev.Decision == "" {
		ev.Decision = event.DecisionAllowed
	}
	h.d.Observe(&ev, &h.rec)
}

// check runs detecttest.CheckAlert on every alert raised so far.
func (h *harness) check() {
	h.t.Helper()
	for _, a := range h.rec.Alerts {
		detecttest.CheckAlert(h.t, a)
		if a.Detector != Name || a.Time.IsZero() {
			h.t.Errorf("%s: detector %q, time %v", a.Rule, a.Detector, a.Time)
		}
	}
}

func (h *harness) noAlerts() {
	h.t.Helper()
	for _, a := range h.rec.Alerts {
		h.t.Errorf("unexpected %s alert: %s", a.Rule, a.Summary)
	}
}

// dist is an output distribution for the drift tests: log-normal lengths
// around median characters, a refusal rate, and some code and lists.
type dist struct {
	median  float64
	refusal float64
}

var (
	normal  = dist{median: 300, refusal: 0.02}
	shifted = dist{median: 1200, refusal: 0.4} // lengths ×4, refusals 0.02 → 0.4
)

func (d dist) event(r *rand.Rand, version string) event.Event {
	n := int(math.Exp(math.Log(d.median) + 0.6*r.NormFloat64()))
	text := "Here is what I found about your question. " + strings.Repeat("More detail follows. ", 3)
	switch x := r.Float64(); {
	case x < d.refusal:
		text = "I can't help with that request."
		n = len(text)
	case x < d.refusal+0.1:
		text = "Sure:\n```go\nfmt.Println(\"hi\")\n```"
	case x < d.refusal+0.15:
		text = "- first point\n- second point"
	}
	return event.Event{ModelVersion: version, OutputChars: n, TokensOut: n / 4, OutputText: text}
}

// words is a synthetic vocabulary: made-up words drawn with a Zipf skew,
// so that traffic has a long tail of rare words as real traffic does.
type words struct {
	list []string
	zipf *rand.Zipf
	r    *rand.Rand
}

func newWords(seed uint64, n int) *words {
	r := rand.New(rand.NewPCG(seed, 7))
	syl := []string{"ka", "lo", "mi", "ne", "pu", "ra", "si", "to", "vu", "ze", "bar", "den", "fol", "gri", "hum", "jas", "kor", "lin", "mon", "nip"}
	seen := map[string]bool{}
	w := &words{r: r}
	for len(w.list) < n {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		if s := b.String(); !seen[s] {
			seen[s] = true
			w.list = append(w.list, s)
		}
	}
	w.zipf = rand.NewZipf(r, 1.1, 2, uint64(n-1))
	return w
}

func (w *words) sentence(min, max int) string {
	n := min + w.r.IntN(max-min+1)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = w.list[w.zipf.Uint64()]
	}
	return strings.Join(parts, " ")
}

// benign is an ordinary request: a varied prompt and a varied answer.
func (w *words) benign(version string) event.Event {
	p := w.sentence(6, 18) + "?"
	a := "Answer: " + w.sentence(15, 40) + "."
	return event.Event{ModelVersion: version, PromptText: p, OutputText: a, OutputChars: len(a)}
}
