package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// benchStream is traffic like the detection benchmark's: many callers, a
// few of them busy, on the chat and support routes. Events are written
// into one event in turn, as the engine hands each detector an event that
// is already in the cache.
type benchStream struct {
	callers []struct{ key, ip string }
	prompts []struct{ text, sha, route string }
	draws   []uint64 // caller << 32 | prompt << 1 | logprobs
}

func newBenchStream(n, callers int) *benchStream {
	r := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var b strings.Builder
		b.WriteString("Can you help me with this:")
		for range 8 + r.IntN(40) {
			b.WriteString(" " + detecttest.Word(r, detecttest.Words))
		}
		return b.String() + "."
	}
	s := &benchStream{}
	for c := range callers {
		s.callers = append(s.callers, struct{ key, ip string }{fmt.Sprint("kh_", 1_000_000+c), fmt.Sprintf("10.%d.%d.%d", c>>16&255, c>>8&255, c&255)})
	}
	for i := range 48_000 {
		t, route := text(), "chat"
		if i%6 == 0 {
			t, route = detecttest.SupportSystem+"\n"+t, "support"
		}
		sum := sha256.Sum256([]byte(t))
		s.prompts = append(s.prompts, struct{ text, sha, route string }{t, hex.EncodeToString(sum[:]), route})
	}
	for range n {
		u := r.Float64()
		d := uint64(float64(callers)*u*u*u)<<32 | uint64(r.IntN(len(s.prompts)))<<1
		if r.IntN(200) == 0 {
			d |= 1
		}
		s.draws = append(s.draws, d)
	}
	return s
}

// event writes the i-th event of the stream into ev.
func (s *benchStream) event(i int, ev *event.Event) {
	d := s.draws[i%len(s.draws)]
	c, p := &s.callers[d>>32], &s.prompts[uint32(d)>>1]
	*ev = event.Event{ID: "ev", Time: t0.Add(time.Duration(i) * (2 * time.Hour / 1_000_000)), Source: "gateway", Kind: "request",
		Endpoint: "/v1/chat/completions", APIKeyHash: c.key, IP: c.ip, Status: 200,
		Route: p.route, PromptText: p.text, PromptSHA256: p.sha, PromptChars: len(p.text)}
	if d&1 != 0 {
		ev.Logprobs, ev.TopLogprobs = true, 3
	}
}

// BenchmarkStream runs the benchmark's rules over its kind of traffic, all
// together and one at a time.
func BenchmarkStream(b *testing.B) {
	all, err := Parse("bench.yaml", []byte(detecttest.BenchRules))
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchStream(1<<20, 100_000)
	sets := []struct {
		name string
		rs   *RuleSet
	}{{"none", &RuleSet{}}, {"all", all}}
	for _, r := range all.rules {
		sets = append(sets, struct {
			name string
			rs   *RuleSet
		}{r.id, &RuleSet{rules: []*rule{r}}})
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			d := New(set.rs, Options{})
			out := detect.SinkFunc(func(event.Alert) {})
			var ev event.Event
			i := 0
			for b.Loop() {
				s.event(i, &ev)
				d.Observe(&ev, out)
				i++
			}
		})
	}
}
