package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/event"
)

func TestPool(t *testing.T) {
	var pr, pc [maxBins]uint32
	// Ordered: sparse tails join their neighbours; a shift into bins the
	// reference never used lands in the last group.
	ref := []uint32{0, 1, 2, 50, 40, 5, 1, 0, 0, 0}
	cur := []uint32{0, 0, 0, 0, 10, 10, 10, 30, 30, 9}
	n := pool(ref, cur, true, &pr, &pc)
	if fmt.Sprint(pr[:n], pc[:n]) != "[53 40 6] [0 10 89]" {
		t.Errorf("ordered: %v %v", pr[:n], pc[:n])
	}
	// Categories: rare ones pooled as "other".
	n = pool([]uint32{80, 15, 3, 2, 0}, []uint32{10, 10, 0, 0, 80}, false, &pr, &pc)
	if fmt.Sprint(pr[:n], pc[:n]) != "[80 15 5] [10 10 80]" {
		t.Errorf("categorical: %v %v", pr[:n], pc[:n])
	}
}

func TestPSIAndJS(t *testing.T) {
	same := []uint32{10, 20, 30, 0}
	if p, j := psi(same, same), js(same, same); p != 0 || j != 0 {
		t.Errorf("identical: PSI %v, JS %v", p, j)
	}
	// Disjoint supports: JS is exactly 1 bit; PSI is large but finite.
	a, b := []uint32{100, 0}, []uint32{0, 100}
	if j := js(a, b); math.Abs(j-1) > 1e-12 {
		t.Errorf("disjoint JS %v, want 1", j)
	}
	if p := psi(a, b); math.IsInf(p, 0) || p < 5 {
		t.Errorf("disjoint PSI %v", p)
	}
	// A textbook case with no empty bins: smoothing moves PSI only a little.
	ref, cur := []uint32{500, 300, 200}, []uint32{300, 300, 400}
	want := (0.3-0.5)*math.Log(0.3/0.5) + 0 + (0.4-0.2)*math.Log(0.4/0.2)
	if p := psi(ref, cur); math.Abs(p-want) > 0.005 {
		t.Errorf("PSI %v, want about %v", p, want)
	}
	// Bins empty on both sides change nothing.
	if p, q := psi(ref, cur), psi([]uint32{500, 0, 300, 0, 200}, []uint32{300, 0, 300, 0, 400}); p != q {
		t.Errorf("empty bins moved PSI: %v vs %v", p, q)
	}
	// A lone output in a bin the reference never used is cheap.
	if p := psi([]uint32{500, 0}, []uint32{199, 1}); p > 0.02 {
		t.Errorf("one stray output: PSI %v", p)
	}
}

// TestDriftAlertsOnce: a shift in lengths (×4) and refusals (0.02 → 0.4)
// raises exactly one alert, with PSI and JS in its summary.
func TestDriftAlertsOnce(t *testing.T) {
	h := newHarness(t, Config{})
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		h.send(normal.event(r, "v1"))
	}
	h.noAlerts()
	for range 1000 {
		h.send(shifted.event(r, "v1"))
	}
	h.check()
	if len(h.rec.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1: %v", len(h.rec.Alerts), h.rec.Rules())
	}
	a := h.rec.Alerts[0]
	if a.Rule != RulePSI || a.Type != "weight_manipulation" {
		t.Errorf("rule %s type %s", a.Rule, a.Type)
	}
	if !strings.Contains(a.Summary, "length PSI") && !strings.Contains(a.Summary, "refusal PSI") {
		t.Errorf("summary names neither shifted feature: %s", a.Summary)
	}
	for _, want := range []string{"PSI", "JS", `route "chat"`, `version "v1"`, "last 200 outputs", "first 500 outputs"} {
		if !strings.Contains(a.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, a.Summary)
		}
	}
	if !hasEntity(a, event.EntityModelVersion, "v1") || !hasEntity(a, event.EntityRoute, "chat") || !hasEntity(a, event.EntityModel, "gpt-test") {
		t.Errorf("entities %v", a.Entities)
	}
	if len(a.Evidence.EventIDs) < 2 || a.Evidence.EventIDs[0] != "ev-0000001" || a.Evidence.Excerpt == "" {
		t.Errorf("evidence %+v", a.Evidence)
	}
	t.Logf("%s\nexcerpt: %s", a.Summary, a.Evidence.Excerpt)

	// Back to normal: the episode ends below half the thresholds, and a
	// second shift is a second episode.
	for range 1000 {
		h.send(normal.event(r, "v1"))
	}
	if len(h.rec.Alerts) != 1 {
		t.Fatalf("returning to normal alerted: %v", h.rec.Rules())
	}
	for range 400 {
		h.send(shifted.event(r, "v1"))
	}
	if len(h.rec.Alerts) != 2 {
		t.Fatalf("a second drift episode: %d alerts", len(h.rec.Alerts))
	}
}

// TestNoDriftOnNoise: the same distribution continued never alerts, over
// 20 seeds; the largest PSI any comparison saw is logged, to show the
// margin below the threshold.
func TestNoDriftOnNoise(t *testing.T) {
	worst, evals := 0.0, 0
	for seed := range uint64(20) {
		h := newHarness(t, Config{})
		r := rand.New(rand.NewPCG(seed, 99))
		for range 3000 {
			h.send(normal.event(r, "v1"))
			vs, _ := h.d.versions.Get(key{"chat", "v1"}, t0)
			if vs.refDone && vs.since == 0 {
				sc := h.d.compare(&vs.ref, &vs.cur)
				worst = max(worst, sc.maxPSI())
				evals++
			}
		}
		h.noAlerts()
	}
	t.Logf("largest PSI in %d comparisons over 20 seeds: %.3f (threshold 0.25)", evals, worst)
	if evals < 20*40 {
		t.Errorf("only %d comparisons", evals)
	}
}

// TestDriftNeedsText: without output text only length and cut are judged;
// a length shift alone still alerts.
func TestDriftWithoutText(t *testing.T) {
	h := newHarness(t, Config{Reference: 300, Window: 100, Every: 20})
	r := rand.New(rand.NewPCG(3, 4))
	for range 600 {
		ev := normal.event(r, "v1")
		ev.OutputText = ""
		h.send(ev)
	}
	h.noAlerts()
	for range 200 {
		ev := shifted.event(r, "v1")
		ev.OutputText = ""
		h.send(ev)
	}
	h.check()
	if len(h.rec.Alerts) != 1 || !strings.Contains(h.rec.Alerts[0].Summary, "length PSI") || strings.Contains(h.rec.Alerts[0].Summary, "refusal") {
		t.Fatalf("alerts %v", h.rec.Alerts)
	}
}

func TestVersionChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		next dist
		want bool
	}{
		{"different behaviour", shifted, true},
		{"same behaviour", normal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			r := rand.New(rand.NewPCG(5, 6))
			for range 1000 {
				h.send(normal.event(r, "v1"))
			}
			for range 300 {
				h.send(tc.next.event(r, "v2"))
			}
			h.check()
			got := h.rec.Rule(RuleVersionChange)
			if !tc.want {
				h.noAlerts()
				return
			}
			if len(got) != 1 || len(h.rec.Alerts) != 1 {
				t.Fatalf("alerts %v", h.rec.Rules())
			}
			a := got[0]
			for _, want := range []string{`version "v2"`, `unlike version "v1"`, "PSI", "JS", "first 200 outputs"} {
				if !strings.Contains(a.Summary, want) {
					t.Errorf("summary lacks %q: %s", want, a.Summary)
				}
			}
			if !hasEntity(a, event.EntityModelVersion, "v2") {
				t.Errorf("entities %v", a.Entities)
			}
			t.Log(a.Summary)
		})
	}
}

// TestCanarySplit: two versions serving one route side by side, both
// behaving alike, raise nothing; a third that differs does.
func TestCanarySplit(t *testing.T) {
	h := newHarness(t, Config{})
	r := rand.New(rand.NewPCG(8, 9))
	for i := range 3000 {
		v := "v1"
		if i%5 == 0 && i > 800 {
			v = "v2"
		}
		h.send(normal.event(r, v))
	}
	h.noAlerts()
	for range 250 {
		h.send(shifted.event(r, "v3"))
	}
	if got := h.rec.Rules(); len(got) != 1 || got[0] != RuleVersionChange {
		t.Fatalf("rules %v", got)
	}
}

func TestPinAndReset(t *testing.T) {
	h := newHarness(t, Config{})
	r := rand.New(rand.NewPCG(10, 11))
	for range 600 {
		h.send(normal.event(r, "v1"))
	}
	ref, ok := h.d.Reference("chat", "v1")
	if !ok {
		t.Fatal("no reference after 600 outputs")
	}
	b, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	var back Reference
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}

	// A new detector with v1's reference pinned: v1 drifting from its
	// very first window is caught, which a learned reference cannot do.
	h2 := newHarness(t, Config{Pinned: []Reference{back}})
	for range 400 {
		h2.send(shifted.event(r, "v1"))
	}
	h2.check()
	if got := h2.rec.Rules(); len(got) != 1 || got[0] != RulePSI || !strings.Contains(h2.rec.Alerts[0].Summary, "pinned reference") {
		t.Fatalf("pinned: %v", h2.rec.Alerts)
	}
	// Reset accepts the change: the next outputs make a new reference.
	h2.d.Reset("chat", "v1")
	h2.rec.Reset()
	for range 1500 {
		h2.send(shifted.event(r, "v1"))
	}
	h2.noAlerts()

	// Pin at run time makes the version drift against the pinned one.
	if err := h2.d.Pin(back); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		h2.send(shifted.event(r, "v1"))
	}
	if len(h2.rec.Rule(RulePSI)) != 1 {
		t.Fatalf("after pin: %v", h2.rec.Rules())
	}

	for _, bad := range []Reference{
		{Subject: "chat", Version: "v1"},
		{Subject: "chat", Version: "v1", Counts: map[string][]uint32{"colour": {1}}},
		{Subject: "chat", Version: "v1", Counts: map[string][]uint32{"refusal": {1, 2, 3}}},
		{Subject: "", Version: "", Counts: map[string][]uint32{"refusal": {1, 2}}},
		{Subject: "a\xff", Version: "v", Counts: map[string][]uint32{"refusal": {1, 2}}},
	} {
		if err := h2.d.Pin(bad); err == nil {
			t.Errorf("pinned %+v", bad)
		}
		if _, err := New(Config{Pinned: []Reference{bad}}); err == nil {
			t.Errorf("config accepted %+v", bad)
		}
	}
}

func hasEntity(a event.Alert, k event.EntityKind, v string) bool {
	for _, e := range a.Entities {
		if e.Kind == k && e.Value == v {
			return true
		}
	}
	return false
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	for _, c := range []Config{
		{Reference: -1},
		{Window: maxWindow + 1},
		{PSI: math.NaN()},
		{JS: 1.5},
		{TriggerPrompts: 1},
		{SketchWidth: 1000},
		{SketchWidth: 128},
		{TriggerRareShare: 0.9},
		{GoldenConsistency: 2},
		{TTL: -1},
		{Golden: []Golden{{ID: "a", Prompt: "x"}, {ID: "a", Prompt: "y"}}},
		{Golden: make([]Golden, MaxGolden+1)},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("accepted %+v", c)
		} else if _, err2 := New(c); err2 == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
}

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		text  string
		shape uint8
		ref   uint8
	}{
		{"Paris is the capital of France.", shapeProse, 0},
		{"```python\nprint(1)\n```", shapeCode, 0},
		{`{"a": 1}`, shapeJSON, 0},
		{"- one\n- two", shapeList, 0},
		{"1. one\n2. two", shapeList, 0},
		{"Sorry, but I can't help with that.", shapeApology, 1},
		{"I’m sorry, but I can’t do that.", shapeApology, 1},
		{"I'm sorry to hear about your cat.", shapeApology, 0},
		{"東京は日本の首都です。", shapeNonASCII, 0},
		{"I can't help with that.", shapeProse, 1},
		{"\xff\xfe\xfd", shapeNonASCII, 0},
	} {
		s := extract(&event.Event{}, tc.text)
		if s[fShape] != tc.shape || s[fRefusal] != tc.ref {
			t.Errorf("%q: shape %d refusal %d, want %d %d", tc.text, s[fShape], s[fRefusal], tc.shape, tc.ref)
		}
	}
	s := extract(&event.Event{OutputChars: 300, Decision: event.DecisionStopped}, "")
	if s[fLength] != 9 || s[fCut] != 1 || s[fRefusal] != absent || s[fShape] != absent {
		t.Errorf("no text: %v", s)
	}
	if s := extract(&event.Event{OutputChars: math.MaxInt}, ""); s[fLength] != lengthBins-1 {
		t.Errorf("huge: %v", s)
	}
	if got := binLabel(fLength, 9); got != "256–511 chars" {
		t.Errorf("label %q", got)
	}
}
