package anomaly

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// benchOutputs are answers like the detection benchmark's: a few dozen
// common words, with the odd refusal and apology among them.
func benchOutputs(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		out[i] = detecttest.Sentence(r, detecttest.Words, 20, 59)
		switch i % 50 {
		case 0:
			out[i] = "I’m sorry, but I can’t help with that request."
		case 1:
			out[i] = "I'm sorry to hear that. " + out[i]
		case 2:
			out[i] = "As an AI, I must decline. " + out[i]
		}
	}
	return out
}

// BenchmarkObserveManyCallers is the detection benchmark's traffic as this
// detector sees it: 100,000 callers drawn with a skew over two hours, three
// routes, one event every 7.2 ms.
func BenchmarkObserveManyCallers(b *testing.B) {
	const nCallers = 100_000
	keys := make([]string, nCallers)
	for i := range keys {
		keys[i] = "kh_" + strconv.Itoa(1_000_000+i)
	}
	outs := benchOutputs(4096)
	routes := [...]string{"chat", "chat", "chat", "chat", "chat", "chat", "chat", "support", "support", "rag"}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 16
	who, out, route := make([]int32, n), make([]int16, n), make([]uint8, n)
	for i := range n {
		u := r.Float64()
		who[i] = int32(float64(nCallers) * u * u * u)
		out[i] = int16(r.IntN(len(outs)))
		route[i] = uint8(r.IntN(len(routes)))
	}
	d := New(Config{})
	var rec detecttest.Recorder
	ev := event.Event{Source: "gateway", Kind: "request", Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini",
		Status: 200, Decision: event.DecisionAllowed, TokensIn: 200, TokensOut: 300, LatencyMS: 450}
	at := t0
	i := 0
	for b.Loop() {
		j := i % n
		ev.APIKeyHash, ev.OutputText, ev.Route, ev.Time = keys[who[j]], outs[out[j]], routes[route[j]], at
		d.Observe(&ev, &rec)
		at = at.Add(7200 * time.Microsecond)
		i++
		if len(rec.Alerts) > 1000 {
			rec.Reset()
		}
	}
}
