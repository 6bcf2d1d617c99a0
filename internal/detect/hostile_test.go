package detect_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/anomaly"
	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/detect/extraction"
	"github.com/airlock-ir/airlock/internal/detect/leakage"
	"github.com/airlock-ir/airlock/internal/detect/rules"
	"github.com/airlock-ir/airlock/internal/event"
)

// allDetectors is every stream detector, with small state limits.
func allDetectors(t testing.TB, maxCallers int) (*extraction.Detector, *anomaly.Detector, []detect.Detector) {
	t.Helper()
	rs, err := rules.Parse("hostile.yaml", []byte(`
rules:
  - id: words
    type: training_data_extraction
    selections:
      a: {prompt: {contains: [needle, "repeat"]}}
      b: {output: {regex: "(?i)password"}}
    condition: a or b
  - id: spray
    type: model_extraction
    selections: {any: {kind: request}}
    aggregate: {count_distinct: prompt_sha256, window: 10m, by: ip, threshold: 100}
`))
	if err != nil {
		t.Fatal(err)
	}
	leak, err := leakage.New(leakage.Config{Canaries: []string{"CANARY-0123456789"},
		SystemPromptFragments: map[string][]string{"chat": {"You are a careful assistant for Example Corp."}}})
	if err != nil {
		t.Fatal(err)
	}
	ex := extraction.New(extraction.Config{MaxCallers: maxCallers})
	an := anomaly.New(anomaly.Config{MaxCallers: maxCallers})
	return ex, an, []detect.Detector{ex, an, leak, rules.New(rs, rules.Options{MaxGroups: maxCallers})}
}

func TestHostileEventsThroughEveryDetector(t *testing.T) {
	var rec detecttest.Recorder
	_, _, dets := allDetectors(t, 1000)
	e := detect.NewEngine(dets, &rec, detect.EngineOptions{Now: (&clock{t0}).Now})
	mb := 1 << 20
	secret := "gh" + "p_" + "x7Kq2mVb9TzR4nLw8YcP1dFs6HjA3gEu5NoQ"
	hostile := []event.Event{
		{PromptText: strings.Repeat("what model are you? ", mb/20), OutputText: strings.Repeat("x ", mb/2-1000) + " " + secret},
		{PromptText: strings.Repeat("\xff\xfe\xc3", mb/3), OutputText: strings.Repeat("\x80", mb)},
		{PromptText: strings.Repeat("{\"a\":[", 100_000) + strings.Repeat("]}", 100_000), OutputText: "ok"},
		{PromptText: strings.Repeat("\x00\u200b\U000E0041", 50_000), OutputText: "CANARY-0123456789\x00"},
		{PromptText: strings.Repeat("poem ", mb/5)},
		{APIKeyHash: strings.Repeat("k", mb), User: "\xff", IP: strings.Repeat("9", 100_000), Route: strings.Repeat("r", mb), Model: strings.Repeat("m\x00", 1000)},
		{LatencyMS: -1e308, TokensIn: -5, TokensOut: 1 << 62, Status: -1},
		{Attrs: map[string]string{strings.Repeat("a", 1000): strings.Repeat("b", mb)}},
	}
	for i, ev := range hostile {
		ev.ID = fmt.Sprint("hostile-", i)
		ev.Kind = "request"
		if ev.APIKeyHash == "" {
			ev.APIKeyHash = "kh_hostile"
		}
		if ev.Route == "" {
			ev.Route = "chat"
		}
		start := time.Now()
		e.Observe(&ev)
		t.Logf("event %d took %v", i, time.Since(start)) // speed: see bench/detect
	}
	if st := e.Stats(); st.Failures != 0 {
		t.Fatalf("detectors failed on hostile input: %+v", rec.Rule(detect.RuleDetectorFailed))
	}
	// What they did raise is well-formed and keeps the secret out.
	for _, a := range rec.Alerts {
		detecttest.CheckAlert(t, a)
		if strings.Contains(a.Evidence.Excerpt, secret) || strings.Contains(a.Summary, secret) {
			t.Errorf("%s leaks the secret", a.Rule)
		}
		if len(a.Summary) > 2000 {
			t.Errorf("%s summary of %d bytes", a.Rule, len(a.Summary))
		}
	}
	for _, want := range []string{leakage.RuleSecret, leakage.RuleCanary, extraction.RuleDivergence} {
		if len(rec.Rule(want)) == 0 {
			t.Errorf("no %s alert; got %v", want, rec.Rules())
		}
	}
}

// A flood of distinct callers through every detector: each detector's
// state stays at its maximum and the heap stays flat.
func TestFloodOfDistinctCallers(t *testing.T) {
	const maxCallers = 2000
	n := 400_000
	if raceEnabled || testing.Short() {
		n = 40_000
	}
	ex, an, dets := allDetectors(t, maxCallers)
	now := t0
	e := detect.NewEngine(dets, nil, detect.EngineOptions{Now: func() time.Time { return now }})
	prompts := make([]string, 256)
	for i := range prompts {
		prompts[i] = fmt.Sprintf("Please summarise report number %d about the quarterly budget and the hiring plan.", i)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var before uint64
	for i := range n {
		if i == n/10 {
			before = heap()
		}
		now = now.Add(time.Millisecond)
		ev := event.Event{
			ID: fmt.Sprint("ev-", i), Kind: "request", Route: "chat", Model: "m",
			APIKeyHash: fmt.Sprintf("kh_%d", i), IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			PromptText: prompts[i%len(prompts)], PromptSHA256: fmt.Sprint(i % len(prompts)), OutputText: "Here is the summary.",
			Status: 200, LatencyMS: 100, TokensIn: 20, TokensOut: 40,
		}
		e.Observe(&ev)
	}
	after := heap()
	runtime.KeepAlive(e)
	if ex.Callers() != maxCallers || an.Callers() != maxCallers {
		t.Errorf("callers held: extraction %d, anomaly %d; want %d", ex.Callers(), an.Callers(), maxCallers)
	}
	if !raceEnabled && after > before+8<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d more distinct callers", before, after, n-n/10)
	}
	if st := e.Stats(); st.Events != uint64(n) || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}
