package containment_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	st     store.Store
	inc    *incident.Service
	holder *policy.Holder
	svc    *containment.Service
	clock  *clock
}

var responder = incident.Actor{Name: "alice", Role: "responder", Addr: "127.0.0.1"}

func hashKey(k string) string { return "kh_" + strings.ToLower(k) }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := incident.OpenBlobs(filepath.Join(dir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)}
	e := &env{st: st, clock: c, holder: policy.NewHolder(policy.Empty())}
	e.inc = incident.NewService(st, blobs, incident.WithClock(c.Now))
	e.svc, err = containment.New(ctx, st, e.inc, e.holder, containment.Options{HashKey: hashKey, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) evaluate(req policy.Request) policy.Decision {
	if req.Now.IsZero() {
		req.Now = e.clock.Now()
	}
	return e.holder.Load().Evaluate(req)
}

func TestAddBlockRecordsOnIncidentAndPublishes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inc, err := e.inc.Create(ctx, responder, incident.NewIncident{Title: "t", Type: "jailbreak", Severity: event.SeverityHigh})
	if err != nil {
		t.Fatal(err)
	}
	before := e.holder.Load().Version()
	act, err := e.svc.Add(ctx, responder, containment.Request{
		Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{IP: "203.0.113.7"}},
		Reason: "jailbreak campaign", Incident: inc.ID, TTL: "1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if act.ID == "" || act.CreatedBy != "alice" || act.ExpiresAt == nil || !act.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("action = %+v", act)
	}
	if v := e.holder.Load().Version(); v != before+1 {
		t.Errorf("published version %d, want %d", v, before+1)
	}
	if d := e.evaluate(policy.Request{IP: netip.MustParseAddr("203.0.113.7")}); d.Blocked == nil || d.Blocked.ID != act.ID {
		t.Errorf("the blocked IP is not blocked: %+v", d)
	}
	if d := e.evaluate(policy.Request{IP: netip.MustParseAddr("203.0.113.8")}); d.Blocked != nil {
		t.Error("another IP is blocked")
	}
	got, _ := e.inc.Get(ctx, inc.ID)
	if len(got.Containment) != 1 || got.Containment[0].Ref != act.ID {
		t.Fatalf("incident containment = %+v, want the action", got.Containment)
	}
	if got.Milestones.Contained == nil {
		t.Error("contained milestone not stamped by the first containment action")
	}

	removed, err := e.svc.Remove(ctx, responder, act.ID, "campaign over")
	if err != nil || removed.ID != act.ID {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	if d := e.evaluate(policy.Request{IP: netip.MustParseAddr("203.0.113.7")}); d.Blocked != nil {
		t.Error("still blocked after removal")
	}
	got, _ = e.inc.Get(ctx, inc.ID)
	if len(got.Containment) != 0 {
		t.Errorf("incident containment after lifting = %+v", got.Containment)
	}
	entries, _ := e.inc.Timeline(ctx, inc.ID, 0, 0)
	kinds := []string{}
	for _, en := range entries {
		kinds = append(kinds, en.Kind)
	}
	if strings.Join(kinds, ",") != "created,containment,containment_lifted" {
		t.Errorf("timeline kinds = %v", kinds)
	}
	if rep, _ := e.inc.Verify(ctx, inc.ID); !rep.OK {
		t.Errorf("verify: %+v", rep.Problems)
	}
	if _, err := e.svc.Remove(ctx, responder, act.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	var audit []*store.AuditEntry
	e.st.View(ctx, func(tx store.Tx) (err error) { audit, _, err = tx.ListAudit(ctx, store.AuditFilter{}); return err })
	actions := map[string]int{}
	for _, a := range audit {
		actions[a.Action]++
	}
	if actions["policy.add"] != 1 || actions["policy.remove"] != 1 {
		t.Errorf("audit actions = %v", actions)
	}
}

func TestRawKeysAreHashedAndNeverStored(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	act, err := e.svc.Add(ctx, responder, containment.Request{
		Kind: policy.KindBlock, Target: containment.TargetRequest{APIKey: "  SK-Secret-123  "}, Reason: "stolen key",
	})
	if err != nil {
		t.Fatal(err)
	}
	if act.Target.APIKeyHash != hashKey("SK-Secret-123") {
		t.Errorf("api_key_hash = %q", act.Target.APIKeyHash)
	}
	var rows []*store.PolicyAction
	e.st.View(ctx, func(tx store.Tx) (err error) { rows, err = tx.ListPolicyActions(ctx); return err })
	for _, r := range rows {
		if strings.Contains(string(r.Doc), "Secret-123") {
			t.Errorf("the raw key is stored: %s", r.Doc)
		}
	}
}

func TestAddRefusesBadRequestsAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  containment.Request
		want []string
	}{
		{"unknown kind", containment.Request{Kind: "nuke", Reason: "x"}, []string{"kind"}},
		{"bad ttl", containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{IP: "203.0.113.7"}}, Reason: "x", TTL: "forever"}, []string{"ttl"}},
		{"negative ttl", containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{IP: "203.0.113.7"}}, Reason: "x", TTL: "-1h"}, []string{"ttl"}},
		{"unknown incident", containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{IP: "203.0.113.7"}}, Reason: "x", Incident: "nope"}, []string{"incident"}},
		{"key and hash", containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{APIKeyHash: "kh_1"}, APIKey: "k"}, Reason: "x"}, []string{"not both"}},
		{"block without identity", containment.Request{Kind: policy.KindBlock, Reason: "x"}, []string{"target"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.holder.Load().Version()
			_, err := e.svc.Add(ctx, responder, tc.req)
			var ve *incident.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Add = %v, want a ValidationError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if e.holder.Load().Version() != before || len(e.svc.Current().Actions) != 0 {
				t.Error("a refused action changed the policy")
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	act, err := e.svc.Add(ctx, responder, containment.Request{
		Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{User: "mallory"}}, Reason: "x", TTL: "10m",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(9 * time.Minute)
	if d := e.evaluate(policy.Request{User: "mallory"}); d.Blocked == nil {
		t.Fatal("not blocked before expiry")
	}
	if n, _ := e.svc.Expire(ctx); n != 0 {
		t.Errorf("expired %d actions early", n)
	}
	e.clock.Advance(time.Minute)
	// Enforcement stops at the expiry time by itself, before Expire runs.
	if d := e.evaluate(policy.Request{User: "mallory"}); d.Blocked != nil {
		t.Error("still blocked at the expiry time")
	}
	if n, err := e.svc.Expire(ctx); n != 1 || err != nil {
		t.Fatalf("Expire = %d, %v", n, err)
	}
	for _, a := range e.svc.Current().Actions {
		if a.ID == act.ID {
			t.Error("expired action still in the policy")
		}
	}
}

// TestReloadSeesOtherProcesses: a second service on the same store (another
// airlock process) changes the policy; Reload publishes it here.
func TestReloadSeesOtherProcesses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	otherHolder := policy.NewHolder(policy.Empty())
	other, err := containment.New(ctx, e.st, e.inc, otherHolder, containment.Options{HashKey: hashKey, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Add(ctx, responder, containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{CIDR: "198.51.100.0/24"}}, Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	if changed, err := e.svc.Reload(ctx); !changed || err != nil {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if d := e.evaluate(policy.Request{IP: netip.MustParseAddr("198.51.100.9")}); d.Blocked == nil {
		t.Error("the other process's block is not enforced after Reload")
	}
	if changed, _ := e.svc.Reload(ctx); changed {
		t.Error("Reload with nothing new reported a change")
	}
}
