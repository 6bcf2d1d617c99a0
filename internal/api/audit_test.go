package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/incident"
)

// TestAuditLog: every write through the API, and every read of evidence,
// is one audit entry saying who, with what role, from where, did what to what.
func TestAuditLog(t *testing.T) {
	e := newEnv(t)
	tok := e.responder()
	inc := e.create(t, map[string]any{"owner": "rita", "summary": "known"})
	base := "/api/v1/incidents/" + inc.ID
	e.do(t, "PATCH", base, tok, map[string]string{"root_cause": "not yet"}).want(t, http.StatusOK)
	e.do(t, "POST", base+"/transition", tok, map[string]string{"phase": "containment"}).want(t, http.StatusOK)
	e.do(t, "POST", base+"/timeline", tok, map[string]string{"kind": "note", "text": "called the model owner"}).want(t, http.StatusCreated)
	var task incident.Task
	e.do(t, "POST", base+"/tasks", tok, map[string]string{"title": "rotate keys"}).want(t, http.StatusCreated).decode(t, &task)
	var ev incident.Evidence
	e.do(t, "POST", base+"/evidence?name=req.json&source=gateway", tok, `{"prompt":"..."}`, header{"Content-Type", "application/json"}).
		want(t, http.StatusCreated).decode(t, &ev)
	e.do(t, "GET", "/api/v1/evidence/"+ev.SHA256, tok, nil).want(t, http.StatusOK)
	// Reads of incidents are not audited.
	e.do(t, "GET", base, tok, nil).want(t, http.StatusOK)
	e.do(t, "GET", base+"/timeline", tok, nil).want(t, http.StatusOK)

	want := []struct{ action, target string }{ // oldest first
		{"incident.create", inc.ID},
		{"incident.update", inc.ID},
		{"incident.transition", inc.ID},
		{"incident.timeline.note", inc.ID},
		{"incident.task.create", inc.ID},
		{"incident.evidence.attach", inc.ID},
		{"evidence.accessed", ev.SHA256},
	}
	got := e.audit(t, "?actor="+tokenNames[api.RoleResponder])
	slices.Reverse(got)
	if len(got) != len(want) {
		t.Fatalf("audit has %d entries by the responder, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Action != w.action || g.Target != w.target || g.Actor != tokenNames[api.RoleResponder] ||
			g.Role != api.RoleResponder || g.Addr != "127.0.0.1" || g.At.IsZero() {
			t.Errorf("audit entry %d = %+v, want %s on %s by the responder from 127.0.0.1", i, g, w.action, w.target)
		}
		if i > 0 && (g.ID <= got[i-1].ID || g.At.Before(got[i-1].At)) {
			t.Errorf("audit entry %d (%d at %s) is not after entry %d (%d at %s)", i, g.ID, g.At, i-1, got[i-1].ID, got[i-1].At)
		}
	}

	// The whole log: the four tokens made by "test", then the responder's.
	all := e.audit(t, "")
	if len(all) != len(want)+len(api.Roles) {
		t.Errorf("audit has %d entries, want %d", len(all), len(want)+len(api.Roles))
	}
	if n := len(e.audit(t, "?actor=test")); n != len(api.Roles) {
		t.Errorf("?actor=test: %d entries, want %d", n, len(api.Roles))
	}
	if n := len(e.audit(t, "?actor=nobody")); n != 0 {
		t.Errorf("?actor=nobody: %d entries, want 0", n)
	}
	for _, w := range want {
		got := e.audit(t, "?action="+w.action)
		if len(got) != 1 || got[0].Action != w.action || got[0].Target != w.target {
			t.Errorf("?action=%s: %+v", w.action, got)
		}
	}
	if got := e.audit(t, "?action=incident.update&actor="+tokenNames[api.RoleAdmin]); len(got) != 0 {
		t.Errorf("both filters: %+v, want nothing (the admin wrote nothing)", got)
	}

	// Pages of any size visit every entry once, newest first.
	for _, limit := range []int{1, 2, 3, len(all), 500} {
		paged := listAll[struct{ ID int64 }](t, e, e.admin(), "/api/v1/audit", limit)
		if len(paged) != len(all) {
			t.Fatalf("limit %d: %d entries, want %d", limit, len(paged), len(all))
		}
		for i := range paged {
			if paged[i].ID != all[i].ID {
				t.Fatalf("limit %d: entry %d is %d, want %d", limit, i, paged[i].ID, all[i].ID)
			}
		}
	}
	paged := listAll[struct{ Action string }](t, e, e.admin(), "/api/v1/audit?actor="+tokenNames[api.RoleResponder], 2)
	if len(paged) != len(want) || paged[0].Action != "evidence.accessed" {
		t.Errorf("filtered pages = %+v", paged)
	}
}
