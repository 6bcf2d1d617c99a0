package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/policy"
)

func TestPollerKeepsLastGoodPolicy(t *testing.T) {
	var mu sync.Mutex
	status := 200
	current := policy.Policy{Version: 3, Actions: []policy.Action{{ID: "b1", Kind: policy.KindBlock, Target: policy.Target{User: "mallory"},
		Reason: "x", CreatedBy: "t", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	var seenIfNoneMatch string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seenIfNoneMatch = r.Header.Get("If-None-Match")
		if r.Header.Get("Authorization") != "Bearer gw-token" {
			w.WriteHeader(401)
			return
		}
		if status != 200 {
			w.WriteHeader(status)
			return
		}
		if seenIfNoneMatch == `"3"` && current.Version == 3 {
			w.WriteHeader(304)
			return
		}
		json.NewEncoder(w).Encode(current)
	}))
	defer api.Close()
	holder := policy.NewHolder(policy.Empty())
	p := &PolicyPoller{URL: api.URL, Token: "gw-token", Holder: holder, Client: api.Client(), Every: time.Hour, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if changed, err := p.Poll(ctx); !changed || err != nil || holder.Load().Version() != 3 {
		t.Fatalf("first poll: %v %v, version %d", changed, err, holder.Load().Version())
	}
	if changed, err := p.Poll(ctx); changed || err != nil || seenIfNoneMatch != `"3"` {
		t.Errorf("unchanged poll: %v %v (If-None-Match %q)", changed, err, seenIfNoneMatch)
	}
	blocked := func() bool {
		return holder.Load().Evaluate(policy.Request{User: "mallory", Now: time.Now()}).Blocked != nil
	}
	// The control side fails: the last good policy stays in force.
	mu.Lock()
	status = 503
	mu.Unlock()
	if _, err := p.Poll(ctx); err == nil || !blocked() {
		t.Errorf("API down: err %v, still blocked %v", err, blocked())
	}
	api.Close()
	if _, err := p.Poll(ctx); err == nil || !blocked() {
		t.Errorf("API unreachable: err %v, still blocked %v", err, blocked())
	}
}

func TestPollerRefusesPolicyThatDoesNotCompile(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version": 9, "actions": [{"id": "x", "kind": "nuke"}]}`))
	}))
	defer api.Close()
	holder := policy.NewHolder(policy.Empty())
	p := &PolicyPoller{URL: api.URL, Token: "t", Holder: holder, Client: api.Client(), Every: time.Hour, Log: slog.New(slog.DiscardHandler)}
	if _, err := p.Poll(context.Background()); err == nil || holder.Load().Version() != 0 {
		t.Errorf("a bad policy was installed: err %v, version %d", err, holder.Load().Version())
	}
}
