package anomaly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type harness struct {
	t   *testing.T
	d   *Detector
	rec detecttest.Recorder
	now time.Time
	n   int
}

func newHarness(t *testing.T) *harness { return &harness{t: t, d: New(Config{}), now: t0} }

func (h *harness) send(ev event.Event) {
	h.n++
	ev.ID = fmt.Sprintf("ev-%06d", h.n)
	ev.Time = h.now
	if ev.Route == "" {
		ev.Route = "chat"
	}
	ev.Model = "gpt-test"
	if ev.Status == 0 {
		ev.Status = 200
	}
	h.d.Observe(&ev, &h.rec)
}

// minute sends n events spread over one minute and moves to the next.
func (h *harness) minute(n int, mk func(i int) event.Event) {
	start := h.now
	for i := range n {
		h.now = start.Add(time.Duration(i) * time.Minute / time.Duration(max(n, 1)))
		h.send(mk(i))
	}
	h.now = start.Add(time.Minute)
}

func caller(name string) func(int) event.Event {
	return func(int) event.Event {
		return event.Event{APIKeyHash: "kh_" + name, IP: "203.0.113.9", TokensIn: 100, TokensOut: 200, LatencyMS: 200}
	}
}

func (h *harness) want(rule string) event.Alert {
	h.t.Helper()
	as := h.rec.Rule(rule)
	if len(as) == 0 {
		h.t.Fatalf("no %s alert; got %v", rule, h.rec.Rules())
	}
	for _, a := range h.rec.Alerts {
		detecttest.CheckAlert(h.t, a)
	}
	return as[0]
}

func (h *harness) noAlerts() {
	h.t.Helper()
	for _, a := range h.rec.Alerts {
		h.t.Errorf("unexpected %s alert: %s", a.Rule, a.Summary)
	}
}

func TestCallerRateSpike(t *testing.T) {
	h := newHarness(t)
	for range 15 {
		h.minute(10, caller("spiky"))
		h.minute(100, caller("steady"))
	}
	h.minute(120, caller("steady")) // a little busier than usual
	h.minute(300, caller("cold"))   // new, busy, but not a flood
	h.noAlerts()
	h.minute(200, caller("spiky"))
	a := h.want(RuleRate)
	if a.Type != "api_endpoint_attack" || !strings.Contains(a.Summary, "kh_spiky") || !strings.Contains(a.Summary, "baseline") {
		t.Errorf("alert %+v", a)
	}
	if len(h.rec.Alerts) != 1 {
		t.Errorf("%d alerts, want one per measure per minute: %v", len(h.rec.Alerts), h.rec.Rules())
	}
	h.rec.Reset()
	h.minute(700, caller("flood")) // a caller with no history and a flood
	a = h.want(RuleRate)
	if !strings.Contains(a.Summary, "without a baseline") {
		t.Errorf("cold alert %+v", a)
	}
}

func TestCallerTokenSpike(t *testing.T) {
	h := newHarness(t)
	for range 12 {
		h.minute(20, caller("writer"))
	}
	h.noAlerts()
	h.minute(20, func(int) event.Event {
		return event.Event{APIKeyHash: "kh_writer", TokensIn: 100, TokensOut: 16000, LatencyMS: 200}
	})
	a := h.want(RuleTokens)
	if a.ATLAS[0] != "AML.T0034" {
		t.Errorf("alert %+v", a)
	}
}

func TestRefusals(t *testing.T) {
	h := newHarness(t)
	for range 12 {
		h.minute(30, caller("jailbreaker"))
	}
	// Benign look-alikes of refusals: sympathy, and containment in force.
	h.minute(40, func(i int) event.Event {
		ev := caller("jailbreaker")(i)
		switch i % 3 {
		case 0:
			ev.OutputText = "I'm sorry to hear that. Here are some ideas that may help."
		case 1:
			ev.Decision, ev.Status = event.DecisionBlocked, 403
		}
		return ev
	})
	h.noAlerts()
	h.minute(40, func(i int) event.Event {
		ev := caller("jailbreaker")(i)
		if i%2 == 0 {
			ev.OutputText = "I’m sorry, but I can’t help with that request."
		}
		return ev
	})
	a := h.want(RuleRefusals)
	if a.ATLAS[0] != "AML.T0040" || !strings.Contains(a.Summary, "refusals") || !strings.Contains(a.Summary, "kh_jailbreaker") {
		t.Errorf("alert %+v", a)
	}
}

func TestRouteErrors(t *testing.T) {
	h := newHarness(t)
	// A flaky route: 60 server errors a minute is its normal.
	flaky := func(i int) event.Event {
		ev := event.Event{Route: "flaky", IP: fmt.Sprintf("192.0.2.%d", i%50), LatencyMS: 100}
		if i%5 == 0 {
			ev.Status = 502
		}
		return ev
	}
	for range 12 {
		h.minute(300, flaky)
	}
	h.minute(320, flaky)
	h.noAlerts()
	h.minute(300, func(i int) event.Event {
		ev := flaky(i)
		if i%2 == 0 {
			ev.Status = 503
		}
		return ev
	})
	a := h.want(RuleRouteErrors)
	if a.Entities[0] != (event.Entity{Kind: event.EntityRoute, Value: "flaky"}) || a.ATLAS[0] != "AML.T0029" {
		t.Errorf("alert %+v", a)
	}
}

func TestRouteLatency(t *testing.T) {
	h := newHarness(t)
	lat := func(ms float64) func(int) event.Event {
		return func(i int) event.Event {
			return event.Event{Route: "rag", APIKeyHash: fmt.Sprintf("kh_%d", i%20), LatencyMS: ms + float64(i%7)*5}
		}
	}
	for range 12 {
		h.minute(100, lat(200))
	}
	h.minute(100, lat(260)) // a slow minute, not an attack
	h.noAlerts()
	h.minute(100, lat(1500)) // sponge inputs
	a := h.want(RuleRouteLatency)
	if a.ATLAS[0] != "AML.T0029" {
		t.Errorf("alert %+v", a)
	}
}

func TestBurstOfNewCallers(t *testing.T) {
	h := newHarness(t)
	next := 0
	newcomers := func(n int) func(int) event.Event {
		return func(i int) event.Event {
			ev := event.Event{Route: "signup", APIKeyHash: fmt.Sprintf("kh_%d", next)}
			if i < n {
				next++
			} else {
				ev.APIKeyHash = "kh_0"
			}
			return ev
		}
	}
	for range 15 {
		h.minute(60, newcomers(5)) // a few new callers a minute, plus a regular
	}
	h.minute(60, newcomers(12))
	h.noAlerts()
	h.minute(400, newcomers(400)) // 400 keys never seen before, in one minute
	a := h.want(RuleNewCallers)
	if !strings.Contains(a.Summary, "new callers") {
		t.Errorf("alert %+v", a)
	}
}

func TestHostileEvents(t *testing.T) {
	h := newHarness(t)
	for _, ev := range []event.Event{
		{},                               // no identity, no route
		{IP: strings.Repeat("x", 1<<20)}, // a 1 MB "IP"
		{APIKeyHash: "\xff\xfe", LatencyMS: -5, TokensIn: -1},
		{User: "u", OutputText: strings.Repeat("I can't ", 200_000)},
	} {
		h.send(ev)
	}
	if h.d.Callers() != 3 {
		t.Errorf("%d callers", h.d.Callers())
	}
}

func TestFloodOfCallersStaysBounded(t *testing.T) {
	d := New(Config{MaxCallers: 1000})
	for i := range 100_000 {
		ev := event.Event{IP: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255), Route: "chat", Time: t0.Add(time.Duration(i) * time.Millisecond)}
		d.Observe(&ev, &detecttest.Recorder{})
	}
	if d.Callers() != 1000 {
		t.Errorf("%d callers held, want 1000", d.Callers())
	}
}

func BenchmarkObserve(b *testing.B) {
	d := New(Config{})
	var rec detecttest.Recorder
	evs := make([]event.Event, 4096)
	for i := range evs {
		evs[i] = event.Event{APIKeyHash: fmt.Sprintf("kh_%d", i%1000), Route: "chat", Status: 200, TokensIn: 50, TokensOut: 100, LatencyMS: 120,
			OutputText: "Paris is the capital of France.", Time: t0.Add(time.Duration(i) * time.Millisecond)}
	}
	i := 0
	for b.Loop() {
		d.Observe(&evs[i%len(evs)], &rec)
		i++
	}
}

func TestColdCallerErrorStorm(t *testing.T) {
	h := newHarness(t)
	h.minute(150, func(int) event.Event { return event.Event{APIKeyHash: "kh_new", Status: 500} })
	for _, a := range h.rec.Alerts {
		if a.Rule == RuleErrors {
			t.Fatalf("150 errors from a new caller is under 10 × the minimum: %s", a.Summary)
		}
	}
	h.minute(250, func(int) event.Event { return event.Event{APIKeyHash: "kh_crasher", Status: 500} })
	a := h.want(RuleErrors)
	if !strings.Contains(a.Summary, "kh_crasher") || !strings.Contains(a.Summary, "without a baseline") {
		t.Errorf("alert %+v", a)
	}
}

// TestCallerKindsKeptApart: a user and an IP named like an API key are
// other callers, with baselines of their own.
func TestCallerKindsKeptApart(t *testing.T) {
	h := newHarness(t)
	h.send(event.Event{APIKeyHash: "same"})
	h.send(event.Event{User: "same"})
	h.send(event.Event{IP: "same"})
	h.send(event.Event{User: "ip\x00same"})
	if h.d.Callers() != 4 {
		t.Errorf("%d callers, want 4", h.d.Callers())
	}
}
