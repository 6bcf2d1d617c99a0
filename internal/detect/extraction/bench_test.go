package extraction

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// realisticEvents is traffic as a gateway sees it: many callers, a few
// busy and most not, prompts of about 100 to 600 bytes drawn from a pool
// larger than the caches, carrying their SHA-256, on three routes, one of
// which opens every prompt with the same system prompt.
func realisticEvents(n, callers int) []event.Event {
	g := newGen(11)
	system := "You are the support assistant of Example Bank. Answer questions about accounts, cards and payments politely and briefly. " +
		"Never give financial advice. If you do not know, say so and offer to connect the customer with a person.\n"
	type prompt struct{ text, sha string }
	mk := func(s string) prompt {
		sum := sha256.Sum256([]byte(s))
		return prompt{s, hex.EncodeToString(sum[:])}
	}
	long := func() string {
		var b strings.Builder
		b.WriteString(g.benign())
		for b.Len() < 100+g.r.IntN(500) {
			b.WriteByte(' ')
			b.WriteString(g.sentence(6, 24))
		}
		return b.String()
	}
	chat := make([]prompt, 20_000)
	for i := range chat {
		chat[i] = mk(long())
	}
	support := make([]prompt, 5_000)
	for i := range support {
		support[i] = mk(system + g.benign())
	}
	evs := make([]event.Event, n)
	for i := range evs {
		u := g.r.Float64()
		c := int(float64(callers) * u * u * u)
		ev := &evs[i]
		ev.ID = fmt.Sprintf("ev-%d", i)
		ev.Time = t0.Add(time.Duration(i) * 5 * time.Millisecond)
		ev.Source, ev.Kind, ev.Endpoint, ev.Model = "gateway", "request", "/v1/chat/completions", "gpt-test"
		ev.APIKeyHash, ev.User = fmt.Sprintf("kh_%d", 1_000_000+c), fmt.Sprintf("user-%d", c)
		ev.TokensIn, ev.TokensOut = 40+g.r.IntN(400), 50+g.r.IntN(500)
		var p prompt
		switch x := g.r.IntN(10); {
		case x < 6:
			ev.Route, p = "chat", chat[g.r.IntN(len(chat))]
		case x < 9:
			ev.Route, p = "support", support[g.r.IntN(len(support))]
		default:
			ev.Route, p = "rag", chat[g.r.IntN(len(chat))]
		}
		ev.PromptText, ev.PromptSHA256 = p.text, p.sha
	}
	return evs
}

func BenchmarkObserveRealistic(b *testing.B) {
	evs := realisticEvents(1<<18, 50_000)
	d := New(Config{})
	var rec detecttest.Recorder
	for i := range evs { // callers and routes in place, as in a running gateway
		d.Observe(&evs[i], &rec)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		ev := &evs[i%len(evs)]
		i++
		d.Observe(ev, &rec)
	}
}

func BenchmarkFeatures(b *testing.B) {
	g := newGen(12)
	texts := make([]string, 256)
	bytes := 0
	for i := range texts {
		t := g.benign()
		for len(t) < 100+g.r.IntN(500) {
			t += " " + g.sentence(6, 24)
		}
		texts[i] = t
		bytes += len(t)
	}
	triggers, _ := newTriggers()
	b.SetBytes(int64(bytes / len(texts)))
	i := 0
	for b.Loop() {
		features(texts[i%len(texts)], triggers)
		i++
	}
}

func BenchmarkFeaturesReference(b *testing.B) {
	g := newGen(12)
	texts := make([]string, 256)
	for i := range texts {
		t := g.benign()
		for len(t) < 100+g.r.IntN(500) {
			t += " " + g.sentence(6, 24)
		}
		texts[i] = t
	}
	triggers, _ := newTriggers()
	i := 0
	for b.Loop() {
		referenceFeatures(texts[i%len(texts)], triggers)
		i++
	}
}
