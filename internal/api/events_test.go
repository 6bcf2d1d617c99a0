package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestPostEvents(t *testing.T) {
	e := newEnv(t)
	gw := e.tok["gateway"]
	var res struct {
		Accepted int
		IDs      []string
	}
	e.do(t, "POST", "/api/v1/events", gw, map[string]any{"events": []map[string]any{
		{"kind": "model_registry", "source": "mlflow", "model": "support-bot", "attrs": map[string]string{"action": "register", "version": "7"}},
		{"kind": "auth", "source": "okta", "user": "eve", "ip": "203.0.113.7", "time": "2026-11-26T07:00:00Z"},
	}}).want(t, http.StatusAccepted).decode(t, &res)
	got := e.events.all()
	if res.Accepted != 2 || len(res.IDs) != 2 || len(got) != 2 || got[0].ID != res.IDs[0] || got[1].User != "eve" || got[0].Attrs["version"] != "7" {
		t.Fatalf("accepted %+v, published %+v", res, got)
	}
	if got[0].Time.IsZero() {
		t.Error("an event without a time did not get one")
	}
	for name, body := range map[string]string{
		"empty batch":       `{"events": []}`,
		"no kind":           `{"events": [{"source": "x"}]}`,
		"reserved source":   `{"events": [{"kind": "request", "source": "gateway"}]}`,
		"future time":       `{"events": [{"kind": "k", "source": "s", "time": "2999-01-01T00:00:00Z"}]}`,
		"multi-line source": `{"events": [{"kind": "k", "source": "a\nb"}]}`,
	} {
		e.do(t, "POST", "/api/v1/events", gw, body).wantErr(t, http.StatusUnprocessableEntity, "invalid")
		if n := len(e.events.all()); n != 2 {
			t.Errorf("%s: a refused batch published events (%d)", name, n)
		}
	}
	many := `{"events": [` + strings.Repeat(`{"kind":"k","source":"s"},`, 1000) + `{"kind":"k","source":"s"}]}`
	e.do(t, "POST", "/api/v1/events", e.admin(), many).wantErr(t, http.StatusUnprocessableEntity, "invalid", "1 to 1000")
	e.do(t, "POST", "/api/v1/events", gw, `{"events": [{"kind": "k", "source": "s", "prompt_text": "x"}]}`).wantErr(t, http.StatusBadRequest, "bad_json", "prompt_text")
}
