package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/airlock-ir/airlock/internal/incident"
)

// TestIfMatch: a write that names the version it read succeeds only if
// nobody changed the incident since; a stale one changes nothing.
func TestIfMatch(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, nil)
	path := "/api/v1/incidents/" + inc.ID

	res := e.do(t, "GET", path, e.viewer(), nil).want(t, http.StatusOK)
	etag := res.header.Get("ETag")
	if etag != fmt.Sprintf(`"%d"`, inc.Version) {
		t.Fatalf("ETag = %q, want the version %d quoted", etag, inc.Version)
	}

	// Someone else changes it.
	e.do(t, "PATCH", path, e.admin(), map[string]string{"summary": "first"}).want(t, http.StatusOK)
	mid := e.get(t, inc.ID)

	// The stale write is refused and changes nothing.
	e.do(t, "PATCH", path, e.responder(), map[string]string{"summary": "second"}, header{"If-Match", etag}).
		wantErr(t, http.StatusPreconditionFailed, "stale", "If-Match")
	if now := e.get(t, inc.ID); now.Summary != "first" || now.Version != mid.Version || now.TimelineLen != mid.TimelineLen {
		t.Errorf("a stale write changed the incident: summary %q, version %d → %d", now.Summary, mid.Version, now.Version)
	}

	// With the current ETag it goes through and returns the next one.
	cur := e.do(t, "GET", path, e.viewer(), nil).want(t, http.StatusOK).header.Get("ETag")
	var out incident.Incident
	res = e.do(t, "PATCH", path, e.responder(), map[string]string{"summary": "second"}, header{"If-Match", cur}).want(t, http.StatusOK)
	res.decode(t, &out)
	next := res.header.Get("ETag")
	if out.Summary != "second" || next == cur || next != fmt.Sprintf(`"%d"`, out.Version) {
		t.Errorf("after the write: summary %q, ETag %q (was %q), version %d", out.Summary, next, cur, out.Version)
	}
	if got := e.do(t, "GET", path, e.viewer(), nil).header.Get("ETag"); got != next {
		t.Errorf("GET ETag %q, PATCH returned %q", got, next)
	}
	// The ETag just used is now stale.
	e.do(t, "PATCH", path, e.responder(), map[string]string{"summary": "third"}, header{"If-Match", cur}).wantErr(t, http.StatusPreconditionFailed, "stale")

	// Malformed If-Match headers are refused before anything is read.
	for _, h := range []string{"abc", `"abc"`, `"0"`, `"-1"`, `"1.5"`, `"99999999999999999999"`} {
		e.do(t, "PATCH", path, e.responder(), map[string]string{"summary": "fourth"}, header{"If-Match", h}).wantErr(t, http.StatusBadRequest, "bad_if_match", "If-Match")
	}
	// "*" means any version.
	e.do(t, "PATCH", path, e.responder(), map[string]string{"summary": "fifth"}, header{"If-Match", "*"}).want(t, http.StatusOK)
	if got := e.get(t, inc.ID).Summary; got != "fifth" {
		t.Errorf("summary = %q, want fifth", got)
	}

	// Tasks work the same way.
	var task incident.Task
	res = e.do(t, "POST", path+"/tasks", e.responder(), map[string]string{"title": "t"}).want(t, http.StatusCreated)
	res.decode(t, &task)
	tag := res.header.Get("ETag")
	if tag != fmt.Sprintf(`"%d"`, task.Version) {
		t.Errorf("task ETag %q, version %d", tag, task.Version)
	}
	res = e.do(t, "PATCH", path+"/tasks/"+task.ID, e.responder(), map[string]string{"status": "done"}, header{"If-Match", tag}).want(t, http.StatusOK)
	e.do(t, "PATCH", path+"/tasks/"+task.ID, e.responder(), map[string]string{"status": "open"}, header{"If-Match", tag}).wantErr(t, http.StatusPreconditionFailed, "stale")
	e.do(t, "PATCH", path+"/tasks/"+task.ID, e.responder(), map[string]string{"status": "open"}, header{"If-Match", "nope"}).wantErr(t, http.StatusBadRequest, "bad_if_match")
	tasks := listAll[incident.Task](t, e, e.viewer(), path+"/tasks", 10)
	if len(tasks) != 1 || tasks[0].Status != "done" {
		t.Errorf("tasks = %+v, want one, done", tasks)
	}
}
