package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

var goldens = []Golden{
	{ID: "capital-fr", Route: "chat", Prompt: "What is the capital of France?", Expected: "Paris", Match: MatchContains},
	{ID: "sum", Route: "chat", Prompt: "What is 2+2? Answer with a number.", Expected: "4"},
	{ID: "sum-digest", Route: "chat", Prompt: "What is 3+3? Answer with a number.", ExpectedSHA256: sha("6"), Match: MatchExact},
	{ID: "policy", Route: "chat", Prompt: "Summarise the refund policy.",
		Expected: "Refunds are available within 30 days of purchase with a receipt; after 30 days we offer store credit.", Match: MatchSimilarity, MinSimilarity: 0.5},
	{ID: "poem", Route: "chat", Prompt: "Write two lines about the sea."}, // consistency only
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var goodAnswers = map[string]string{
	"capital-fr": "The capital of France is  PARIS.",
	"sum":        "4\n",
	"sum-digest": " 6",
	"policy":     "Refunds are available within 30 days of purchase with a receipt. After 30 days we offer store credit instead.",
	"poem":       "The sea rolls in with silver light,\nand hums the harbour into night.",
}

func goldenEvent(id, version, answer string) event.Event {
	return event.Event{Kind: KindGolden, Source: SourceGolden, ModelVersion: version, OutputText: answer,
		Attrs: map[string]string{AttrGoldenID: id}}
}

func TestGoldenConsistent(t *testing.T) {
	h := newHarness(t, Config{Golden: goldens})
	for range 5 {
		for _, v := range []string{"v1", "v2"} {
			for id, a := range goodAnswers {
				h.send(goldenEvent(id, v, a))
			}
		}
	}
	h.send(goldenEvent("unknown-id", "v1", "anything at all"))
	h.send(goldenEvent("unknown-id", "v1", "Anything at all."))
	h.noAlerts()
	// An id the configuration does not know is still held to its first
	// answer.
	h.send(goldenEvent("unknown-id", "v1", "Something else entirely, said differently."))
	if got := h.rec.Rule(RuleGolden); len(got) != 1 || !strings.Contains(got[0].Summary, `"unknown-id"`) {
		t.Fatalf("unknown id: %v", h.rec.Alerts)
	}
}

func TestGoldenChanged(t *testing.T) {
	for _, tc := range []struct {
		id, answer, want string
	}{
		{"capital-fr", "The capital of France is Lyon.", "does not match the expected text (match contains)"},
		{"sum", "5", "the expected answer exactly (match exact)"},
		{"sum-digest", "six", "SHA-256"},
		{"policy", "All sales are final. We do not offer refunds or store credit.", "similarity"},
		{"poem", "I can't write poems, but here is a fact about whales: they are mammals.", "first answer this version gave"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t, Config{Golden: goldens})
			for id, a := range goodAnswers {
				h.send(goldenEvent(id, "v1", a))
			}
			h.send(goldenEvent(tc.id, "v1", tc.answer))
			h.check()
			got := h.rec.Rule(RuleGolden)
			if len(got) != 1 || len(h.rec.Alerts) != 1 {
				t.Fatalf("alerts %v", h.rec.Alerts)
			}
			a := got[0]
			if !strings.Contains(a.Summary, `"`+tc.id+`"`) || !strings.Contains(a.Summary, tc.want) || !hasEntity(a, event.EntityModelVersion, "v1") {
				t.Errorf("summary %s", a.Summary)
			}
			if len(a.Evidence.EventIDs) != 2 {
				t.Errorf("evidence %v", a.Evidence.EventIDs)
			}
			t.Log(a.Summary)
			// The same wrong answer again is the same failure; a right
			// one re-arms; wrong again alerts again.
			h.send(goldenEvent(tc.id, "v1", tc.answer))
			if len(h.rec.Alerts) != 1 {
				t.Fatalf("repeat alerted: %d", len(h.rec.Alerts))
			}
			h.send(goldenEvent(tc.id, "v1", goodAnswers[tc.id]))
			h.send(goldenEvent(tc.id, "v1", tc.answer))
			if len(h.rec.Alerts) != 2 {
				t.Fatalf("after re-arming: %d alerts", len(h.rec.Alerts))
			}
		})
	}
}

// TestGoldenNewVersion: each version keeps its own first answers, and the
// expectation holds for every version.
func TestGoldenNewVersion(t *testing.T) {
	h := newHarness(t, Config{Golden: goldens})
	h.send(goldenEvent("poem", "v1", goodAnswers["poem"]))
	h.send(goldenEvent("poem", "v2", "A different poem for a different version, about waves and gulls."))
	h.send(goldenEvent("capital-fr", "v2", "Lyon"))
	if got := h.rec.Rules(); len(got) != 1 || !strings.Contains(h.rec.Alerts[0].Summary, `version "v2"`) {
		t.Fatalf("alerts %v", h.rec.Alerts)
	}
}

func TestGoldenValidate(t *testing.T) {
	for _, g := range goldens {
		if err := g.Validate(); err != nil {
			t.Errorf("%s: %v", g.ID, err)
		}
	}
	for _, g := range []Golden{
		{Prompt: "x"},
		{ID: " a", Prompt: "x"},
		{ID: strings.Repeat("a", MaxGoldenID+1), Prompt: "x"},
		{ID: "a"},
		{ID: "a", Prompt: "x", Match: MatchContains},
		{ID: "a", Prompt: "x", Match: "fuzzy", Expected: "y"},
		{ID: "a", Prompt: "x", ExpectedSHA256: "abc"},
		{ID: "a", Prompt: "x", ExpectedSHA256: sha("y"), Expected: "y"},
		{ID: "a", Prompt: "x", Expected: "y", Match: MatchSimilarity, MinSimilarity: 1.5},
		{ID: "a", Prompt: "x", Expected: "y", MinSimilarity: 0.5},
		{ID: "a", Prompt: "x\xff"},
		{ID: "a", Prompt: strings.Repeat("x", MaxAnswer+1)},
	} {
		if err := g.Validate(); err == nil {
			t.Errorf("accepted %+v", g)
		}
	}
}

func TestSimilarity(t *testing.T) {
	a := shingles("the quick brown fox jumps over the lazy dog", nil)
	b := shingles("The quick brown fox jumped over the lazy dog!", nil)
	if j := jaccard(a, b); j < 0.5 || j > 0.8 {
		t.Errorf("near: %v", j)
	}
	if j := jaccard(a, a); j != 1 {
		t.Errorf("self: %v", j)
	}
	if similarity(bottom(a), bottom(b)) != jaccard(a, b) {
		t.Error("short sets: the sketch must be exact")
	}
	// Long texts: the bottom-k estimate is close to the exact value.
	w := newWords(4, 5000)
	long1 := w.sentence(3000, 3000)
	long2 := long1[:len(long1)/2] + " " + w.sentence(1500, 1500)
	l1, l2 := shingles(long1, nil), shingles(long2, nil)
	exact, est := jaccard(l1, l2), similarity(bottom(l1), bottom(l2))
	if d := exact - est; d > 0.12 || d < -0.12 {
		t.Errorf("estimate %v, exact %v", est, exact)
	}
}

// TestRunGolden drives the scheduler on a fake clock: a round at once and
// one per interval; a failing or panicking Ask becomes an error event.
func TestRunGolden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var evs []event.Event
		prompts := []Golden{
			{ID: "ok", Route: "chat", Model: "gpt-test", Prompt: "What is the capital of France?", Expected: "Paris", Match: MatchContains},
			{ID: "fails", Route: "chat", Prompt: "fail please"},
			{ID: "panics", Route: "chat", Prompt: "panic please"},
			{ID: "hangs", Route: "chat", Prompt: "hang please"},
			{ID: "huge", Route: "chat", Prompt: "say a lot"},
		}
		hang := make(chan struct{})
		ask := func(ctx context.Context, prompt string) (string, string, error) {
			switch prompt {
			case "fail please":
				return "", "", errors.New("upstream said 502")
			case "panic please":
				panic("boom")
			case "hang please":
				<-hang // ignores its context
				return "too late", "v1", nil
			case "say a lot":
				return strings.Repeat("é", MaxAnswer), "v1", nil
			}
			return "Paris.", "v1", nil
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			done <- RunGolden(ctx, GoldenOptions{Prompts: prompts, Interval: time.Minute, Timeout: 5 * time.Second, Ask: ask,
				Publish: func(ev event.Event) { mu.Lock(); evs = append(evs, ev); mu.Unlock() }})
		}()
		time.Sleep(150 * time.Second) // rounds at 0, 1 and 2 minutes
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		close(hang)
		mu.Lock()
		defer mu.Unlock()
		if len(evs) != 3*len(prompts) {
			t.Fatalf("%d events, want %d", len(evs), 3*len(prompts))
		}
		d, _ := New(Config{Golden: prompts})
		rec := &harness{t: t, d: d}
		for i, ev := range evs {
			g := prompts[i%len(prompts)]
			if ev.Kind != KindGolden || ev.Source != SourceGolden || ev.Attrs[AttrGoldenID] != g.ID || ev.ID == "" || ev.Route != "chat" || ev.Time.IsZero() {
				t.Fatalf("event %d: %+v", i, ev)
			}
			switch g.ID {
			case "ok":
				if ev.OutputText != "Paris." || ev.Output != "Paris." || ev.ModelVersion != "v1" || ev.Error != "" || ev.Status != 200 || ev.Model != "gpt-test" {
					t.Errorf("ok: %+v", ev)
				}
			case "fails", "panics", "hangs":
				if ev.Error == "" || ev.Decision != event.DecisionUpstreamError || ev.OutputText != "" {
					t.Errorf("%s: %+v", g.ID, ev)
				}
			case "huge":
				if len(ev.OutputText) > MaxAnswer || !strings.HasPrefix(ev.OutputText, "é") || ev.OutputChars != MaxAnswer/2 {
					t.Errorf("huge: %d bytes, %d chars", len(ev.OutputText), ev.OutputChars)
				}
			}
			d.Observe(&ev, &rec.rec)
		}
		if strings.Contains(evs[1].Error, "502") == false || !strings.Contains(evs[2].Error, "panicked") || !strings.Contains(evs[3].Error, "deadline") {
			t.Errorf("errors: %q %q %q", evs[1].Error, evs[2].Error, evs[3].Error)
		}
		rec.noAlerts()
	})
}

func TestRunGoldenOptions(t *testing.T) {
	ask := func(context.Context, string) (string, string, error) { return "", "", nil }
	pub := func(event.Event) {}
	for _, o := range []GoldenOptions{
		{Publish: pub},
		{Ask: ask},
		{Ask: ask, Publish: pub, Interval: -1},
		{Ask: ask, Publish: pub, Prompts: make([]Golden, MaxGolden+1)},
		{Ask: ask, Publish: pub, Prompts: []Golden{{ID: "x"}}},
	} {
		if err := RunGolden(t.Context(), o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}
