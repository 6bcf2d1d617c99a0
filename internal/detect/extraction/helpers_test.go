package extraction

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness feeds events to one detector, with a clock the test moves.
type harness struct {
	t   testing.TB
	d   *Detector
	rec detecttest.Recorder
	now time.Time
	n   int
}

func newHarness(t testing.TB, cfg Config) *harness {
	return &harness{t: t, d: New(cfg), now: t0}
}

// send fills in the event's id, time and digest and observes it.
func (h *harness) send(ev event.Event) event.Event {
	h.n++
	ev.ID = fmt.Sprintf("ev-%06d", h.n)
	if ev.Time.IsZero() {
		ev.Time = h.now
	}
	if ev.Kind == "" {
		ev.Source, ev.Kind, ev.Endpoint = "gateway", "request", "/v1/chat/completions"
	}
	if ev.Route == "" {
		ev.Route = "chat"
	}
	if ev.Model == "" {
		ev.Model = "gpt-test"
	}
	if ev.PromptText != "" && ev.PromptSHA256 == "" {
		sum := sha256.Sum256([]byte(ev.PromptText))
		ev.PromptSHA256 = hex.EncodeToString(sum[:])
	}
	h.d.Observe(&ev, &h.rec)
	return ev
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

// checkAll checks every alert raised so far.
func (h *harness) checkAll() {
	h.t.Helper()
	for _, a := range h.rec.Alerts {
		detecttest.CheckAlert(h.t, a)
	}
}

func (h *harness) want(rule string) event.Alert {
	h.t.Helper()
	as := h.rec.Rule(rule)
	if len(as) == 0 {
		h.t.Fatalf("no %s alert; got %v", rule, h.rec.Rules())
	}
	return as[0]
}

func (h *harness) none(rules ...string) {
	h.t.Helper()
	for _, r := range rules {
		if as := h.rec.Rule(r); len(as) > 0 {
			h.t.Errorf("unexpected %s alert: %s", r, as[0].Summary)
		}
	}
}

func (h *harness) noAlerts() {
	h.t.Helper()
	for _, a := range h.rec.Alerts {
		h.t.Errorf("unexpected %s alert: %s", a.Rule, a.Summary)
	}
}

func key(name string) event.Event {
	return event.Event{APIKeyHash: "kh_" + name, IP: "198.51.100.7", User: name}
}

// words is a vocabulary for natural-looking prompts: Zipf-like draws make
// common words common, as in real text.
var words = strings.Fields(`the a of to and in is that for it on with as was be by this are or
from at an have not but what all were when we there can your which their if will each about how up
out them then she many some so these would other into has more her two like him see time could no
make than first been its who now people my made over did down only way find use may water long
little very after words called just where most know get through back much before go good new write
our used me man too any day same right look think also around another came come work three word
must because does part even place well such here take why things help put years different away
again off went old number great tell men say small every found still between name should home big
give air line set own under read last never us left end along while might next sound below saw
something thought both few those always looked show large often together asked house world going
want school important until form food keep children feet land side without boy once animals life
enough took sometimes four head above kind began almost live page got earth need far hand high year
mother light parts country father let night following picture being study second eyes soon times
story boys since white days ever paper hard near sentence better best across during today others
however sure means knew try told young miles sun ways thing whole hear example heard several change
answer room sea against top turned learn point city play toward five using himself usually money
invoice budget report meeting customer contract server database deploy python function error query
recipe travel flight hotel garden weather doctor health lesson history science music movie football`)

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 7))} }

func (g *gen) word() string {
	// Zipf over the vocabulary.
	i := int(float64(len(words)) * g.r.Float64() * g.r.Float64())
	return words[i]
}

func (g *gen) sentence(min, max int) string {
	n := min + g.r.IntN(max-min+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word()
	}
	ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
	return strings.Join(ws, " ") + "."
}

var openers = []string{
	"Can you help me with this:", "Please explain", "Write a short note about", "Summarise:",
	"I need advice on", "Translate to French:", "What do you think about", "Fix the grammar:",
	"Give me three ideas for", "Explain like I am five:", "",
}

// benign is a prompt a person might send: an opener and a sentence or two.
func (g *gen) benign() string {
	p := openers[g.r.IntN(len(openers))] + " " + g.sentence(6, 20)
	if g.r.IntN(3) == 0 {
		p += " " + g.sentence(4, 14)
	}
	return strings.TrimSpace(p)
}
