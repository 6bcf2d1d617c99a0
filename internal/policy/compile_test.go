package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	good := act(KindBlock, Target{IP: "203.0.113.7"}, Params{})
	dup := good
	bad := act(KindBlock, Target{}, Params{})
	bad.Reason = ""
	tests := []struct {
		name   string
		p      Policy
		wantIn []string
	}{
		{"negative version", Policy{Version: -1}, []string{"version: -1 is negative"}},
		{"duplicate id", Policy{Version: 1, Actions: []Action{good, dup}}, []string{`actions[1].id: "` + good.ID + `" is also the id of actions[0]`}},
		{"problems of every action, prefixed", Policy{Version: 1, Actions: []Action{good, bad}}, []string{"actions[1].reason: required", "actions[1].target: block needs an identity"}},
		{"bad regex", Policy{Version: 2, Actions: []Action{act(KindPromptFilter, Target{}, Params{Regex: []string{"(?P<x"}})}}, []string{"actions[0].params.regex[0]: invalid regex"}},
		{"too many actions", Policy{Version: 1, Actions: make([]Action, MaxActions+1)}, []string{"actions: 100001, more than 100000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.p)
			var ve *ValidationError
			if s != nil || !errors.As(err, &ve) {
				t.Fatalf("Compile = %v, %v; want a *ValidationError", s, err)
			}
			if len(ve.Problems) != len(tt.wantIn) {
				t.Errorf("problems %q, want %d", ve.Problems, len(tt.wantIn))
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(strings.Join(ve.Problems, "\n"), w) {
					t.Errorf("no problem %q in %q", w, ve.Problems)
				}
			}
			if !strings.Contains(err.Error(), tt.wantIn[0]) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestCompileBoundsProblems(t *testing.T) {
	var actions []Action
	for range 200 {
		actions = append(actions, Action{})
	}
	_, err := Compile(Policy{Version: 1, Actions: actions})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Compile = %v", err)
	}
	if n := len(ve.Problems); n != maxProblems+1 || !strings.HasPrefix(ve.Problems[n-1], "and ") {
		t.Errorf("%d problems, last %q; want %d and a count of the rest", n, ve.Problems[n-1], maxProblems+1)
	}
}

func TestCompileDoesNotAliasInput(t *testing.T) {
	exp := t0.Add(time.Hour)
	in := Policy{Version: 3, Actions: []Action{
		act(KindBlock, Target{IP: "::ffff:203.0.113.7"}, Params{}),
		act(KindPromptFilter, Target{}, Params{Literal: []string{"secret"}}),
		act(KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"a": 1, "b": 1}}),
		act(KindOutputProtection, Target{}, Params{Logprobs: "round", LogprobDigits: ptr(2)}),
	}}
	in.Actions[0].ExpiresAt = &exp
	s, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	if in.Actions[0].Target.IP != "::ffff:203.0.113.7" {
		t.Error("Compile canonicalised the caller's action in place")
	}
	before, _ := json.Marshal(s.Policy())

	// Changing the input, or what Policy returned, changes nothing.
	in.Actions[1].Params.Literal[0] = "other"
	in.Actions[2].Params.Weights["a"] = 100
	*in.Actions[3].Params.LogprobDigits = 5
	*in.Actions[0].ExpiresAt = t0
	got := s.Policy()
	got.Actions[1].Params.Literal[0] = "changed"
	got.Actions[2].Params.Weights["b"] = 7
	got.Actions[0].ExpiresAt = nil
	after, _ := json.Marshal(s.Policy())
	if string(before) != string(after) {
		t.Errorf("snapshot changed:\n%s\n%s", before, after)
	}
	if p := s.Policy(); p.Version != 3 || p.Actions[0].Target.IP != "203.0.113.7" {
		t.Errorf("Policy() = %+v", p)
	}
	if !s.Evaluate(Request{IP: addr("203.0.113.7"), Now: t0}).Filter.matches("a secret here") {
		t.Error("filter lost its literal")
	}
}

func (f *Filter) matches(s string) bool { _, _, ok := f.Match(s); return ok }

func TestEmpty(t *testing.T) {
	e := Empty()
	if e.Version() != 0 {
		t.Errorf("Empty().Version() = %d", e.Version())
	}
	p := e.Policy()
	if p.Actions == nil || len(p.Actions) != 0 {
		t.Errorf("Empty().Policy() = %#v, want an empty, non-nil list", p)
	}
	if b, _ := json.Marshal(p); string(b) != `{"version":0,"actions":[]}` {
		t.Errorf("JSON %s", b)
	}
	if d := e.Evaluate(Request{User: "u", IP: addr("203.0.113.7"), Now: t0}); !reflect.DeepEqual(d, Decision{}) {
		t.Errorf("Empty().Evaluate = %+v", d)
	}
	s, err := Compile(Policy{})
	if err != nil || s.Version() != 0 {
		t.Fatalf("Compile(Policy{}) = %v, %v", s, err)
	}
}
