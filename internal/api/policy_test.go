package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

// testKeyHash is the hash newEnv's containment service gives raw API keys;
// it embeds the key so a test can tell which key a hash came from.
func testKeyHash(k string) string { return "kh_test_" + k }

// policyDoc is the body of GET /api/v1/policy.
type policyDoc struct {
	Version int64           `json:"version"`
	Actions []policy.Action `json:"actions"`
}

// readPolicy reads the policy in force as the viewer.
func (e *env) readPolicy(tb testing.TB) policyDoc {
	tb.Helper()
	var p policyDoc
	res := e.do(tb, "GET", "/api/v1/policy", e.viewer(), nil).want(tb, http.StatusOK)
	res.decode(tb, &p)
	if got, want := res.header.Get("ETag"), fmt.Sprintf(`"%d"`, p.Version); got != want {
		tb.Errorf("policy ETag %q, want %q (the version quoted)", got, want)
	}
	return p
}

// addAction posts an action as token and returns it.
func (e *env) addAction(tb testing.TB, token string, req map[string]any) policy.Action {
	tb.Helper()
	var act policy.Action
	e.do(tb, "POST", "/api/v1/policy/actions", token, req).want(tb, http.StatusCreated).decode(tb, &act)
	return act
}

// auditCount counts the audit entries with action.
func (e *env) auditCount(tb testing.TB, action string) int {
	tb.Helper()
	return len(e.audit(tb, "?action="+action))
}

// timeline lists an incident's timeline, oldest first.
func (e *env) timeline(tb testing.TB, id string) []store.TimelineEntry {
	tb.Helper()
	return listAll[store.TimelineEntry](tb, e, e.admin(), "/api/v1/incidents/"+id+"/timeline", 500)
}

// entryBody is what a containment timeline entry holds.
type entryBody struct {
	Text string `json:"text"`
	Ref  string `json:"ref"`
}

func TestPolicyReadByRole(t *testing.T) {
	e := newEnv(t)
	e.do(t, "GET", "/api/v1/policy", e.tok[api.RoleClient], nil).want(t, http.StatusForbidden)
	for _, role := range []string{api.RoleAdmin, api.RoleResponder, api.RoleViewer, api.RoleGateway} {
		res := e.do(t, "GET", "/api/v1/policy", e.tok[role], nil).want(t, http.StatusOK)
		var fields map[string]json.RawMessage
		res.decode(t, &fields)
		if string(fields["version"]) != "0" || string(fields["actions"]) != "[]" {
			t.Errorf("%s: empty policy = %s, want version 0 and actions []", role, res.body)
		}
		if got := res.header.Get("ETag"); got != `"0"` {
			t.Errorf("%s: ETag %q, want \"0\"", role, got)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", role, ct)
		}
	}
	res := e.do(t, "GET", "/api/v1/policy", "", nil).wantErr(t, http.StatusUnauthorized, "unauthenticated", "bearer token")
	if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: Bearer")
	}
	e.do(t, "GET", "/api/v1/policy", "", nil, header{"Authorization", "Bearer alk_notatoken"}).wantErr(t, http.StatusUnauthorized, "unauthenticated")

	// With an action in force, every reader sees it under the new version.
	act := e.addAction(t, e.responder(), map[string]any{"kind": "block", "target": map[string]string{"ip": "203.0.113.7"}, "reason": "jailbreak campaign"})
	for _, role := range []string{api.RoleAdmin, api.RoleResponder, api.RoleViewer, api.RoleGateway} {
		var p policyDoc
		res := e.do(t, "GET", "/api/v1/policy", e.tok[role], nil).want(t, http.StatusOK)
		res.decode(t, &p)
		if p.Version != 1 || len(p.Actions) != 1 || p.Actions[0].ID != act.ID || res.header.Get("ETag") != `"1"` {
			t.Errorf("%s: policy = %s (ETag %s), want version 1 with the block", role, res.body, res.header.Get("ETag"))
		}
	}
}

// TestPolicyRoutesNeedAService: without a containment service the policy
// routes do not exist.
func TestPolicyRoutesNeedAService(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(api.New(st, incident.NewService(st, nil), api.Options{}, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	e := &env{ctx: ctx, srv: srv}
	e.do(t, "GET", "/api/v1/policy", "", nil).wantErr(t, http.StatusNotFound, "not_found", "/api/v1/policy")
	e.do(t, "POST", "/api/v1/policy/actions", "", map[string]any{"kind": "block"}).wantErr(t, http.StatusNotFound, "not_found")
}

func TestPolicyIfNoneMatch(t *testing.T) {
	e := newEnv(t)
	first := e.do(t, "GET", "/api/v1/policy", e.gateway(), nil).want(t, http.StatusOK)
	tag := first.header.Get("ETag")

	for _, inm := range []string{tag, `"7", ` + tag, "W/" + tag} {
		res := e.do(t, "GET", "/api/v1/policy", e.gateway(), nil, header{"If-None-Match", inm}).want(t, http.StatusNotModified)
		if len(res.body) != 0 {
			t.Errorf("If-None-Match %s: 304 with a body: %q", inm, res.body)
		}
		if got := res.header.Get("ETag"); got != tag {
			t.Errorf("If-None-Match %s: 304 with ETag %q, want %q", inm, got, tag)
		}
	}
	// A tag that is not the current one gets the policy.
	e.do(t, "GET", "/api/v1/policy", e.gateway(), nil, header{"If-None-Match", `"42"`}).want(t, http.StatusOK)

	post := e.do(t, "POST", "/api/v1/policy/actions", e.responder(), map[string]any{
		"kind": "disable", "target": map[string]string{"model": "legacy-model"}, "reason": "poisoned version",
	}).want(t, http.StatusCreated)
	if got := post.header.Get("ETag"); got != `"1"` {
		t.Errorf("POST ETag %q, want the new version \"1\"", got)
	}

	res := e.do(t, "GET", "/api/v1/policy", e.gateway(), nil, header{"If-None-Match", tag}).want(t, http.StatusOK)
	var p policyDoc
	res.decode(t, &p)
	if p.Version != 1 || len(p.Actions) != 1 || res.header.Get("ETag") != `"1"` {
		t.Errorf("after a change: %s (ETag %s), want version 1", res.body, res.header.Get("ETag"))
	}
	e.do(t, "GET", "/api/v1/policy", e.gateway(), nil, header{"If-None-Match", `"1"`}).want(t, http.StatusNotModified)
}

// validActions holds one valid request per kind.
func validActions() map[policy.Kind]map[string]any {
	return map[policy.Kind]map[string]any{
		policy.KindBlock: {
			"kind": "block", "target": map[string]any{"ip": "::ffff:203.0.113.7"}, "reason": "jailbreak campaign from this address", "ttl": "1h",
		},
		policy.KindRateLimit: {
			"kind": "rate_limit", "target": map[string]any{"user": "mallory"},
			"params": map[string]any{"requests": 10, "tokens": 20000, "window": "1m"}, "reason": "model extraction pattern",
		},
		policy.KindPromptFilter: {
			"kind": "prompt_filter", "target": map[string]any{"route": "default"},
			"params": map[string]any{"literal": []string{"ignore previous instructions"}, "regex": []string{`reveal (the )?system prompt`}},
			"reason": "known jailbreak phrasing", "ttl": "24h",
		},
		policy.KindSanitize: {
			"kind": "sanitize", "reason": "hidden-character injection seen",
		},
		policy.KindRequestLimits: {
			"kind":   "request_limits",
			"params": map[string]any{"max_prompt_chars": 8000, "max_messages": 50, "max_tokens": 512, "max_n": 1, "logprobs": "strip"},
			"reason": "extraction needs many long completions",
		},
		policy.KindOutputProtection: {
			"kind":   "output_protection",
			"params": map[string]any{"redact_pii": true, "redact_secrets": true, "logprobs": "round", "logprob_digits": 2, "max_output_chars": 4000},
			"reason": "data leakage in answers",
		},
		policy.KindDisable: {
			"kind": "disable", "target": map[string]any{"model": "support-bot-v7"}, "reason": "tampered weights",
		},
		policy.KindRoute: {
			"kind": "route", "target": map[string]any{"model": "support-bot"}, "params": map[string]any{"upstream": "previous"},
			"reason": "roll back to the known-good version",
		},
		policy.KindCapture: {
			"kind": "capture", "target": map[string]any{"cidr": "198.51.100.9/24"}, "reason": "keep evidence of the campaign", "ttl": "30m",
		},
		policy.KindPromptGuard: {
			"kind": "prompt_guard", "target": map[string]any{"route": "default"}, "params": map[string]any{"mode": "block", "threshold": 0.7},
			"reason": "injection campaign on the support route",
		},
	}
}

// TestPolicyAddEveryKind: every kind with valid params is accepted, answered
// with the stored action, and bumps the version by exactly one.
func TestPolicyAddEveryKind(t *testing.T) {
	e := newEnv(t)
	reqs := validActions()
	if len(reqs) != len(policy.Kinds()) {
		t.Fatalf("the test covers %d kinds, the policy has %d", len(reqs), len(policy.Kinds()))
	}
	ids := map[string]bool{}
	version := e.readPolicy(t).Version
	for i, kind := range policy.Kinds() {
		req := reqs[kind]
		role := api.RoleResponder
		if i%2 == 1 {
			role = api.RoleAdmin
		}
		before := time.Now().UTC()
		res := e.do(t, "POST", "/api/v1/policy/actions", e.tok[role], req).want(t, http.StatusCreated)
		after := time.Now().UTC()
		var act policy.Action
		res.decode(t, &act)
		if act.ID == "" || ids[act.ID] {
			t.Errorf("%s: id %q is empty or not unique", kind, act.ID)
		}
		ids[act.ID] = true
		if act.Kind != kind || act.Reason != req["reason"] {
			t.Errorf("%s: answered %s", kind, res.body)
		}
		if act.CreatedBy != tokenNames[role] {
			t.Errorf("%s: created_by %q, want the token's name %q", kind, act.CreatedBy, tokenNames[role])
		}
		if act.CreatedAt.Before(before.Add(-time.Second)) || act.CreatedAt.After(after.Add(time.Second)) {
			t.Errorf("%s: created_at %s is not the time of the request (%s..%s)", kind, act.CreatedAt, before, after)
		}
		if ttl, ok := req["ttl"].(string); ok {
			d, _ := time.ParseDuration(ttl)
			if act.ExpiresAt == nil || !act.ExpiresAt.Equal(act.CreatedAt.Add(d)) {
				t.Errorf("%s: expires_at %v, want created_at + %s", kind, act.ExpiresAt, ttl)
			}
		} else if act.ExpiresAt != nil || strings.Contains(string(res.body), "expires_at") {
			t.Errorf("%s: expires_at without a ttl: %s", kind, res.body)
		}
		if got, want := res.header.Get("Location"), "/api/v1/policy/actions/"+act.ID; got != want {
			t.Errorf("%s: Location %q, want %q", kind, got, want)
		}
		version++
		if got := res.header.Get("ETag"); got != fmt.Sprintf(`"%d"`, version) {
			t.Errorf("%s: ETag %q, want version %d", kind, got, version)
		}
		p := e.readPolicy(t)
		if p.Version != version {
			t.Errorf("%s: policy version %d, want %d (one more per change)", kind, p.Version, version)
		}
		if len(p.Actions) != i+1 {
			t.Errorf("%s: %d actions in force, want %d", kind, len(p.Actions), i+1)
		}
	}

	// What was stored is the canonical form.
	byKind := map[policy.Kind]policy.Action{}
	for _, a := range e.readPolicy(t).Actions {
		byKind[a.Kind] = a
	}
	if ip := byKind[policy.KindBlock].Target.IP; ip != "203.0.113.7" {
		t.Errorf("block ip %q, want the IPv4-mapped address as IPv4", ip)
	}
	if cidr := byKind[policy.KindCapture].Target.CIDR; cidr != "198.51.100.0/24" {
		t.Errorf("capture cidr %q, want it masked", cidr)
	}
	if rl := byKind[policy.KindRateLimit].Params; rl.Per != "user" || rl.Requests != 10 || rl.Tokens != 20000 || time.Duration(rl.Window) != time.Minute {
		t.Errorf("rate_limit params = %+v, want per user (from the target), 10 requests, 20000 tokens a minute", rl)
	}
	if op := byKind[policy.KindOutputProtection].Params; op.LogprobDigits == nil || *op.LogprobDigits != 2 || !op.RedactPII || !op.RedactSecrets {
		t.Errorf("output_protection params = %+v", op)
	}
	if n := e.auditCount(t, "policy.add"); n != len(reqs) {
		t.Errorf("%d policy.add audit entries, want %d", n, len(reqs))
	}

	// A canary split is the other form of route.
	act := e.addAction(t, e.responder(), map[string]any{
		"kind": "route", "target": map[string]any{"model": "support-bot", "route": "default"},
		"params": map[string]any{"weights": map[string]int{"primary": 90, "canary": 10}}, "reason": "canary the fix",
	})
	if act.Params.Weights["canary"] != 10 || act.Params.Upstream != "" {
		t.Errorf("canary route = %+v", act.Params)
	}
}

// TestPolicyConcurrentChanges: versions are handed out one per change even
// when changes race.
func TestPolicyConcurrentChanges(t *testing.T) {
	e := newEnv(t)
	const n = 16
	// send runs in its own goroutine, so it reports instead of failing.
	send := func(method, path string, body any, out any) error {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+e.responder())
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		return json.Unmarshal(data, out)
	}
	var wg sync.WaitGroup
	acts := make([]policy.Action, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = send("POST", "/api/v1/policy/actions", map[string]any{
				"kind": "block", "target": map[string]any{"user": "user-" + strconv.Itoa(i)}, "reason": "burst",
			}, &acts[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p := e.readPolicy(t)
	if p.Version != n || len(p.Actions) != n {
		t.Fatalf("after %d concurrent adds: version %d with %d actions", n, p.Version, len(p.Actions))
	}
	for i := range acts {
		wg.Go(func() {
			var removed policy.Action
			if errs[i] = send("DELETE", "/api/v1/policy/actions/"+acts[i].ID, nil, &removed); errs[i] == nil && removed.ID != acts[i].ID {
				errs[i] = fmt.Errorf("DELETE %s answered %s", acts[i].ID, removed.ID)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := e.readPolicy(t); p.Version != 2*n || len(p.Actions) != 0 {
		t.Errorf("after removing them all: version %d with %d actions, want %d and none", p.Version, len(p.Actions), 2*n)
	}
}

// TestPolicyWritesNeedWriteRole: viewers and gateways read the policy but
// cannot change it, and their attempts are audited as denied.
func TestPolicyWritesNeedWriteRole(t *testing.T) {
	e := newEnv(t)
	act := e.addAction(t, e.responder(), validActions()[policy.KindBlock])
	before := e.readPolicy(t)
	for _, role := range []string{api.RoleViewer, api.RoleGateway} {
		for _, kind := range policy.Kinds() {
			e.do(t, "POST", "/api/v1/policy/actions", e.tok[role], validActions()[kind]).
				wantErr(t, http.StatusForbidden, "forbidden", "role "+role, "write")
		}
		e.do(t, "DELETE", "/api/v1/policy/actions/"+act.ID, e.tok[role], nil).wantErr(t, http.StatusForbidden, "forbidden", "role "+role)
		denied := e.audit(t, "?action=denied&actor="+tokenNames[role])
		if len(denied) != len(policy.Kinds())+1 {
			t.Errorf("%s: %d denied audit entries, want %d", role, len(denied), len(policy.Kinds())+1)
		}
	}
	after := e.readPolicy(t)
	if after.Version != before.Version || len(after.Actions) != 1 || after.Actions[0].ID != act.ID {
		t.Errorf("refused writes changed the policy: version %d → %d, actions %+v", before.Version, after.Version, after.Actions)
	}
	if n := e.auditCount(t, "policy.add"); n != 1 {
		t.Errorf("%d policy.add entries, want 1", n)
	}
	if n := e.auditCount(t, "policy.remove"); n != 0 {
		t.Errorf("%d policy.remove entries, want 0", n)
	}
}

// TestPolicyAddRefusesBadRequests: each bad request is a 4xx whose message
// names the field at fault, and it changes nothing.
func TestPolicyAddRefusesBadRequests(t *testing.T) {
	e := newEnv(t)
	ip := map[string]any{"ip": "203.0.113.7"}
	block := func(over map[string]any) map[string]any {
		req := map[string]any{"kind": "block", "target": ip, "reason": "test"}
		for k, v := range over {
			if v == nil {
				delete(req, k)
			} else {
				req[k] = v
			}
		}
		return req
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		want   []string // in the message
	}{
		{"unknown kind", block(map[string]any{"kind": "nuke"}), 422, "invalid", []string{"kind", `"nuke"`, "block"}},
		{"no kind", block(map[string]any{"kind": nil}), 422, "invalid", []string{"kind"}},
		{"missing reason", block(map[string]any{"reason": nil}), 422, "invalid", []string{"reason", "required"}},
		{"blank reason", block(map[string]any{"reason": "  \n "}), 422, "invalid", []string{"reason", "required"}},
		{"block without identity", block(map[string]any{"target": map[string]any{}}), 422, "invalid", []string{"target", "identity"}},
		{"block of a model only", block(map[string]any{"target": map[string]any{"model": "m"}}), 422, "invalid", []string{"target", "identity"}},
		{"bad IP", block(map[string]any{"target": map[string]any{"ip": "203.0.113.300"}}), 422, "invalid", []string{"target.ip", "203.0.113.300"}},
		{"IP with a zone", block(map[string]any{"target": map[string]any{"ip": "fe80::1%eth0"}}), 422, "invalid", []string{"target.ip"}},
		{"bad CIDR", block(map[string]any{"target": map[string]any{"cidr": "203.0.113.0/33"}}), 422, "invalid", []string{"target.cidr", "203.0.113.0/33"}},
		{"IP outside CIDR", block(map[string]any{"target": map[string]any{"ip": "192.0.2.1", "cidr": "203.0.113.0/24"}}), 422, "invalid", []string{"target.ip", "target.cidr"}},
		{"bad regex", map[string]any{"kind": "prompt_filter", "params": map[string]any{"regex": []string{"(unclosed"}}, "reason": "x"}, 422, "invalid", []string{"params.regex[0]", "invalid regex"}},
		{"regex matching everything", map[string]any{"kind": "prompt_filter", "params": map[string]any{"regex": []string{"a*"}}, "reason": "x"}, 422, "invalid", []string{"params.regex[0]", "empty"}},
		{"filter without patterns", map[string]any{"kind": "prompt_filter", "reason": "x"}, 422, "invalid", []string{"params", "literal or regex"}},
		{"bad ttl", block(map[string]any{"ttl": "forever"}), 422, "invalid", []string{"ttl", `"forever"`}},
		{"negative ttl", block(map[string]any{"ttl": "-1h"}), 422, "invalid", []string{"ttl"}},
		{"ttl too long", block(map[string]any{"ttl": "2161h"}), 422, "invalid", []string{"ttl"}},
		{"ttl as a number", block(map[string]any{"ttl": 3600}), 400, "bad_json", []string{`"ttl"`, "string"}},
		{"unknown incident", block(map[string]any{"incident": "01900000-0000-7000-8000-000000000000"}), 422, "invalid", []string{"incident", "01900000-0000-7000-8000-000000000000"}},
		{"malformed incident id", block(map[string]any{"incident": "../etc"}), 422, "invalid", []string{"incident"}},
		{"unknown field", block(map[string]any{"expires": "tomorrow"}), 400, "bad_json", []string{"unknown field", `"expires"`}},
		{"unknown target field", block(map[string]any{"target": map[string]any{"address": "203.0.113.7"}}), 400, "bad_json", []string{"unknown field", `"address"`}},
		{"unknown params field", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"rpm": 5}, "reason": "x"}, 400, "bad_json", []string{"unknown field", `"rpm"`}},
		{"param of another kind", block(map[string]any{"params": map[string]any{"requests": 5}}), 422, "invalid", []string{"params.requests", "not allowed for block"}},
		{"rate limit without window", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"requests": 5}, "reason": "x"}, 422, "invalid", []string{"params.window"}},
		{"rate limit window too long", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"requests": 5, "window": "48h"}, "reason": "x"}, 422, "invalid", []string{"params.window"}},
		// policy.Duration's own errors do not name the field (encoding/json
		// does not add it); they do say what a duration looks like.
		{"window not a duration", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"requests": 5, "window": "forever"}, "reason": "x"}, 400, "bad_json", []string{"duration", `"forever"`}},
		{"window as a number", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"requests": 5, "window": 60}, "reason": "x"}, 400, "bad_json", []string{"duration"}},
		{"kind as a number", block(map[string]any{"kind": 1}), 400, "bad_json", []string{`"kind"`}},
		{"rate limit per nothing", map[string]any{"kind": "rate_limit", "target": ip, "params": map[string]any{"requests": 5, "window": "1m", "per": "route"}, "reason": "x"}, 422, "invalid", []string{"params.per"}},
		{"disable a caller", map[string]any{"kind": "disable", "target": ip, "reason": "x"}, 422, "invalid", []string{"target", "route or a model"}},
		{"route without model", map[string]any{"kind": "route", "params": map[string]any{"upstream": "b"}, "reason": "x"}, 422, "invalid", []string{"target.model"}},
		{"route with upstream and weights", map[string]any{"kind": "route", "target": map[string]any{"model": "m"}, "params": map[string]any{"upstream": "b", "weights": map[string]int{"a": 1}}, "reason": "x"}, 422, "invalid", []string{"params", "not both"}},
		{"request limits without limits", map[string]any{"kind": "request_limits", "reason": "x"}, 422, "invalid", []string{"params", "request_limits"}},
		{"output logprobs strip", map[string]any{"kind": "output_protection", "params": map[string]any{"logprobs": "strip"}, "reason": "x"}, 422, "invalid", []string{"params.logprobs"}},
		{"logprob digits out of range", map[string]any{"kind": "output_protection", "params": map[string]any{"logprobs": "round", "logprob_digits": 9}, "reason": "x"}, 422, "invalid", []string{"params.logprob_digits"}},
		{"raw key and hash", block(map[string]any{"target": map[string]any{"api_key": "sk-live-1", "api_key_hash": "kh_1"}}), 422, "invalid", []string{"api_key", "api_key_hash", "not both"}},
		{"raw key in the hash field", block(map[string]any{"target": map[string]any{"api_key_hash": "sk live key!"}}), 422, "invalid", []string{"target.api_key_hash"}},
		{"empty body", "", 400, "bad_json", []string{"empty"}},
		{"malformed JSON", `{"kind": "block",`, 400, "bad_json", []string{"malformed"}},
		{"trailing data", `{"kind":"block","target":{"ip":"203.0.113.7"},"reason":"x"} {}`, 400, "bad_json", []string{"after the JSON object"}},
		{"invalid UTF-8", "{\"kind\":\"block\",\"target\":{\"ip\":\"203.0.113.7\"},\"reason\":\"\xff\"}", 400, "bad_utf8", []string{"UTF-8"}},
		{"too large", block(map[string]any{"reason": strings.Repeat("x", maxBody)}), 413, "too_large", []string{"larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.readPolicy(t)
			audits := len(e.audit(t, ""))
			res := e.do(t, "POST", "/api/v1/policy/actions", e.responder(), tc.body).wantErr(t, tc.status, tc.code, tc.want...)
			if tc.status == http.StatusUnprocessableEntity && len(res.err.Details) == 0 {
				t.Errorf("%s: no details listing the problems", res)
			}
			after := e.readPolicy(t)
			if after.Version != before.Version || len(after.Actions) != len(before.Actions) {
				t.Errorf("a refused request changed the policy: version %d → %d", before.Version, after.Version)
			}
			if n := len(e.audit(t, "")); n != audits {
				t.Errorf("a refused request wrote %d audit entries", n-audits)
			}
		})
	}

	// Several problems are reported at once.
	res := e.do(t, "POST", "/api/v1/policy/actions", e.responder(), map[string]any{
		"kind": "block", "target": map[string]any{"ip": "nope"}, "ttl": "soon",
	}).wantErr(t, 422, "invalid", "target.ip", "reason", "ttl")
	res.detailsMention(t, "target.ip", "reason", "ttl")
}

// TestPolicyRawKeyIsHashed: a raw API key is hashed by the server and is
// nowhere to be found afterwards (except inside the test hash, which embeds
// it on purpose so the test can tell which key a hash came from).
func TestPolicyRawKeyIsHashed(t *testing.T) {
	e := newEnv(t)
	const key = "sk-live-Secret-4242"
	res := e.do(t, "POST", "/api/v1/policy/actions", e.responder(), map[string]any{
		"kind": "block", "target": map[string]any{"api_key": "  " + key + "\t"}, "reason": "stolen key",
	}).want(t, http.StatusCreated)
	var act policy.Action
	res.decode(t, &act)
	if want := testKeyHash(key); act.Target.APIKeyHash != want {
		t.Errorf("api_key_hash %q, want %q (the key trimmed and hashed)", act.Target.APIKeyHash, want)
	}
	var raw struct {
		Target map[string]any `json:"target"`
	}
	res.decode(t, &raw)
	if _, ok := raw.Target["api_key"]; ok || len(raw.Target) != 1 {
		t.Errorf("answered target %v, want only api_key_hash", raw.Target)
	}
	leaks := func(where string, b []byte) {
		t.Helper()
		if s := strings.ReplaceAll(string(b), testKeyHash(key), ""); strings.Contains(s, key) {
			t.Errorf("%s holds the raw key: %s", where, b)
		}
	}
	leaks("the POST answer", res.body)
	leaks("GET /api/v1/policy", e.do(t, "GET", "/api/v1/policy", e.gateway(), nil).want(t, http.StatusOK).body)
	for _, a := range e.audit(t, "?action=policy.add") {
		leaks("the audit entry", a.Detail)
	}
	var rows []*store.PolicyAction
	if err := e.st.View(e.ctx, func(tx store.Tx) (err error) { rows, err = tx.ListPolicyActions(e.ctx); return err }); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		leaks("the stored action", r.Doc)
	}

	// The same key given as its hash is the same target, and unblock by
	// hash (as the CLI does it) finds it.
	p := e.readPolicy(t)
	if len(p.Actions) != 1 || p.Actions[0].Target.APIKeyHash != testKeyHash(key) {
		t.Fatalf("policy = %+v", p)
	}
	// A blank raw key is refused: the gateway never hashes an empty key, so
	// a block on its hash would match nobody.
	e.do(t, "POST", "/api/v1/policy/actions", e.responder(), map[string]any{
		"kind": "block", "target": map[string]any{"api_key": "   "}, "reason": "x",
	}).wantErr(t, 422, "invalid", "target.api_key", "blank")
}

// TestPolicyIncidentTimeline: an action naming an incident is a containment
// measure on it; lifting the action lifts the measure.
func TestPolicyIncidentTimeline(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, nil)
	act := e.addAction(t, e.responder(), map[string]any{
		"kind": "block", "target": map[string]any{"ip": "203.0.113.9"}, "reason": "jailbreak campaign",
		"incident": inc.ID, "ttl": "2h",
	})
	if act.Incident != inc.ID {
		t.Errorf("action incident %q, want %q", act.Incident, inc.ID)
	}

	got := e.get(t, inc.ID)
	if len(got.Containment) != 1 || got.Containment[0].Ref != act.ID || got.Containment[0].By != tokenNames[api.RoleResponder] {
		t.Fatalf("incident containment = %+v, want the action by the responder", got.Containment)
	}
	if s := got.Containment[0].Summary; !strings.Contains(s, "block") || !strings.Contains(s, "203.0.113.9") || !strings.Contains(s, "jailbreak campaign") {
		t.Errorf("containment summary %q does not say what was done to whom and why", s)
	}
	if got.Milestones.Contained == nil {
		t.Error("the first containment measure did not stamp the contained milestone")
	}
	tl := e.timeline(t, inc.ID)
	last := tl[len(tl)-1]
	var body entryBody
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if last.Kind != incident.KindContainment || body.Ref != act.ID || last.Actor != tokenNames[api.RoleResponder] || !strings.Contains(body.Text, "until") {
		t.Errorf("last timeline entry = %+v %+v, want containment ref %s by the responder, with its expiry", last, body, act.ID)
	}

	// An action with no incident touches no timeline.
	other := e.addAction(t, e.responder(), map[string]any{"kind": "block", "target": map[string]any{"user": "eve"}, "reason": "x"})
	if n := len(e.timeline(t, inc.ID)); n != len(tl) {
		t.Errorf("an action without an incident added %d timeline entries", n-len(tl))
	}

	res := e.do(t, "DELETE", "/api/v1/policy/actions/"+act.ID+"?reason=campaign+over", e.admin(), nil).want(t, http.StatusOK)
	var removed policy.Action
	res.decode(t, &removed)
	if removed.ID != act.ID || removed.Kind != policy.KindBlock || removed.Target.IP != "203.0.113.9" || removed.Incident != inc.ID {
		t.Errorf("DELETE answered %s, want the removed action", res.body)
	}
	p := e.readPolicy(t)
	if got := res.header.Get("ETag"); got != fmt.Sprintf(`"%d"`, p.Version) {
		t.Errorf("DELETE ETag %q, policy version %d", got, p.Version)
	}
	if got := res.header.Get("X-Policy-Version"); got != strconv.FormatInt(p.Version, 10) {
		t.Errorf("X-Policy-Version %q, policy version %d", got, p.Version)
	}
	if len(p.Actions) != 1 || p.Actions[0].ID != other.ID {
		t.Errorf("after DELETE the policy holds %+v, want only the other action", p.Actions)
	}

	got = e.get(t, inc.ID)
	if len(got.Containment) != 0 {
		t.Errorf("incident containment after lifting = %+v, want none", got.Containment)
	}
	tl = e.timeline(t, inc.ID)
	last = tl[len(tl)-1]
	body = entryBody{}
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if last.Kind != incident.KindContainmentLifted || body.Ref != act.ID || last.Actor != tokenNames[api.RoleAdmin] ||
		!strings.Contains(body.Text, "lifted") || !strings.Contains(body.Text, "campaign over") {
		t.Errorf("last timeline entry = %+v %+v, want containment_lifted ref %s by the admin with the reason", last, body, act.ID)
	}
	var verify struct {
		OK bool `json:"ok"`
	}
	e.do(t, "GET", "/api/v1/incidents/"+inc.ID+"/verify", e.admin(), nil).want(t, http.StatusOK).decode(t, &verify)
	if !verify.OK {
		t.Error("the incident's timeline chain does not verify after the policy changes")
	}

	// A second DELETE finds nothing and changes nothing.
	version := p.Version
	e.do(t, "DELETE", "/api/v1/policy/actions/"+act.ID, e.admin(), nil).wantErr(t, http.StatusNotFound, "not_found", act.ID)
	e.do(t, "DELETE", "/api/v1/policy/actions/no-such-action", e.admin(), nil).wantErr(t, http.StatusNotFound, "not_found")
	if v := e.readPolicy(t).Version; v != version {
		t.Errorf("a DELETE of nothing moved the version %d → %d", version, v)
	}
	if n := len(e.timeline(t, inc.ID)); n != len(tl) {
		t.Errorf("a DELETE of nothing added %d timeline entries", n-len(tl))
	}
	// An over-long reason is refused before anything happens.
	e.do(t, "DELETE", "/api/v1/policy/actions/"+other.ID+"?reason="+strings.Repeat("x", 1001), e.admin(), nil).
		wantErr(t, http.StatusBadRequest, "bad_reason", "reason")
	if p := e.readPolicy(t); p.Version != version || len(p.Actions) != 1 {
		t.Errorf("a refused DELETE changed the policy")
	}
}

// TestPolicyAudit: every change is on the audit log with who, from where,
// what and on which action.
func TestPolicyAudit(t *testing.T) {
	e := newEnv(t)
	a1 := e.addAction(t, e.responder(), validActions()[policy.KindRateLimit])
	a2 := e.addAction(t, e.admin(), validActions()[policy.KindSanitize])
	e.do(t, "DELETE", "/api/v1/policy/actions/"+a1.ID+"?reason=false+positive", e.admin(), nil).want(t, http.StatusOK)

	adds := e.audit(t, "?action=policy.add") // newest first
	if len(adds) != 2 {
		t.Fatalf("%d policy.add entries, want 2: %+v", len(adds), adds)
	}
	for i, w := range []struct {
		act  policy.Action
		role string
	}{{a2, api.RoleAdmin}, {a1, api.RoleResponder}} {
		g := adds[i]
		if g.Target != w.act.ID || g.Actor != tokenNames[w.role] || g.Role != w.role || g.Addr != "127.0.0.1" || g.At.IsZero() {
			t.Errorf("policy.add entry %d = %+v, want %s by the %s", i, g, w.act.ID, w.role)
		}
		var detail policy.Action
		if err := json.Unmarshal(g.Detail, &detail); err != nil || detail.ID != w.act.ID || detail.Kind != w.act.Kind || detail.Reason != w.act.Reason {
			t.Errorf("policy.add entry %d detail = %s, want the action", i, g.Detail)
		}
	}
	removes := e.audit(t, "?action=policy.remove")
	if len(removes) != 1 {
		t.Fatalf("%d policy.remove entries, want 1", len(removes))
	}
	g := removes[0]
	if g.Target != a1.ID || g.Actor != tokenNames[api.RoleAdmin] || g.Role != api.RoleAdmin || g.Addr != "127.0.0.1" {
		t.Errorf("policy.remove entry = %+v", g)
	}
	var detail struct{ Reason string }
	if err := json.Unmarshal(g.Detail, &detail); err != nil || detail.Reason != "false positive" {
		t.Errorf("policy.remove detail = %s, want the reason", g.Detail)
	}
	if got := e.audit(t, "?actor="+tokenNames[api.RoleResponder]); len(got) != 1 || got[0].Action != "policy.add" {
		t.Errorf("the responder's audit entries = %+v, want the one add", got)
	}
}

// TestStepDecision: the approve route takes an optional body, passes the
// responder's decision and note on, answers with the playbook, and says 409
// for a step that is not waiting and 404 for an unknown incident.
func TestStepDecision(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, nil)
	path := "/api/v1/incidents/" + inc.ID + "/steps/route-to-known-good/approve"
	e.do(t, "POST", path, e.responder(), nil).want(t, http.StatusOK)
	e.do(t, "POST", path, e.responder(), map[string]any{"approve": false, "note": "keep serving v1"}).want(t, http.StatusOK)
	e.do(t, "POST", "/api/v1/incidents/"+inc.ID+"/steps/not-waiting/approve", e.responder(), nil).want(t, http.StatusConflict)
	e.do(t, "POST", "/api/v1/incidents/nope/steps/x/approve", e.responder(), nil).want(t, http.StatusNotFound)
	e.do(t, "POST", path, e.responder(), map[string]any{"approve": "yes"}).want(t, http.StatusBadRequest)
	e.do(t, "POST", path, e.responder(), map[string]any{"note": strings.Repeat("n", 4001)}).want(t, http.StatusUnprocessableEntity)
}

// TestIntelFeeds: a feed is imported, listed and replaced by name; a
// malformed one is refused with each problem's line and changes nothing.
func TestIntelFeeds(t *testing.T) {
	e := newEnv(t)
	csv := "type,value,severity,description\nip,203.0.113.66,high,scanner\nprompt_signature,exfiltrate the vault contents,critical,known jailbreak\n"
	e.do(t, "PUT", "/api/v1/intel/feeds/abuse", e.responder(), csv, header{"Content-Type", "text/csv"}).want(t, http.StatusOK)
	var list struct {
		Feeds []struct {
			Name  string
			Count int
		}
		Indicators int
	}
	e.do(t, "GET", "/api/v1/intel", e.viewer(), nil).want(t, http.StatusOK).decode(t, &list)
	if len(list.Feeds) != 1 || list.Feeds[0].Count != 2 || list.Indicators != 2 {
		t.Fatalf("after import: %+v", list)
	}
	bad := "type,value\nip,not-an-ip\nsha256,abc\nprompt_signature,short\n"
	res := e.do(t, "PUT", "/api/v1/intel/feeds/abuse", e.responder(), bad, header{"Content-Type", "text/csv"}).want(t, http.StatusUnprocessableEntity)
	if len(res.err.Details) != 3 || !strings.HasPrefix(res.err.Details[0], "abuse:2: ") || !strings.HasPrefix(res.err.Details[2], "abuse:4: ") {
		t.Errorf("details %q: want one per bad line, as file:line: reason", res.err.Details)
	}
	e.do(t, "GET", "/api/v1/intel", e.viewer(), nil).want(t, http.StatusOK).decode(t, &list)
	if list.Indicators != 2 {
		t.Errorf("a refused feed changed what is in force: %+v", list)
	}
	e.do(t, "PUT", "/api/v1/intel/feeds/Bad%20Name", e.responder(), csv).want(t, http.StatusUnprocessableEntity)
	e.do(t, "DELETE", "/api/v1/intel/feeds/nope", e.responder(), nil).want(t, http.StatusNotFound)
	stix := `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{"type": "indicator", "spec_version": "2.1",
		"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
		"pattern": "[ipv4-addr:value = '198.51.100.0/24']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]}`
	e.do(t, "PUT", "/api/v1/intel/feeds/stix-feed", e.responder(), stix, header{"Content-Type", "application/json"}).want(t, http.StatusOK)
	var inds struct {
		Items []struct{ Type, Value string }
	}
	e.do(t, "GET", "/api/v1/intel/indicators?feed=stix-feed", e.viewer(), nil).want(t, http.StatusOK).decode(t, &inds)
	if len(inds.Items) != 1 || inds.Items[0].Type != "cidr" || inds.Items[0].Value != "198.51.100.0/24" {
		t.Errorf("STIX feed indicators %+v", inds.Items)
	}
}
