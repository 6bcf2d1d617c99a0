package policy

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// caller is a request from one identity to one route and model.
func caller(key, user, ip, route, model string) Request {
	r := Request{APIKeyHash: key, User: user, Route: route, Model: model, Now: t0}
	if ip != "" {
		r.IP = netip.MustParseAddr(ip)
	}
	return r
}

var (
	alice = caller("keyA", "alice", "203.0.113.7", "chat", "gpt-4o")
	bob   = caller("keyB", "bob", "198.51.100.9", "chat", "gpt-4o")
)

func TestEvaluateTargets(t *testing.T) {
	minute := Duration(time.Minute)
	type outcome func(d Decision) bool
	blocked := func(d Decision) bool { return d.Blocked != nil }
	limited := func(d Decision) bool { return len(d.RateLimits) == 1 }
	filtered := func(d Decision) bool { return d.Filter != nil }
	sanitized := func(d Decision) bool { return d.Sanitize }
	limits := func(d Decision) bool { return d.Limits != Limits{} }
	output := func(d Decision) bool { return d.Output.Active() }
	disabled := func(d Decision) bool { return d.Disabled != nil }
	routed := func(d Decision) bool { return d.Upstream != "" || d.Weights != nil }
	captured := func(d Decision) bool { return d.Capture != nil }

	tests := []struct {
		name    string
		action  Action
		outcome outcome
		hit     []Request
		miss    []Request
	}{
		{"block ip A, not B", act(KindBlock, Target{IP: "203.0.113.7"}, Params{}), blocked,
			[]Request{alice, caller("", "", "203.0.113.7", "", "")},
			[]Request{bob, caller("keyA", "alice", "203.0.113.8", "chat", "gpt-4o"), caller("keyA", "alice", "", "chat", "gpt-4o")}},
		{"block key K, not K2", act(KindBlock, Target{APIKeyHash: "keyA"}, Params{}), blocked,
			[]Request{alice, caller("keyA", "", "", "", "")},
			[]Request{bob, caller("keyA2", "alice", "203.0.113.7", "chat", "gpt-4o"), caller("KEYA", "", "", "", ""), caller("", "", "", "", "")}},
		{"block user", act(KindBlock, Target{User: "alice"}, Params{}), blocked,
			[]Request{alice},
			[]Request{bob, caller("keyA", "Alice", "203.0.113.7", "chat", "gpt-4o"), caller("keyA", "", "203.0.113.7", "chat", "gpt-4o")}},
		{"block cidr", act(KindBlock, Target{CIDR: "203.0.113.0/24"}, Params{}), blocked,
			[]Request{alice, caller("", "", "203.0.113.255", "", ""), caller("", "", "::ffff:203.0.113.7", "", "")},
			[]Request{bob, caller("", "", "203.0.114.7", "", ""), caller("", "", "2001:db8::7", "", "")}},
		{"block ipv6 cidr", act(KindBlock, Target{CIDR: "2001:db8::/32"}, Params{}), blocked,
			[]Request{caller("", "", "2001:db8:1::7", "", ""), caller("", "", "2001:db8::1%eth0", "", "")},
			[]Request{caller("", "", "2001:db9::7", "", ""), alice}},
		{"IPv4-mapped IPv6 request matches IPv4 block", act(KindBlock, Target{IP: "203.0.113.7"}, Params{}), blocked,
			[]Request{caller("", "", "::ffff:203.0.113.7", "", "")},
			[]Request{caller("", "", "::ffff:203.0.113.8", "", "")}},
		{"IPv4-mapped IPv6 block matches IPv4 request", act(KindBlock, Target{IP: "::ffff:203.0.113.7"}, Params{}), blocked,
			[]Request{alice}, []Request{bob}},
		{"block key on one model only", act(KindBlock, Target{APIKeyHash: "keyA", Model: "gpt-4o"}, Params{}), blocked,
			[]Request{alice},
			[]Request{caller("keyA", "alice", "203.0.113.7", "chat", "other-model"), bob}},
		{"block user within cidr (AND)", act(KindBlock, Target{User: "alice", CIDR: "203.0.113.0/24"}, Params{}), blocked,
			[]Request{alice},
			[]Request{caller("keyA", "alice", "198.51.100.1", "chat", "gpt-4o"), caller("keyX", "mallory", "203.0.113.7", "chat", "gpt-4o")}},
		{"rate limit a key", act(KindRateLimit, Target{APIKeyHash: "keyA"}, Params{Requests: 10, Window: minute}), limited,
			[]Request{alice}, []Request{bob}},
		{"rate limit a route", act(KindRateLimit, Target{Route: "chat"}, Params{Requests: 10, Window: minute}), limited,
			[]Request{alice, bob}, []Request{caller("keyA", "alice", "203.0.113.7", "embed", "gpt-4o")}},
		{"filter one route", act(KindPromptFilter, Target{Route: "chat"}, Params{Literal: []string{"x"}}), filtered,
			[]Request{alice, bob}, []Request{caller("keyA", "alice", "203.0.113.7", "embed", "gpt-4o")}},
		{"filter everything", act(KindPromptFilter, Target{}, Params{Literal: []string{"x"}}), filtered,
			[]Request{alice, bob, {}}, nil},
		{"sanitize one model", act(KindSanitize, Target{Model: "gpt-4o"}, Params{}), sanitized,
			[]Request{alice, bob}, []Request{caller("keyA", "alice", "203.0.113.7", "chat", "llama")}},
		{"limits for one user", act(KindRequestLimits, Target{User: "bob"}, Params{MaxN: 1}), limits,
			[]Request{bob}, []Request{alice}},
		{"output protection for one cidr", act(KindOutputProtection, Target{CIDR: "198.51.100.0/24"}, Params{RedactPII: true}), output,
			[]Request{bob}, []Request{alice}},
		{"disable a route", act(KindDisable, Target{Route: "chat"}, Params{}), disabled,
			[]Request{alice, bob}, []Request{caller("keyA", "alice", "203.0.113.7", "embed", "gpt-4o")}},
		{"disable a model", act(KindDisable, Target{Model: "gpt-4o"}, Params{}), disabled,
			[]Request{alice, bob, caller("", "", "", "embed", "gpt-4o")}, []Request{caller("keyA", "alice", "203.0.113.7", "chat", "gpt-4o-mini")}},
		{"disable a model on one route", act(KindDisable, Target{Route: "chat", Model: "gpt-4o"}, Params{}), disabled,
			[]Request{alice}, []Request{caller("", "", "", "embed", "gpt-4o"), caller("", "", "", "chat", "llama")}},
		{"route a model", act(KindRoute, Target{Model: "gpt-4o"}, Params{Upstream: "backup"}), routed,
			[]Request{alice, bob}, []Request{caller("keyA", "alice", "203.0.113.7", "chat", "llama")}},
		{"route one caller's model", act(KindRoute, Target{Model: "gpt-4o", APIKeyHash: "keyA"}, Params{Upstream: "honeypot"}), routed,
			[]Request{alice}, []Request{bob}},
		{"capture a user", act(KindCapture, Target{User: "bob"}, Params{}), captured,
			[]Request{bob}, []Request{alice}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Surround the action with others that apply to nobody here.
			s := compile(t,
				act(KindBlock, Target{IP: "192.0.2.1"}, Params{}),
				tt.action,
				act(KindDisable, Target{Route: "elsewhere"}, Params{}),
				act(KindBlock, Target{CIDR: "192.0.2.0/28"}, Params{}),
			)
			for _, req := range tt.hit {
				if d := s.Evaluate(req); !tt.outcome(d) {
					t.Errorf("not applied to %+v: %+v", req, d)
				}
			}
			for _, req := range tt.miss {
				if d := s.Evaluate(req); !reflect.DeepEqual(d, Decision{}) {
					t.Errorf("applied to %+v: %+v", req, d)
				}
			}
		})
	}
}

func TestEvaluateReturnsTheAction(t *testing.T) {
	a := act(KindBlock, Target{IP: "203.0.113.7"}, Params{})
	a.Reason = "credential stuffing"
	d := compile(t, a).Evaluate(alice)
	if d.Blocked == nil || d.Blocked.ID != a.ID || d.Blocked.Reason != "credential stuffing" || d.Blocked.Incident != "INC-1" {
		t.Fatalf("Blocked = %+v", d.Blocked)
	}
}

func TestEvaluateExpiry(t *testing.T) {
	a := act(KindBlock, Target{IP: "203.0.113.7"}, Params{})
	a.ExpiresAt = ptr(t0.Add(time.Hour))
	s := compile(t, a)
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{t0, true},
		{t0.Add(time.Hour - time.Nanosecond), true},
		{t0.Add(time.Hour), false}, // ExpiresAt <= Now: ignored
		{t0.Add(2 * time.Hour), false},
	} {
		req := alice
		req.Now = tt.now
		if got := s.Evaluate(req).Blocked != nil; got != tt.want {
			t.Errorf("at %v: blocked = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestEvaluateMergesStrictest(t *testing.T) {
	s := compile(t,
		act(KindRequestLimits, Target{}, Params{MaxPromptChars: 8000, MaxTokens: 1024, Logprobs: "strip"}),
		act(KindRequestLimits, Target{Route: "chat"}, Params{MaxPromptChars: 4000, MaxMessages: 50, Logprobs: "refuse"}),
		act(KindRequestLimits, Target{User: "alice"}, Params{MaxPromptChars: 6000, MaxTokens: 256, MaxN: 2, Logprobs: "strip"}),
		act(KindOutputProtection, Target{}, Params{RedactPII: true, Logprobs: "round", LogprobDigits: ptr(3), MaxOutputChars: 5000}),
		act(KindOutputProtection, Target{Route: "chat"}, Params{RedactSecrets: true, Logprobs: "round", MaxOutputChars: 9000}),
		act(KindOutputProtection, Target{Model: "other"}, Params{Logprobs: "drop"}),
	)
	d := s.Evaluate(alice)
	wantLimits := Limits{MaxPromptChars: 4000, MaxMessages: 50, MaxTokens: 256, MaxN: 2, Logprobs: "refuse"}
	if d.Limits != wantLimits {
		t.Errorf("Limits = %+v, want %+v", d.Limits, wantLimits)
	}
	wantOutput := Output{RedactPII: true, RedactSecrets: true, Logprobs: "round", LogprobDigits: 1, MaxOutputChars: 5000}
	if d.Output != wantOutput {
		t.Errorf("Output = %+v, want %+v", d.Output, wantOutput)
	}

	// Another route and model: only the global ones, and "drop" beats "round".
	d = s.Evaluate(caller("keyB", "bob", "198.51.100.9", "embed", "other"))
	if want := (Limits{MaxPromptChars: 8000, MaxTokens: 1024, Logprobs: "strip"}); d.Limits != want {
		t.Errorf("Limits = %+v, want %+v", d.Limits, want)
	}
	if want := (Output{RedactPII: true, Logprobs: "drop", MaxOutputChars: 5000}); d.Output != want {
		t.Errorf("Output = %+v, want %+v", d.Output, want)
	}
}

func TestEvaluateSeveralOfAKind(t *testing.T) {
	minute := Duration(time.Minute)
	b1 := act(KindBlock, Target{CIDR: "203.0.113.0/24"}, Params{})
	b2 := act(KindBlock, Target{IP: "203.0.113.7"}, Params{})
	rl1 := act(KindRateLimit, Target{APIKeyHash: "keyA"}, Params{Requests: 5, Window: minute})
	rl2 := act(KindRateLimit, Target{Route: "chat"}, Params{Tokens: 1000, Window: minute})
	rl3 := act(KindRateLimit, Target{CIDR: "203.0.113.0/24"}, Params{Requests: 100, Window: Duration(time.Hour)})
	f1 := act(KindPromptFilter, Target{}, Params{Literal: []string{"alpha"}})
	f2 := act(KindPromptFilter, Target{Route: "chat"}, Params{Regex: []string{"bet+a"}})
	r1 := act(KindRoute, Target{Model: "gpt-4o"}, Params{Upstream: "backup"})
	r2 := act(KindRoute, Target{Model: "gpt-4o", APIKeyHash: "keyA"}, Params{Upstream: "honeypot"})
	r3 := act(KindRoute, Target{Model: "gpt-4o"}, Params{Weights: map[string]int{"v1": 9, "v2": 1}})
	c1 := act(KindCapture, Target{User: "alice"}, Params{})
	s := compile(t, b1, rl1, f1, r1, b2, rl2, r2, f2, rl3, r3, c1)

	d := s.Evaluate(alice)
	if d.Blocked == nil || d.Blocked.ID != b1.ID {
		t.Errorf("Blocked = %v, want the first in policy order %s", d.Blocked, b1.ID)
	}
	var ids []string
	for _, a := range d.RateLimits {
		ids = append(ids, a.ID)
	}
	if want := []string{rl1.ID, rl2.ID, rl3.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("RateLimits = %v, want %v in policy order", ids, want)
	}
	if d.Upstream != "honeypot" || d.Weights != nil {
		t.Errorf("route = %q %v, want the most specific (honeypot)", d.Upstream, d.Weights)
	}
	if d.Capture == nil || d.Capture.ID != c1.ID {
		t.Errorf("Capture = %v", d.Capture)
	}
	for prompt, want := range map[string]string{"say alpha": f1.ID, "say betta": f2.ID} {
		a, _, ok := d.Filter.Match(prompt)
		if !ok || a.ID != want {
			t.Errorf("Filter.Match(%q) = %v, %v; want %s", prompt, a, ok, want)
		}
	}

	// Bob: no key-specific route, so among equally specific routes the
	// latest wins: the canary split.
	d = s.Evaluate(bob)
	if d.Upstream != "" || d.Weights["v2"] != 1 {
		t.Errorf("route for bob = %q %v, want the canary", d.Upstream, d.Weights)
	}
	if len(d.RateLimits) != 1 || d.RateLimits[0].ID != rl2.ID || d.Blocked != nil || d.Capture != nil {
		t.Errorf("bob: %+v", d)
	}
}

func TestEvaluateManyRateLimits(t *testing.T) {
	var actions []Action
	for range 20 {
		actions = append(actions, act(KindRateLimit, Target{Route: "chat"}, Params{Requests: 1, Window: Duration(time.Second)}))
		actions = append(actions, act(KindRateLimit, Target{APIKeyHash: "keyA"}, Params{Requests: 1, Window: Duration(time.Second)}))
	}
	d := compile(t, actions...).Evaluate(alice)
	if len(d.RateLimits) != 40 {
		t.Fatalf("%d rate limits, want 40", len(d.RateLimits))
	}
	for i, a := range d.RateLimits {
		if a.ID != actions[i].ID {
			t.Fatalf("RateLimits[%d] = %s, want %s", i, a.ID, actions[i].ID)
		}
	}
}

func TestEvaluateDoesNotAllocateWhenNothingApplies(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	s := benchSnapshot(t)
	req := caller("nobody", "nobody", "192.0.2.200", "chat", "gpt-4o")
	if d := s.Evaluate(req); !reflect.DeepEqual(d, Decision{}) {
		t.Fatalf("something applies: %+v", d)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Evaluate(req) }); n != 0 {
		t.Errorf("Evaluate allocates %v times, want 0", n)
	}
	blocked := caller("key-17", "", "", "chat", "gpt-4o")
	if n := testing.AllocsPerRun(100, func() { _ = s.Evaluate(blocked) }); n != 0 {
		t.Errorf("Evaluate of a blocked request allocates %v times, want 0", n)
	}
}

func TestEvaluatePromptGuard(t *testing.T) {
	alertAll := act(KindPromptGuard, Target{}, Params{Mode: GuardAlert})
	blockChat := act(KindPromptGuard, Target{Route: "chat"}, Params{Mode: GuardBlock, Threshold: 0.8})
	strictAlert := act(KindPromptGuard, Target{User: "alice"}, Params{Mode: GuardAlert, Threshold: 0.3})
	s := compile(t, alertAll, blockChat, strictAlert)

	d := s.Evaluate(alice) // route chat, user alice: all three apply
	if d.Guard.Mode != GuardBlock || d.Guard.Action.ID != blockChat.ID || d.Guard.Threshold != 0.3 {
		t.Errorf("alice on chat: Guard = %+v, want block by %s at the lowest threshold 0.3", d.Guard, blockChat.ID)
	}
	d = s.Evaluate(caller("keyB", "bob", "198.51.100.9", "embed", "other"))
	if d.Guard.Mode != GuardAlert || d.Guard.Action.ID != alertAll.ID || d.Guard.Threshold != DefaultGuardThreshold {
		t.Errorf("bob on embed: Guard = %+v, want alert by %s at the default threshold", d.Guard, alertAll.ID)
	}
	if d := compile(t).Evaluate(alice); d.Guard != (Guard{}) {
		t.Errorf("empty policy: Guard = %+v, want off", d.Guard)
	}
}
