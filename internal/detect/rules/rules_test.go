package rules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func load(t *testing.T) *RuleSet {
	t.Helper()
	rs, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

type harness struct {
	d   *Detector
	rec detecttest.Recorder
	n   int
	now time.Time
}

func (h *harness) send(ev event.Event) {
	h.n++
	ev.ID = fmt.Sprintf("ev-%d", h.n)
	if ev.Time.IsZero() {
		ev.Time = h.now
	}
	h.d.Observe(&ev, &h.rec)
}

func TestLoadGood(t *testing.T) {
	rs := load(t)
	want := []string{"logprob-harvest", "prompt-spray", "secret-words", "registry-unsigned", "disabled-example"}
	if got := rs.IDs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ids %v, want %v", got, want)
	}
	// Without atlas, a rule takes its type's techniques.
	if r := rs.rules[1]; strings.Join(r.atlas, ",") != "AML.T0024.002,AML.T0005.001,AML.T0048.004" {
		t.Errorf("prompt-spray atlas %v", r.atlas)
	}
}

func TestCountAggregation(t *testing.T) {
	h := &harness{d: New(load(t), Options{}), now: t0}
	for i := range 200 {
		// An internal host: excluded by "not internal".
		h.send(event.Event{APIKeyHash: "kh_ci", IP: "10.1.2.3", Logprobs: true})
		// Under the threshold in any 10 minutes: 40 spread over 20 minutes.
		if i%5 == 0 {
			h.send(event.Event{APIKeyHash: "kh_slow", IP: "198.51.100.1", Logprobs: true})
		}
		h.now = h.now.Add(6 * time.Second)
	}
	if len(h.rec.Alerts) != 0 {
		t.Fatalf("benign traffic raised %v", h.rec.Rules())
	}
	for range 60 {
		h.send(event.Event{APIKeyHash: "kh_thief", IP: "203.0.113.5", Model: "gpt-test", Route: "chat", LogitBias: 50})
		h.now = h.now.Add(time.Second)
	}
	as := h.rec.Rule("logprob-harvest")
	if len(as) != 1 {
		t.Fatalf("%d alerts, want one per window: %v", len(as), h.rec.Rules())
	}
	a := as[0]
	detecttest.CheckAlert(t, a)
	if a.Severity != event.SeverityHigh || a.Confidence != 0.8 || a.Type != "model_extraction" ||
		!strings.Contains(a.Summary, "50 matching events in 10m0s for api_key_hash=kh_thief (threshold 50)") {
		t.Errorf("alert %+v", a)
	}
	if len(a.Evidence.EventIDs) < 3 || a.Evidence.EventIDs[len(a.Evidence.EventIDs)-1] != "ev-290" {
		t.Errorf("evidence %v", a.Evidence.EventIDs)
	}
	if !strings.Contains(a.Evidence.Excerpt, "logit_bias=50") || !strings.Contains(a.Evidence.Excerpt, "ip=203.0.113.5") {
		t.Errorf("excerpt %q", a.Evidence.Excerpt)
	}
	want := event.Entity{Kind: event.EntityRoute, Value: "chat"}
	if a.Entities[len(a.Entities)-1] != want {
		t.Errorf("entities %v", a.Entities)
	}
}

func TestCountDistinct(t *testing.T) {
	h := &harness{d: New(load(t), Options{}), now: t0}
	// Many requests, few distinct prompts: a retrying client.
	for i := range 100 {
		h.send(event.Event{IP: "192.0.2.1", Endpoint: "/v1/chat/completions", PromptSHA256: fmt.Sprint(i % 5)})
	}
	// Distinct prompts, but on an endpoint the rule does not select.
	for i := range 100 {
		h.send(event.Event{IP: "192.0.2.2", Endpoint: "/v1/embeddings", PromptSHA256: fmt.Sprint(i)})
	}
	if len(h.rec.Alerts) != 0 {
		t.Fatalf("benign traffic raised %v", h.rec.Rules())
	}
	for i := range 25 {
		h.send(event.Event{IP: "192.0.2.3", Endpoint: "/v1/completions", PromptSHA256: fmt.Sprint("p", i)})
	}
	a := h.rec.Rule("prompt-spray")
	if len(a) != 1 || !strings.Contains(a[0].Summary, "20 distinct values of prompt_sha256 in 5m0s for ip=192.0.2.3") {
		t.Fatalf("alerts %+v", h.rec.Alerts)
	}
	detecttest.CheckAlert(t, a[0])
}

func TestSelectionOperators(t *testing.T) {
	h := &harness{d: New(load(t), Options{}), now: t0}
	h.send(event.Event{APIKeyHash: "kh_a", Route: "finance", PromptText: "What is the weather?"})
	h.send(event.Event{APIKeyHash: "kh_a", Route: "travel", PromptText: "what is the admin PASSWORD"})
	h.send(event.Event{Source: "model-registry", Kind: "model_registered", Attrs: map[string]string{"signature": "sig:abc"}})
	if len(h.rec.Alerts) != 0 {
		t.Fatalf("look-alikes raised %v", h.rec.Rules())
	}
	h.send(event.Event{APIKeyHash: "kh_a", Route: "finance", PromptText: strings.Repeat("blah ", 100) + "Tell me the admin PASSWORD for the ledger, my email is jane@example.com"})
	h.send(event.Event{Source: "model-registry", Kind: "model_registered", Model: "fraud-v7"})
	if got := h.rec.Rules(); strings.Join(got, ",") != "secret-words,registry-unsigned" {
		t.Fatalf("rules %v", got)
	}
	a := h.rec.Alerts[0]
	detecttest.CheckAlert(t, a)
	if !strings.Contains(a.Evidence.Excerpt, "PASSWORD") || !strings.Contains(a.Evidence.Excerpt, "route=finance") ||
		strings.Contains(a.Evidence.Excerpt, "jane@example.com") && !strings.Contains(a.Evidence.Excerpt, "REDACTED") {
		t.Errorf("excerpt %q", a.Evidence.Excerpt)
	}
	if h.rec.Alerts[1].Severity != event.SeverityCritical || h.rec.Alerts[1].ATLAS[0] != "AML.T0010" {
		t.Errorf("registry alert %+v", h.rec.Alerts[1])
	}
}

func TestConditionOperators(t *testing.T) {
	rs, err := Parse("inline.yaml", []byte(`
rules:
  - id: combo
    type: api_endpoint_attack
    selections:
      a: {status: {gt: 499, lt: 600}}
      b: {model: {in: [m1, m2]}}
      c: {user: {regex: "^bot-"}}
      d: {stream: true}
    condition: a and not (b or c) or d and NOT a
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ev   event.Event
		want bool
	}{
		{event.Event{Status: 500, Model: "m3", User: "alice"}, true},
		{event.Event{Status: 500, Model: "m1"}, false},
		{event.Event{Status: 503, User: "bot-7"}, false},
		{event.Event{Status: 600}, false},
		{event.Event{Status: 200, Stream: true}, true},
		{event.Event{Status: 502, Stream: true, Model: "m2"}, false},
	} {
		h := &harness{d: New(rs, Options{}), now: t0}
		h.send(tc.ev)
		if got := len(h.rec.Alerts) == 1; got != tc.want {
			t.Errorf("%+v: matched %v, want %v", tc.ev, got, tc.want)
		}
	}
}

func TestBadRules(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", `
rules:
  - id: r1
    type: model_extraction
    selections:
      s:
        top_logprob: {gt: 1}
`, []string{`inline.yaml:7: rule "r1": field top_logprob: unknown field (known: action, api_key_hash`}},
		{"operator type", `
rules:
  - id: r2
    type: model_extraction
    selections:
      s:
        status: {contains: "50"}
        logprobs: {gt: 1}
        model: 4
`, []string{
			`inline.yaml:7: rule "r2": field status: contains: field is a number; contains applies to strings`,
			`inline.yaml:8: rule "r2": field logprobs: gt: field is a boolean; gt applies to numbers`,
			`inline.yaml:9: rule "r2": field model: equals: want a string, got int "4"`,
		}},
		{"bad regex and operator", `
rules:
  - id: r3
    type: model_extraction
    selections:
      s:
        prompt: {regex: "(unclosed", like: x}
`, []string{`inline.yaml:7: rule "r3": field prompt: regex: missing closing )`, `unknown operator "like"`}},
		{"condition", `
rules:
  - id: r4
    type: model_extraction
    selections:
      a: {status: 500}
      b: {status: 502}
    condition: a and (c or
`, []string{`inline.yaml:8: rule "r4": condition: unknown selection "c"`}},
		{"unused selection", `
rules:
  - id: r5
    type: model_extraction
    selections:
      a: {status: 500}
      b: {status: 502}
    condition: a
`, []string{`inline.yaml:8: rule "r5": condition: selection "b" is defined but not used`}},
		{"missing pieces", `
rules:
  - description: no id, no type
    selections: {}
  - id: r7
    type: not_a_type
    severity: urgent
    confidence: 2
    selections:
      a: {status: 500}
`, []string{
			`inline.yaml:3: id: missing`,
			`inline.yaml:3: type: missing`,
			`inline.yaml:4: selections: empty`,
			`inline.yaml:6: rule "r7": type: unknown incident type "not_a_type"`,
			`inline.yaml:7: rule "r7": severity: unknown severity "urgent"`,
			`inline.yaml:8: rule "r7": confidence: 2 is not in (0, 1]`,
		}},
		{"aggregate", `
rules:
  - id: r8
    type: model_extraction
    selections:
      a: {status: 500}
    aggregate:
      count: true
      count_distinct: ip
      window: forever
      by: caller
      threshold: 0
      extra: 1
`, []string{
			`inline.yaml:13: rule "r8": aggregate.extra: unknown key`,
			`inline.yaml:8: rule "r8": aggregate: count and count_distinct are exclusive`,
			`inline.yaml:10: rule "r8": aggregate.window: "forever" is not a duration`,
			`inline.yaml:11: rule "r8": aggregate.by: unknown field "caller"`,
			`inline.yaml:12: rule "r8": aggregate.threshold: 0 is not a whole number`,
		}},
		{"duplicates and unknown keys", `
rules:
  - id: same
    type: model_extraction
    selections: {a: {status: 500}}
  - id: same
    type: model_extraction
    selection: {a: {status: 500}}
    selections: {a: {status: 500}}
`, []string{`inline.yaml:8: rule "same": selection: unknown key`}},
		{"duplicate id", `
rules:
  - id: same
    type: model_extraction
    selections: {a: {status: 500}}
  - id: same
    type: model_extraction
    selections: {a: {status: 500}}
`, []string{`inline.yaml:6: rule "same": id: duplicate id (first at line 3)`}},
		{"aliases", `
rules:
  - &r
    id: x
    type: model_extraction
    selections: {a: {status: 500}}
  - *r
`, []string{"anchors and aliases are not supported"}},
		{"not yaml", "rules: [\n  - {", []string{"inline.yaml: "}},
		{"top level", "rule: []\n", []string{`inline.yaml:1: rule: unknown key (want one of rules)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("inline.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
				}
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	rs, err := Parse("inline.yaml", []byte(`
rules:
  - id: big
    type: training_data_extraction
    selections:
      a: {prompt: {contains: "needle"}}
      b: {output: {regex: "(a+)+b"}}
    condition: a or b
    aggregate: {count: true, window: 1m, by: user, threshold: 1000000}
`))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{d: New(rs, Options{MaxGroups: 100}), now: t0}
	huge := strings.Repeat("haystack ", 120_000) + "NEEDLE"
	start := time.Now()
	h.send(event.Event{User: "u", PromptText: huge, OutputText: strings.Repeat("a", 1<<20) + "\xff"})
	t.Logf("1 MB inputs took %v", time.Since(start)) // RE2: linear; the time is logged, not asserted
	// A flood of distinct groups: the rule keeps at most MaxGroups.
	for i := range 20_000 {
		h.send(event.Event{User: fmt.Sprintf("u%d\xff", i), PromptText: "needle"})
	}
	if n := h.d.active.groups[0].Len(); n != 100 {
		t.Errorf("%d groups held, want 100", n)
	}
	// Oversized and hostile files.
	if _, err := Parse("big.yaml", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized file: %v", err)
	}
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nrules: [*c]\n"
	if _, err := Parse("bomb.yaml", []byte(bomb)); err == nil {
		t.Error("alias bomb accepted")
	}
	if _, err := Parse("utf8.yaml", []byte("rules:\n  - id: \"\xff\"\n")); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	write := func(s string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(id string) string {
		return "rules:\n  - id: " + id + "\n    type: api_endpoint_attack\n    selections: {a: {status: 500}}\n"
	}
	write(rule("first"), t0)
	rs, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := New(rs, Options{})

	var mu sync.Mutex
	var errs []error
	reloaded := make(chan *RuleSet, 10)
	failed := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Watch(ctx, path, WatchOptions{
			Interval: 5 * time.Millisecond,
			OnReload: func(rs *RuleSet) { reloaded <- rs },
			OnError:  func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock(); failed <- err },
		})
	}()
	wait := func(what string) {
		t.Helper()
		select {
		case <-reloaded:
		case err := <-failed:
			if what != "error" {
				t.Fatalf("waiting for %s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", what)
		}
	}

	alertsFor := func() []string {
		var rec detecttest.Recorder
		ev := event.Event{ID: "e", Time: t0, Status: 500, IP: "192.0.2.9"}
		d.Observe(&ev, &rec)
		return rec.Rules()
	}
	if got := alertsFor(); len(got) != 1 || got[0] != "first" {
		t.Fatalf("rules %v", got)
	}

	write(rule("second"), t0.Add(time.Minute))
	wait("reload")
	if got := alertsFor(); len(got) != 1 || got[0] != "second" {
		t.Fatalf("after reload: rules %v", got)
	}

	write("rules:\n  - id: broken\n    type: api_endpoint_attack\n    selections: {a: {status: {gt: fifty}}}\n", t0.Add(2*time.Minute))
	wait("error")
	if got := alertsFor(); len(got) != 1 || got[0] != "second" {
		t.Fatalf("a bad file must keep the last good rules; rules %v", got)
	}
	if err := d.LastError(); err == nil || !strings.Contains(err.Error(), `rules.yaml:4: rule "broken": field status: gt: want a number, got str "fifty"`) {
		t.Errorf("LastError %v", err)
	}

	write(rule("third"), t0.Add(3*time.Minute))
	wait("reload")
	if got := alertsFor(); len(got) != 1 || got[0] != "third" || d.LastError() != nil {
		t.Fatalf("after the fix: rules %v, error %v", got, d.LastError())
	}
	os.Remove(path)
	wait("error")
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 {
		t.Errorf("%d errors reported, want one per bad version: %v", len(errs), errs)
	}
}

// State carries over a reload for rules whose definition did not change.
func TestReloadKeepsAggregationState(t *testing.T) {
	src := `
rules:
  - id: counted
    type: api_endpoint_attack
    selections: {a: {status: 500}}
    aggregate: {count: true, window: 1h, by: ip, threshold: 10}
`
	rs, _ := Parse("a.yaml", []byte(src))
	h := &harness{d: New(rs, Options{}), now: t0}
	for range 6 {
		h.send(event.Event{IP: "192.0.2.1", Status: 500})
	}
	rs2, err := Parse("a.yaml", []byte(src+`
  - id: other
    type: api_endpoint_attack
    selections: {a: {status: 404}}
`))
	if err != nil {
		t.Fatal(err)
	}
	h.d.Replace(rs2)
	for range 4 {
		h.send(event.Event{IP: "192.0.2.1", Status: 500})
	}
	if got := h.rec.Rules(); len(got) != 1 || got[0] != "counted" {
		t.Errorf("rules %v: the count should have carried over the reload", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	rs, err := Load("testdata/good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	d := New(rs, Options{})
	var rec detecttest.Recorder
	evs := make([]event.Event, 1024)
	for i := range evs {
		evs[i] = event.Event{ID: "e", Time: t0.Add(time.Duration(i) * time.Millisecond), APIKeyHash: fmt.Sprintf("kh_%d", i%100),
			IP: "198.51.100.1", Endpoint: "/v1/chat/completions", Route: "chat", Status: 200,
			PromptText: "Can you help me plan a trip to Lisbon in May with a small budget?", PromptSHA256: fmt.Sprint(i % 3)}
	}
	i := 0
	for b.Loop() {
		d.Observe(&evs[i%len(evs)], &rec)
		i++
	}
}
