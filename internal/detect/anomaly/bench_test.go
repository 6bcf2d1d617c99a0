package anomaly

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// benchWords are the detection benchmark's vocabulary (bench/detect),
// most common first.
var benchWords = strings.Fields(`the a of to and in is that for it on with as was be by this are or from at an have not but
what all were when we there can your which their if will each about how up out them then she many some so these
would other into has more her two like him see time could no make than first been its who now people my made over
did down only way find use may water long little very after words called just where most know get through back much
before go good new write our used me man too any day same right look think also around another came come work three
word must because does part even place well such here take why things help put years different away again off went
old number great tell men say small every found still between name should home big give air line set own under read
last never us left end along while might next sound below saw something thought both few those always looked show
large often together asked house world going want school important until form food keep children feet land side
without boy once animals life enough took sometimes four head above kind began almost live page got earth need far
hand high year mother light parts country father let night following picture being study second eyes soon times
story since white days ever paper hard near sentence better best across during today others however sure means knew
try told young sun ways thing whole hear example heard several change answer room sea against top turned learn point
city play toward five using himself usually money invoice budget report meeting customer contract server database
deploy python function error query recipe travel flight hotel garden weather doctor health lesson history science
music movie football account card payment transfer balance statement loan mortgage branch fee refund`)

// benchOutputs are answers like the detection benchmark's: a few dozen
// common words, with the odd refusal and apology among them.
func benchOutputs(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for j := range 20 + r.IntN(40) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(benchWords[int(float64(len(benchWords))*r.Float64()*r.Float64())])
		}
		b.WriteByte('.')
		out[i] = b.String()
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

func BenchmarkModelRefused(b *testing.B) {
	outs := benchOutputs(4096)
	i := 0
	for b.Loop() {
		modelRefused(outs[i%len(outs)])
		i++
	}
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
