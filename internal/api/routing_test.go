package api_test

import (
	"net/http"
	"testing"
)

// TestUnmatchedRoutes: a known path with another method is 405 with Allow,
// an unknown path 404, both in the API's error shape.
func TestUnmatchedRoutes(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, nil)
	res := e.do(t, "DELETE", "/api/v1/incidents/"+inc.ID, e.admin(), nil).wantErr(t, http.StatusMethodNotAllowed, "method_not_allowed", "DELETE")
	if allow := res.header.Get("Allow"); allow == "" {
		t.Errorf("405 without Allow")
	}
	e.do(t, "GET", "/api/v1/nothing-here", e.admin(), nil).wantErr(t, http.StatusNotFound, "not_found", "/api/v1/nothing-here")
	e.do(t, "PUT", "/api/v1/policy", e.admin(), nil).wantErr(t, http.StatusMethodNotAllowed, "method_not_allowed")
}
