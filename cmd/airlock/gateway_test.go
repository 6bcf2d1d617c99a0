package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeModel is a minimal OpenAI-compatible upstream.
func fakeModel(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startServeWithGateway(t *testing.T, data, upstream string) (*proc, string) {
	return startServeArgs(t, data, "--upstream", upstream)
}

func startServeWithConfig(t *testing.T, data, config string) (*proc, string) {
	return startServeArgs(t, data, "--config", config)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startServeArgs starts "airlock serve" with a gateway and waits for both
// listeners.
func startServeArgs(t *testing.T, data string, args ...string) (*proc, string) {
	t.Helper()
	p := startServe(t, data, append([]string{"--gateway-addr", "127.0.0.1:0"}, args...)...)
	return p, waitFile(t, filepath.Join(data, "gateway.addr"))
}

// TestContainmentReachesTheGateway blocks one caller through the CLI while
// two callers send traffic, and measures how long the block takes to be
// enforced; the other caller must never see an error, and the change must
// be on the incident's timeline.
func TestContainmentReachesTheGateway(t *testing.T) {
	data := t.TempDir()
	model := fakeModel(t)
	srv, gw := startServeWithGateway(t, data, model.URL+"/v1")
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "alice"))
	env := []string{"AIRLOCK_SERVER=" + srv.url, "AIRLOCK_TOKEN=" + tok}
	incID := strings.TrimSpace(mustRun(t, env, "incident", "create", "-q", "--title", "key abuse", "--type", "model_extraction", "--severity", "high"))

	type sample struct {
		at     time.Time
		status int
	}
	var mu sync.Mutex
	samples := map[string][]sample{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for _, key := range []string{"sk-attacker", "sk-benign"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("POST", gw+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				st := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					st = resp.StatusCode
				}
				mu.Lock()
				samples[key] = append(samples[key], sample{time.Now(), st})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	out := mustRun(t, env, "policy", "block", "--key", "sk-attacker", "--reason", "scraping", "--incident", incID, "--json")
	blockedAt := time.Now()
	var act struct {
		ID     string
		Target struct {
			APIKeyHash string `json:"api_key_hash"`
		}
	}
	json.Unmarshal([]byte(out), &act)
	if act.ID == "" || !strings.HasPrefix(act.Target.APIKeyHash, "kh_") || strings.Contains(out, "sk-attacker") {
		t.Fatalf("policy block answered %s", out)
	}
	time.Sleep(1500 * time.Millisecond)
	mustRun(t, env, "policy", "unblock", act.ID)
	liftedAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var firstBlocked, firstAfterLift time.Time
	for _, s := range samples["sk-attacker"] {
		if s.status == 403 && firstBlocked.IsZero() {
			firstBlocked = s.at
		}
		if s.at.After(liftedAt) && s.status == 200 && firstAfterLift.IsZero() {
			firstAfterLift = s.at
		}
	}
	if firstBlocked.IsZero() || firstBlocked.Sub(blockedAt) > time.Second {
		t.Errorf("block enforced %v after the CLI returned; want within 1s", firstBlocked.Sub(blockedAt))
	}
	if firstAfterLift.IsZero() || firstAfterLift.Sub(liftedAt) > time.Second {
		t.Errorf("unblock enforced %v after the CLI returned; want within 1s", firstAfterLift.Sub(liftedAt))
	}
	for _, s := range samples["sk-benign"] {
		if s.status != 200 {
			t.Fatalf("the benign caller got %d at %s", s.status, s.at.Format(time.RFC3339Nano))
		}
	}
	t.Logf("block enforced within %v, lift within %v; benign caller served %d requests without error",
		firstBlocked.Sub(blockedAt), firstAfterLift.Sub(liftedAt), len(samples["sk-benign"]))

	show := mustRun(t, env, "incident", "show", incID)
	if !strings.Contains(show, "containment_lifted") || !strings.Contains(show, act.ID) {
		t.Errorf("the incident's timeline does not show the block and its lifting:\n%s", show)
	}
	code, body := request(t, "GET", srv.url+"/metrics", tok, nil)
	for _, want := range []string{`airlock_gateway_requests_total{decision="blocked"}`, `airlock_events_dropped_total{subscriber="event-log"} 0`, "airlock_policy_version 2"} {
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
	events, err := os.ReadFile(filepath.Join(data, "events.jsonl"))
	if err != nil || !strings.Contains(string(events), `"decision":"blocked"`) || strings.Contains(string(events), "sk-attacker") {
		t.Errorf("event log: %v (raw keys must never be logged)", err)
	}
}

// TestStandaloneGatewayKeepsLastGoodPolicy runs "airlock gateway" apart from
// the server: a block made on the server reaches it within a second, and
// when the server dies the gateway keeps enforcing what it had.
func TestStandaloneGatewayKeepsLastGoodPolicy(t *testing.T) {
	data := t.TempDir()
	model := fakeModel(t)
	srv := startServer(t, data)
	admin := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "rita"))
	gwTok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "gateway", "--name", "edge-1"))

	cmd := exec.Command(binary, "gateway", "--api", srv.url, "--token", gwTok, "--key-file", filepath.Join(data, "gateway.key"),
		"--upstream", model.URL+"/v1", "--addr", "127.0.0.1:0", "--poll", "200ms")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var gw string
	for deadline := time.Now().Add(10 * time.Second); gw == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, rest, ok := strings.Cut(stderr.String(), "gateway listening on "); ok {
			gw, _, _ = strings.Cut(rest, " ")
		}
	}
	if gw == "" {
		t.Fatalf("gateway did not start:\n%s", stderr)
	}
	call := func(key string) int {
		req, _ := http.NewRequest("POST", gw+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if call("sk-thief") != 200 {
		t.Fatal("not served before the block")
	}
	env := []string{"AIRLOCK_SERVER=" + srv.url, "AIRLOCK_TOKEN=" + admin}
	mustRun(t, env, "policy", "block", "--key", "sk-thief", "--reason", "stolen key")
	blocked := time.Now()
	for call("sk-thief") != 403 {
		if time.Since(blocked) > time.Second {
			t.Fatal("the block did not reach the standalone gateway within 1s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("block reached the standalone gateway in %v", time.Since(blocked))

	srv.cmd.Process.Kill() // the control side is gone
	srv.cmd.Wait()
	time.Sleep(500 * time.Millisecond)
	if call("sk-thief") != 403 || call("sk-owner") != 200 {
		t.Error("without the API the gateway stopped enforcing its last good policy")
	}
	if !strings.Contains(stderr.String(), "last good") {
		t.Errorf("the gateway did not say it keeps the last good policy:\n%s", stderr)
	}
}

// TestUpstreamKeyFromEnvironment: the upstream's key comes from the
// variable --upstream-key-env names, never from the client; a variable that
// is not set stops the server at start with a clear error.
func TestUpstreamKeyFromEnvironment(t *testing.T) {
	seen := make(chan string, 4)
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[]}`)
	}))
	defer model.Close()
	data := t.TempDir()
	cmd := exec.Command(binary, "serve", "--data", data, "--api-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0",
		"--upstream", model.URL+"/v1", "--upstream-key-env", "TEST_MODEL_KEY")
	cmd.Env = append(os.Environ(), "TEST_MODEL_KEY=sk-upstream-123")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitAddr(t, &proc{data: data})
	var gw []byte
	for deadline := time.Now().Add(10 * time.Second); len(gw) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		gw, _ = os.ReadFile(filepath.Join(data, "gateway.addr"))
	}
	req, _ := http.NewRequest("GET", strings.TrimSpace(string(gw))+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sk-client-999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-seen; got != "Bearer sk-upstream-123" {
		t.Errorf("upstream saw Authorization %q", got)
	}

	_, errOut, code := run(t, nil, "serve", "--data", t.TempDir(), "--api-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0",
		"--upstream", model.URL+"/v1", "--upstream-key-env", "SURELY_NOT_SET_ANYWHERE")
	if code == 0 || !strings.Contains(errOut, "SURELY_NOT_SET_ANYWHERE") {
		t.Errorf("unset key variable: exit %d, stderr %q", code, errOut)
	}
}

// TestRequireClientKey: with gateway.require_client_key only client tokens
// get through; a revoked one stops working within the cache time.
func TestRequireClientKey(t *testing.T) {
	data := t.TempDir()
	model := fakeModel(t)
	cfg := filepath.Join(t.TempDir(), "airlock.yaml")
	writeFile(t, cfg, "gateway:\n  require_client_key: true\n  routes:\n    - {name: chat, models: [\"*\"], upstreams: [{name: primary, url: \""+model.URL+"/v1\"}]}\n")
	_, gw := startServeWithConfig(t, data, cfg)
	key := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "client", "--name", "support-app"))
	call := func(k string) int {
		req, _ := http.NewRequest("POST", gw+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+k)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(key); got != 200 {
		t.Fatalf("client token: %d", got)
	}
	if got := call("sk-anything-else"); got != 401 {
		t.Errorf("unknown key: %d, want 401", got)
	}
	var id string
	for _, line := range strings.Split(mustRun(t, nil, "token", "list", "--data", data), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "client" {
			id = f[0]
		}
	}
	mustRun(t, nil, "token", "revoke", "--data", data, id)
	deadline := time.Now().Add(8 * time.Second)
	for call(key) != 401 {
		if time.Now().After(deadline) {
			t.Fatal("a revoked client token still works after 8s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
