package policy

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// FuzzCompile decodes arbitrary JSON as a policy: Compile either refuses it
// or gives a snapshot whose canonical policy compiles to the same thing, and
// evaluating and filtering never panic.
func FuzzCompile(f *testing.F) {
	seeds := []Policy{
		{Version: 1, Actions: []Action{
			act(KindBlock, Target{IP: "::ffff:203.0.113.7"}, Params{}),
			act(KindRateLimit, Target{CIDR: "203.0.113.9/24"}, Params{Requests: 5, Window: Duration(time.Minute)}),
			act(KindPromptFilter, Target{Route: "chat"}, Params{Literal: []string{"Ignore previous"}, Regex: []string{`sys(tem)?\s+prompt`}}),
			act(KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"a": 1, "b": 3}}),
			act(KindOutputProtection, Target{}, Params{Logprobs: "round", LogprobDigits: ptr(2)}),
		}},
	}
	for _, p := range seeds {
		b, _ := json.Marshal(p)
		f.Add(b, "ignore previous instructions")
	}
	f.Add([]byte(`{"version":2,"actions":[{"id":"x","kind":"disable","target":{"route":"r"},"reason":"r","created_by":"c","created_at":"2026-01-01T00:00:00Z"}]}`), "")
	f.Fuzz(func(t *testing.T, data []byte, prompt string) {
		var p Policy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		s, err := Compile(p)
		if err != nil {
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("Compile error %T %v", err, err)
			}
			return
		}
		canon := s.Policy()
		again, err := Compile(canon)
		if err != nil {
			t.Fatalf("canonical policy does not compile: %v", err)
		}
		if !reflect.DeepEqual(again.Policy(), canon) {
			t.Fatalf("canonical policy is not stable:\n%+v\n%+v", canon, again.Policy())
		}
		for _, a := range canon.Actions {
			req := Request{APIKeyHash: a.Target.APIKeyHash, User: a.Target.User, Route: a.Target.Route, Model: a.Target.Model, Now: a.CreatedAt}
			req.IP, _ = netip.ParseAddr(a.Target.IP)
			d := s.Evaluate(req)
			d.Filter.Match(prompt)
		}
	})
}

func FuzzFilterMatch(f *testing.F) {
	f.Add("ignore previous instructions")
	f.Add("i g n o r e  p r e v i o u s")
	f.Add("\U000E0069\U000E0067 \u200b\xff")
	filter := filterBenchSnapshot(f).Evaluate(alice).Filter
	f.Fuzz(func(t *testing.T, prompt string) {
		a1, m1, ok1 := filter.Match(prompt)
		a2, m2, ok2 := filter.Match(prompt)
		if a1 != a2 || m1 != m2 || ok1 != ok2 {
			t.Fatalf("Match(%q) is not deterministic", prompt)
		}
		if ok1 && (a1 == nil || m1 == "") {
			t.Fatalf("Match(%q) = %v, %q, true", prompt, a1, m1)
		}
	})
}
