package api_test

import (
	"context"
	"fmt"
	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/google/uuid"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// What a route needs, as server.go declares it.
const (
	needNone     = "none"
	needRead     = "read"
	needEvidence = "evidence"
	needWrite    = "write"
	needAdmin    = "admin"
	needPolicy   = "policy" // read the policy: every role, gateways included
	needIngest   = "ingest" // send events: admins and gateways
)

// route is one registered route with a request that succeeds for a role
// that may use it.
type route struct {
	pattern     string        // exactly as registered in server.go
	path        string        // with real ids filled in
	pathFn      func() string // when each call needs a fresh target
	need        string
	body        func() any // nil: no body
	contentType string
	ok          int // the status a permitted role gets
}

func (r route) method() string { m, _, _ := strings.Cut(r.pattern, " "); return m }

// fixture is an incident with a task and a piece of evidence, so that every
// route has something real to address.
type fixture struct {
	inc  *incident.Incident
	task *incident.Task
	sha  string
	// freshAction adds a policy action and returns its path, so each
	// DELETE has something to remove.
	freshAction func() string
	alertID     string
	// freshFeed imports an intel feed and returns its path, so each DELETE
	// has one to remove.
	freshFeed func() string
}

func newFixture(t *testing.T, e *env) fixture {
	t.Helper()
	var f fixture
	f.inc = e.create(t, map[string]any{"owner": "rita", "summary": "known"})
	base := "/api/v1/incidents/" + f.inc.ID
	var task incident.Task
	e.do(t, "POST", base+"/tasks", e.responder(), map[string]string{"title": "collect logs"}).want(t, http.StatusCreated).decode(t, &task)
	f.task = &task
	var ev incident.Evidence
	e.do(t, "POST", base+"/evidence?name=log.txt", e.responder(), "some log lines\n", header{"Content-Type", "text/plain"}).
		want(t, http.StatusCreated).decode(t, &ev)
	f.sha = ev.SHA256
	al := event.Alert{ID: uuid.Must(uuid.NewV7()).String(), Time: time.Now().UTC(), Detector: "test", Rule: "r", Type: "jailbreak",
		Severity: event.SeverityLow, Fingerprint: "fixture"}
	e.alerts.Raise(al)
	e.alerts.Flush()
	f.alertID = al.ID
	f.freshAction = func() string {
		act, err := e.policy.Add(context.Background(), incident.Actor{Name: "fixture"}, containment.Request{
			Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{User: "someone"}}, Reason: "fixture"})
		if err != nil {
			t.Fatalf("fixture action: %v", err)
		}
		return "/api/v1/policy/actions/" + act.ID
	}
	n := 0
	f.freshFeed = func() string {
		n++
		name := fmt.Sprintf("fixture-%d", n)
		if _, err := e.intel.Import(context.Background(), "fixture", name, "csv", strings.NewReader("type,value\nip,198.51.100.7\n")); err != nil {
			t.Fatalf("fixture feed: %v", err)
		}
		return "/api/v1/intel/feeds/" + name
	}
	return f
}

// routes lists every route server.go registers. Writes carry bodies that
// succeed whenever they are allowed, however often they are repeated.
func routes(f fixture) []route {
	base := "/api/v1/incidents/" + f.inc.ID
	static := func(v any) func() any { return func() any { return v } }
	// The transition alternates forward and back so each one succeeds.
	forward := false
	transition := func() any {
		forward = !forward
		if forward {
			return map[string]string{"phase": "containment"}
		}
		return map[string]string{"phase": "detection", "note": "back for the test"}
	}
	return []route{
		{pattern: "GET /healthz", path: "/healthz", need: needNone, ok: 200},
		{pattern: "GET /readyz", path: "/readyz", need: needNone, ok: 200},
		{pattern: "GET /api/v1/taxonomy", path: "/api/v1/taxonomy", need: needRead, ok: 200},
		{pattern: "GET /api/v1/incidents", path: "/api/v1/incidents", need: needRead, ok: 200},
		{pattern: "POST /api/v1/incidents", path: "/api/v1/incidents", need: needWrite, ok: 201, body: static(newIncident(nil))},
		{pattern: "GET /api/v1/incidents/{id}", path: base, need: needRead, ok: 200},
		{pattern: "PATCH /api/v1/incidents/{id}", path: base, need: needWrite, ok: 200, body: func() any {
			return map[string]string{"summary": "patched at " + time.Now().Format(time.RFC3339Nano)}
		}},
		{pattern: "POST /api/v1/incidents/{id}/transition", path: base + "/transition", need: needWrite, ok: 200, body: transition},
		{pattern: "GET /api/v1/incidents/{id}/timeline", path: base + "/timeline", need: needRead, ok: 200},
		{pattern: "POST /api/v1/incidents/{id}/timeline", path: base + "/timeline", need: needWrite, ok: 201, body: static(map[string]string{"kind": "note", "text": "hello"})},
		{pattern: "GET /api/v1/incidents/{id}/evidence", path: base + "/evidence", need: needRead, ok: 200},
		{pattern: "POST /api/v1/incidents/{id}/evidence", path: base + "/evidence?name=more.txt&source=test", need: needWrite, ok: 201, body: static("more log lines\n"), contentType: "text/plain"},
		{pattern: "GET /api/v1/incidents/{id}/tasks", path: base + "/tasks", need: needRead, ok: 200},
		{pattern: "POST /api/v1/incidents/{id}/tasks", path: base + "/tasks", need: needWrite, ok: 201, body: static(map[string]string{"title": "another"})},
		{pattern: "PATCH /api/v1/incidents/{id}/tasks/{task}", path: base + "/tasks/" + f.task.ID, need: needWrite, ok: 200, body: func() any {
			return map[string]string{"title": "task at " + time.Now().Format(time.RFC3339Nano)}
		}},
		{pattern: "GET /api/v1/incidents/{id}/verify", path: base + "/verify", need: needRead, ok: 200},
		{pattern: "GET /api/v1/evidence/{sha256}", path: "/api/v1/evidence/" + f.sha, need: needEvidence, ok: 200},
		{pattern: "GET /api/v1/evidence/{sha256}/custody", path: "/api/v1/evidence/" + f.sha + "/custody", need: needRead, ok: 200},
		{pattern: "GET /api/v1/verify", path: "/api/v1/verify", need: needAdmin, ok: 200},
		{pattern: "GET /api/v1/audit", path: "/api/v1/audit", need: needAdmin, ok: 200},
		{pattern: "GET /api/v1/policy", path: "/api/v1/policy", need: needPolicy, ok: 200},
		{pattern: "GET /metrics", path: "/metrics", need: needPolicy, ok: 200},
		{pattern: "POST /api/v1/events", path: "/api/v1/events", need: needIngest, ok: 202,
			body: static(map[string]any{"events": []map[string]any{{"kind": "model_registry", "source": "mlflow"}}})},
		{pattern: "GET /api/v1/alerts", path: "/api/v1/alerts", need: needRead, ok: 200},
		{pattern: "GET /api/v1/alerts/stats", path: "/api/v1/alerts/stats", need: needRead, ok: 200},
		{pattern: "GET /api/v1/alerts/{id}", path: "/api/v1/alerts/" + f.alertID, need: needRead, ok: 200},
		{pattern: "POST /api/v1/alerts/{id}/feedback", path: "/api/v1/alerts/" + f.alertID + "/feedback", need: needWrite, ok: 200,
			body: static(map[string]string{"verdict": "true_positive", "note": "confirmed"})},
		{pattern: "POST /api/v1/policy/actions", path: "/api/v1/policy/actions", need: needWrite, ok: 201,
			body: static(map[string]any{"kind": "block", "target": map[string]string{"user": "mallory"}, "reason": "test"})},
		{pattern: "DELETE /api/v1/policy/actions/{id}", need: needWrite, ok: 200, pathFn: f.freshAction},
		{pattern: "GET /api/v1/intel", path: "/api/v1/intel", need: needRead, ok: 200},
		{pattern: "GET /api/v1/intel/indicators", path: "/api/v1/intel/indicators", need: needRead, ok: 200},
		{pattern: "PUT /api/v1/intel/feeds/{name}", path: "/api/v1/intel/feeds/abuse", need: needWrite, ok: 200,
			body: static("type,value,severity\nip,203.0.113.66,high\ncidr,198.51.100.0/24,medium\n"), contentType: "text/csv"},
		{pattern: "DELETE /api/v1/intel/feeds/{name}", need: needWrite, ok: 200, pathFn: f.freshFeed},
		{pattern: "GET /api/v1/incidents/{id}/playbook", path: base + "/playbook", need: needRead, ok: 200},
		{pattern: "POST /api/v1/incidents/{id}/steps/{step}/approve", path: base + "/steps/block-attacker/approve", need: needWrite, ok: 200,
			body: static(map[string]any{"approve": true, "note": "go"})},
	}
}

// call sends r with an Authorization header value (none if "").
func (e *env) call(t *testing.T, r route, authorization string) *result {
	t.Helper()
	var body any
	if r.body != nil {
		body = r.body()
	}
	var hdrs []header
	if authorization != "" {
		hdrs = append(hdrs, header{"Authorization", authorization})
	}
	if r.contentType != "" {
		hdrs = append(hdrs, header{"Content-Type", r.contentType})
	}
	path := r.path
	if r.pathFn != nil {
		path = r.pathFn()
	}
	return e.do(t, r.method(), path, "", body, hdrs...)
}

// TestRouteTableIsComplete keeps the table in step with server.go: a new
// route must be added here, and so gets its authentication checked.
func TestRouteTableIsComplete(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, m := range regexp.MustCompile(`s\.handle\("([^"]+)"`).FindAllSubmatch(src, -1) {
		registered = append(registered, string(m[1]))
	}
	if len(registered) == 0 {
		t.Fatal("found no s.handle calls in server.go")
	}
	var listed []string
	for _, r := range routes(fixture{inc: &incident.Incident{}, task: &incident.Task{}}) {
		listed = append(listed, r.pattern)
	}
	slices.Sort(registered)
	slices.Sort(listed)
	if !slices.Equal(registered, listed) {
		t.Errorf("routes in server.go:\n  %s\nroutes in the test table:\n  %s", strings.Join(registered, "\n  "), strings.Join(listed, "\n  "))
	}
}

// allowed reports whether role may use a route that needs need.
func allowed(role, need string) bool {
	switch need {
	case needNone:
		return true
	case needRead:
		return role != api.RoleGateway && role != api.RoleClient
	case needEvidence, needWrite:
		return role == api.RoleAdmin || role == api.RoleResponder
	case needAdmin:
		return role == api.RoleAdmin
	case needIngest:
		return role == api.RoleAdmin || role == api.RoleGateway
	case needPolicy:
		return role != api.RoleClient // a client token is for the gateway only
	}
	panic("unknown need " + need)
}

// snapshot is what a refused write must leave unchanged.
type snapshot struct {
	version, timelineLen, taskVersion int64
	incidents, tasks, evidence        int
}

func (e *env) snapshot(t *testing.T, f fixture) snapshot {
	t.Helper()
	inc := e.get(t, f.inc.ID)
	base := "/api/v1/incidents/" + f.inc.ID
	tasks := listAll[incident.Task](t, e, e.admin(), base+"/tasks", 500)
	var taskVersion int64
	for _, tk := range tasks {
		if tk.ID == f.task.ID {
			taskVersion = tk.Version
		}
	}
	return snapshot{
		version: inc.Version, timelineLen: inc.TimelineLen, taskVersion: taskVersion,
		incidents: len(listAll[incident.Incident](t, e, e.admin(), "/api/v1/incidents", 500)),
		tasks:     len(tasks),
		evidence:  len(listAll[incident.Evidence](t, e, e.admin(), base+"/evidence", 500)),
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	f := newFixture(t, e)

	revoked, rec, err := api.CreateToken(e.ctx, e.st, "rex-revoked", api.RoleResponder, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.do(t, "GET", "/api/v1/incidents", revoked, nil).want(t, http.StatusOK)
	err = e.st.Update(e.ctx, func(tx store.Tx) error { return tx.RevokeToken(e.ctx, rec.ID, time.Now().UTC()) })
	if err != nil {
		t.Fatal(err)
	}

	before := e.snapshot(t, f)
	bad := []struct{ name, authorization string }{
		{"no token", ""},
		{"garbage token", "Bearer alk_notatokenthisservermade"},
		{"empty bearer", "Bearer "},
		{"revoked token", "Bearer " + revoked},
		{"wrong scheme", "Basic " + e.admin()},
		{"token without scheme", e.admin()},
		{"token in another case", "Bearer " + strings.ToUpper(e.admin())},
	}
	for _, r := range routes(f) {
		for _, b := range bad {
			res := e.call(t, r, b.authorization)
			if r.need == needNone {
				res.want(t, http.StatusOK)
				continue
			}
			res.wantErr(t, http.StatusUnauthorized, "unauthenticated")
			if b.name == "no token" && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer", res)
			}
		}
	}
	if after := e.snapshot(t, f); after != before {
		t.Errorf("unauthenticated requests changed state: %+v, then %+v", before, after)
	}

	// An unknown route needs no token to learn it does not exist, and says so in JSON.
	e.do(t, "GET", "/api/v1/nope", "", nil).wantErr(t, http.StatusNotFound, "not_found", "/api/v1/nope")

	// The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		e.do(t, "GET", "/api/v1/incidents/"+f.inc.ID, "", nil, header{"Authorization", scheme + " " + e.viewer()}).want(t, http.StatusOK)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	f := newFixture(t, e)
	all := routes(f)

	// Roles that may not write leave everything as it was.
	before := e.snapshot(t, f)
	deniedWrites := map[string]int{}
	for _, role := range []string{api.RoleViewer, api.RoleGateway} {
		for _, r := range all {
			if allowed(role, r.need) {
				continue
			}
			e.call(t, r, "Bearer "+e.tok[role]).wantErr(t, http.StatusForbidden, "forbidden", "role "+role)
			if r.method() != "GET" {
				deniedWrites[role]++
			}
		}
	}
	if after := e.snapshot(t, f); after != before {
		t.Errorf("refused requests changed state: %+v, then %+v", before, after)
	}
	writes := 0
	for _, r := range all {
		if r.method() != "GET" {
			writes++
		}
	}
	// A viewer may write nothing: every write route (including sending
	// events) refuses it.
	if writes != 14 || deniedWrites[api.RoleViewer] != writes {
		t.Errorf("viewer was refused %d of %d writes (want 14 write routes)", deniedWrites[api.RoleViewer], writes)
	}

	// Each refused write is in the audit log as "denied", with who and where.
	for _, role := range []string{api.RoleViewer, api.RoleGateway} {
		denied := e.audit(t, "?action=denied&actor="+tokenNames[role])
		if len(denied) != deniedWrites[role] {
			t.Errorf("%s: %d denied entries in the audit log, want %d", role, len(denied), deniedWrites[role])
		}
		for _, d := range denied {
			if d.Role != role || d.Addr != "127.0.0.1" || !strings.HasPrefix(d.Target, "/api/v1/") || d.At.IsZero() {
				t.Errorf("denied entry = %+v", d)
			}
		}
	}

	// Every role gets exactly what it is granted.
	for _, role := range api.Roles {
		for _, r := range all {
			res := e.call(t, r, "Bearer "+e.tok[role])
			if allowed(role, r.need) {
				res.want(t, r.ok)
			} else {
				res.wantErr(t, http.StatusForbidden, "forbidden")
			}
		}
	}

	// The cases the design names.
	e.do(t, "GET", "/api/v1/evidence/"+f.sha, e.viewer(), nil).wantErr(t, http.StatusForbidden, "forbidden")
	e.do(t, "GET", "/api/v1/incidents", e.gateway(), nil).wantErr(t, http.StatusForbidden, "forbidden")
	e.do(t, "GET", "/api/v1/audit", e.responder(), nil).wantErr(t, http.StatusForbidden, "forbidden")
	e.do(t, "GET", "/api/v1/audit", e.admin(), nil).want(t, http.StatusOK)
}
