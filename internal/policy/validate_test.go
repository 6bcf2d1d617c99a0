package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateGood(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		target Target
		params Params
	}{
		{"block key", KindBlock, Target{APIKeyHash: "hmac-sha256:9f86d081884c7d65"}, Params{}},
		{"block user", KindBlock, Target{User: "mallory"}, Params{}},
		{"block ip", KindBlock, Target{IP: "203.0.113.7"}, Params{}},
		{"block ipv6", KindBlock, Target{IP: "2001:db8::1"}, Params{}},
		{"block cidr", KindBlock, Target{CIDR: "203.0.113.0/24"}, Params{}},
		{"block key on one model", KindBlock, Target{APIKeyHash: "abc", Model: "gpt-4o"}, Params{}},
		{"rate limit requests", KindRateLimit, Target{APIKeyHash: "abc"}, Params{Requests: 10, Window: Duration(time.Minute)}},
		{"rate limit tokens per ip on a route", KindRateLimit, Target{Route: "chat"}, Params{Tokens: 10000, Window: Duration(time.Hour), Per: "ip"}},
		{"rate limit both", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Tokens: 1, Window: Duration(24 * time.Hour)}},
		{"prompt filter literal", KindPromptFilter, Target{}, Params{Literal: []string{"ignore previous instructions"}}},
		{"prompt filter regex on route", KindPromptFilter, Target{Route: "chat"}, Params{Regex: []string{`ignore\s+(all\s+)?previous`}}},
		{"sanitize everything", KindSanitize, Target{}, Params{}},
		{"sanitize one model", KindSanitize, Target{Model: "m"}, Params{}},
		{"request limits", KindRequestLimits, Target{}, Params{MaxPromptChars: 8000, MaxMessages: 20, MaxTokens: 512, MaxN: 1, Logprobs: "refuse"}},
		{"request limits strip only", KindRequestLimits, Target{Route: "r"}, Params{Logprobs: "strip"}},
		{"output protection", KindOutputProtection, Target{}, Params{RedactPII: true, RedactSecrets: true, Logprobs: "round", LogprobDigits: ptr(0), MaxOutputChars: 4000}},
		{"output drop logprobs", KindOutputProtection, Target{Model: "m"}, Params{Logprobs: "drop"}},
		{"disable route", KindDisable, Target{Route: "chat"}, Params{}},
		{"disable model", KindDisable, Target{Model: "gpt-4o"}, Params{}},
		{"disable model on route", KindDisable, Target{Route: "chat", Model: "gpt-4o"}, Params{}},
		{"route to backup", KindRoute, Target{Model: "m"}, Params{Upstream: "backup-v1"}},
		{"canary", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"v1": 90, "v2": 10}}},
		{"route one caller", KindRoute, Target{Model: "m", User: "u"}, Params{Upstream: "honeypot"}},
		{"capture", KindCapture, Target{CIDR: "2001:db8::/32"}, Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := act(tt.kind, tt.target, tt.params)
			a.ExpiresAt = ptr(t0.Add(time.Hour))
			if err := a.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateBad(t *testing.T) {
	long := strings.Repeat("x", 1001)
	tests := []struct {
		name   string
		edit   func(a *Action)
		wantIn []string // substrings of the problems, each naming a field
	}{
		{"no id", func(a *Action) { a.ID = "" }, []string{"id: required"}},
		{"id with space", func(a *Action) { a.ID = "a b" }, []string{"id: "}},
		{"unknown kind", func(a *Action) { a.Kind = "nuke" }, []string{`kind: unknown kind "nuke"`}},
		{"no reason", func(a *Action) { a.Reason = "  " }, []string{"reason: required"}},
		{"reason too long", func(a *Action) { a.Reason = long }, []string{"reason: 1001 bytes"}},
		{"reason invalid utf8", func(a *Action) { a.Reason = "bad \xff" }, []string{"reason: not valid UTF-8"}},
		{"reason control char", func(a *Action) { a.Reason = "a\x00b" }, []string{"reason: contains a control character"}},
		{"no created_by", func(a *Action) { a.CreatedBy = "" }, []string{"created_by: required"}},
		{"no created_at", func(a *Action) { a.CreatedAt = time.Time{} }, []string{"created_at: required"}},
		{"expiry before creation", func(a *Action) { a.ExpiresAt = ptr(t0.Add(-time.Second)) }, []string{"expires_at: "}},
		{"bad incident", func(a *Action) { a.Incident = "INC 1" }, []string{"incident: "}},
		{"block without identity", func(a *Action) { a.Target = Target{Route: "r"} }, []string{"target: block needs an identity"}},
		{"block empty target", func(a *Action) { a.Target = Target{} }, []string{"target: block needs an identity"}},
		{"bad ip", func(a *Action) { a.Target = Target{IP: "203.0.113.300"} }, []string{`target.ip: "203.0.113.300" is not an IP address`}},
		{"ip with zone", func(a *Action) { a.Target = Target{IP: "fe80::1%eth0"} }, []string{"target.ip: "}},
		{"ip as cidr", func(a *Action) { a.Target = Target{IP: "203.0.113.0/24"} }, []string{"target.ip: "}},
		{"bad cidr", func(a *Action) { a.Target = Target{CIDR: "203.0.113.0/33"} }, []string{"target.cidr: "}},
		{"cidr without bits", func(a *Action) { a.Target = Target{CIDR: "203.0.113.0"} }, []string{"target.cidr: "}},
		{"ip outside cidr", func(a *Action) { a.Target = Target{IP: "198.51.100.1", CIDR: "203.0.113.0/24"} }, []string{"target.ip: 198.51.100.1 is not inside"}},
		{"raw key", func(a *Action) { a.Target = Target{APIKeyHash: "sk live key"} }, []string{"target.api_key_hash: "}},
		{"user too long", func(a *Action) { a.Target = Target{User: strings.Repeat("u", 513)} }, []string{"target.user: 513 bytes"}},
		{"user control char", func(a *Action) { a.Target = Target{User: "bob\n"} }, []string{"target.user: contains a control character"}},
		{"block with params", func(a *Action) { a.Params = Params{Requests: 5, Literal: []string{"x"}} }, []string{"params.requests: not allowed for block", "params.literal: not allowed for block"}},
		{"several problems at once", func(a *Action) { a.ID = ""; a.Reason = ""; a.Target = Target{IP: "nope"} }, []string{"id: required", "reason: required", "target.ip: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := act(KindBlock, Target{IP: "203.0.113.7"}, Params{})
			tt.edit(&a)
			checkProblems(t, a, tt.wantIn)
		})
	}
}

func TestValidateBadPerKind(t *testing.T) {
	minute := Duration(time.Minute)
	tooMany := make([]string, MaxPatterns+1)
	for i := range tooMany {
		tooMany[i] = "word"
	}
	tests := []struct {
		name   string
		kind   Kind
		target Target
		params Params
		wantIn []string
	}{
		// rate_limit
		{"rate limit empty target", KindRateLimit, Target{}, Params{Requests: 1, Window: minute}, []string{"target: rate_limit needs a target"}},
		{"rate limit nothing to count", KindRateLimit, Target{User: "u"}, Params{Window: minute}, []string{"params: rate_limit needs requests or tokens"}},
		{"rate limit negative", KindRateLimit, Target{User: "u"}, Params{Requests: -1, Tokens: -5, Window: minute}, []string{"params.requests: -1 is negative", "params.tokens: -5 is negative"}},
		{"rate limit no window", KindRateLimit, Target{User: "u"}, Params{Requests: 1}, []string{"params.window: required"}},
		{"rate limit window too short", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Window: Duration(500 * time.Millisecond)}, []string{"params.window: 500ms is outside 1s..24h"}},
		{"rate limit window too long", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Window: Duration(25 * time.Hour)}, []string{"params.window: 25h is outside"}},
		{"rate limit negative window", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Window: Duration(-time.Minute)}, []string{"params.window: "}},
		{"rate limit bad per", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Window: minute, Per: "model"}, []string{`params.per: "model"`}},
		{"rate limit with filter", KindRateLimit, Target{User: "u"}, Params{Requests: 1, Window: minute, Regex: []string{"x"}}, []string{"params.regex: not allowed for rate_limit"}},
		// prompt_filter
		{"filter without patterns", KindPromptFilter, Target{}, Params{}, []string{"params: prompt_filter needs at least one literal or regex"}},
		{"filter bad regex", KindPromptFilter, Target{}, Params{Regex: []string{"ignore("}}, []string{"params.regex[0]: invalid regex"}},
		{"filter regex matching empty", KindPromptFilter, Target{}, Params{Regex: []string{"x*", `\b`, "(a|)"}}, []string{"params.regex[0]: ", "params.regex[1]: ", "params.regex[2]: "}},
		{"filter too many patterns", KindPromptFilter, Target{}, Params{Literal: tooMany}, []string{"params: 1001 patterns, more than 1000"}},
		{"filter pattern too long", KindPromptFilter, Target{}, Params{Literal: []string{strings.Repeat("a", 1001)}, Regex: []string{strings.Repeat("b", 1001)}}, []string{"params.literal[0]: 1001 bytes", "params.regex[0]: 1001 bytes"}},
		{"filter empty literal", KindPromptFilter, Target{}, Params{Literal: []string{"ok", ""}}, []string{"params.literal[1]: empty"}},
		{"filter invisible literal", KindPromptFilter, Target{}, Params{Literal: []string{"\u200b\u200b "}}, []string{"params.literal[0]: is empty once normalised"}},
		{"filter invalid utf8", KindPromptFilter, Target{}, Params{Literal: []string{"a\xff"}}, []string{"params.literal[0]: not valid UTF-8"}},
		{"filter with limits", KindPromptFilter, Target{}, Params{Literal: []string{"x"}, MaxN: 1}, []string{"params.max_n: not allowed for prompt_filter"}},
		// prompt_guard
		{"guard without mode", KindPromptGuard, Target{Route: "chat"}, Params{}, []string{"params.mode: required"}},
		{"guard bad mode", KindPromptGuard, Target{}, Params{Mode: "warn"}, []string{`params.mode: "warn" is not`}},
		{"guard threshold too high", KindPromptGuard, Target{}, Params{Mode: "block", Threshold: 1}, []string{"params.threshold: 1 is outside (0, 1)"}},
		{"guard threshold negative", KindPromptGuard, Target{}, Params{Mode: "alert", Threshold: -0.2}, []string{"params.threshold: -0.2 is outside"}},
		{"guard with filter", KindPromptGuard, Target{}, Params{Mode: "block", Literal: []string{"x"}}, []string{"params.literal: not allowed for prompt_guard"}},
		{"mode on block", KindBlock, Target{User: "u"}, Params{Mode: "block"}, []string{"params.mode: not allowed for block"}},
		// sanitize
		{"sanitize with params", KindSanitize, Target{}, Params{RedactPII: true}, []string{"params.redact_pii: not allowed for sanitize"}},
		// request_limits
		{"limits empty", KindRequestLimits, Target{}, Params{}, []string{"params: request_limits needs at least one"}},
		{"limits negative", KindRequestLimits, Target{}, Params{MaxPromptChars: -1, MaxMessages: -2, MaxTokens: -3, MaxN: -4}, []string{"params.max_prompt_chars: -1 is negative", "params.max_messages: -2", "params.max_tokens: -3", "params.max_n: -4"}},
		{"limits bad logprobs", KindRequestLimits, Target{}, Params{Logprobs: "round"}, []string{`params.logprobs: "round" is not "strip" or "refuse"`}},
		{"limits with upstream", KindRequestLimits, Target{}, Params{MaxN: 1, Upstream: "x"}, []string{"params.upstream: not allowed for request_limits"}},
		// output_protection
		{"output empty", KindOutputProtection, Target{}, Params{}, []string{"params: output_protection needs at least one"}},
		{"output bad logprobs", KindOutputProtection, Target{}, Params{Logprobs: "strip"}, []string{`params.logprobs: "strip" is not "round" or "drop"`}},
		{"output digits out of range", KindOutputProtection, Target{}, Params{Logprobs: "round", LogprobDigits: ptr(7)}, []string{"params.logprob_digits: 7 is outside 0..6"}},
		{"output negative digits", KindOutputProtection, Target{}, Params{Logprobs: "round", LogprobDigits: ptr(-1)}, []string{"params.logprob_digits: -1 is outside"}},
		{"output digits without round", KindOutputProtection, Target{}, Params{Logprobs: "drop", LogprobDigits: ptr(2)}, []string{"params.logprob_digits: only applies"}},
		{"output negative max", KindOutputProtection, Target{}, Params{RedactPII: true, MaxOutputChars: -1}, []string{"params.max_output_chars: -1 is negative"}},
		{"output with window", KindOutputProtection, Target{}, Params{RedactPII: true, Window: minute}, []string{"params.window: not allowed for output_protection"}},
		// disable
		{"disable nothing", KindDisable, Target{}, Params{}, []string{"target: disable needs a route or a model"}},
		{"disable a caller", KindDisable, Target{Route: "r", IP: "203.0.113.7"}, Params{}, []string{"target.ip: not allowed for disable"}},
		{"disable with params", KindDisable, Target{Route: "r"}, Params{Upstream: "x"}, []string{"params.upstream: not allowed for disable"}},
		// route
		{"route without model", KindRoute, Target{Route: "r"}, Params{Upstream: "x"}, []string{"target.model: required for route"}},
		{"route without destination", KindRoute, Target{Model: "m"}, Params{}, []string{"params: route needs upstream or weights"}},
		{"route both", KindRoute, Target{Model: "m"}, Params{Upstream: "a", Weights: map[string]int{"b": 1}}, []string{"params: route takes upstream or weights, not both"}},
		{"route weights all zero", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"a": 0, "b": 0}}, []string{`params.weights["a"]: 0 is not positive`, `params.weights["b"]: 0 is not positive`}},
		{"route negative weight", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"a": 10, "b": -1}}, []string{`params.weights["b"]: -1 is not positive`}},
		{"route empty weights", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{}}, []string{"params.weights: empty"}},
		{"route empty upstream name", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"": 5}}, []string{"params.weights: an upstream name is empty"}},
		{"route huge weight", KindRoute, Target{Model: "m"}, Params{Weights: map[string]int{"a": MaxWeight + 1}}, []string{`params.weights["a"]: 1000001 is more than`}},
		// capture
		{"capture a route", KindCapture, Target{Route: "r"}, Params{}, []string{"target: capture needs an identity"}},
		{"capture with params", KindCapture, Target{User: "u"}, Params{RedactSecrets: true}, []string{"params.redact_secrets: not allowed for capture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, act(tt.kind, tt.target, tt.params), tt.wantIn)
		})
	}
}

func checkProblems(t *testing.T, a Action, wantIn []string) {
	t.Helper()
	err := a.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if len(ve.Problems) != len(wantIn) {
		t.Errorf("got %d problems %q, want %d", len(ve.Problems), ve.Problems, len(wantIn))
	}
	for _, w := range wantIn {
		found := false
		for _, p := range ve.Problems {
			if strings.HasPrefix(p, w) || strings.Contains(p, w) && strings.Contains(w, ": ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem matching %q in %q", w, ve.Problems)
		}
	}
	for _, p := range ve.Problems {
		if field, _, ok := strings.Cut(p, ": "); !ok || field == "" || strings.Contains(field, " ") {
			t.Errorf("problem %q does not start with the field it is about", p)
		}
	}
}

func TestValidateCanonicalises(t *testing.T) {
	tests := []struct {
		in, wantIP, wantCIDR string
	}{
		{"::ffff:203.0.113.7", "203.0.113.7", ""},
		{"2001:DB8:0:0::1", "2001:db8::1", ""},
	}
	for _, tt := range tests {
		a := act(KindBlock, Target{IP: tt.in}, Params{})
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		if a.Target.IP != tt.wantIP {
			t.Errorf("IP %q canonicalised to %q, want %q", tt.in, a.Target.IP, tt.wantIP)
		}
	}
	for in, want := range map[string]string{
		"203.0.113.77/24":        "203.0.113.0/24",
		"::ffff:203.0.113.0/120": "203.0.113.0/24",
		"2001:db8:ffff::1/32":    "2001:db8::/32",
		"203.0.113.7/32":         "203.0.113.7/32",
	} {
		a := act(KindBlock, Target{CIDR: in}, Params{})
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		if a.Target.CIDR != want {
			t.Errorf("CIDR %q canonicalised to %q, want %q", in, a.Target.CIDR, want)
		}
	}
	for target, want := range map[Target]string{
		{APIKeyHash: "k", User: "u"}:   "api_key",
		{User: "u", IP: "203.0.113.7"}: "user",
		{CIDR: "203.0.113.0/24"}:       "ip",
		{Route: "r"}:                   "api_key",
	} {
		a := act(KindRateLimit, target, Params{Requests: 1, Window: Duration(time.Second)})
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		if a.Params.Per != want {
			t.Errorf("per for %+v defaulted to %q, want %q", target, a.Params.Per, want)
		}
	}
}

func TestActionJSON(t *testing.T) {
	in := `{"id":"a1","kind":"rate_limit","target":{"ip":"203.0.113.7"},
		"params":{"requests":10,"window":"1m30s"},"reason":"scraping","incident":"INC-7",
		"created_by":"alice","created_at":"2026-03-01T12:00:00Z","expires_at":"2026-03-01T13:00:00Z"}`
	var a Action
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if time.Duration(a.Params.Window) != 90*time.Second || a.ExpiresAt == nil || a.Params.Per != "ip" {
		t.Fatalf("decoded %+v", a)
	}
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"window":"1m30s"`) || strings.Contains(string(out), "literal") {
		t.Errorf("encoded %s", out)
	}
	for _, bad := range []string{`{"params":{"window":90}}`, `{"params":{"window":"soon"}}`} {
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("decoding %s succeeded", bad)
		}
	}
	if got := Duration(time.Hour).String(); got != "1h" {
		t.Errorf("Duration(1h) = %q", got)
	}
}
