package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
)

func TestAlertsAPI(t *testing.T) {
	e := newEnv(t)
	raise := func(detector, fp string, sev event.Severity) string {
		a := event.Alert{ID: uuid.Must(uuid.NewV7()).String(), Time: time.Now().UTC(), Detector: detector, Rule: detector + ".r",
			Type: "model_extraction", Severity: sev, Confidence: 0.8, Fingerprint: fp,
			Entities: []event.Entity{{Kind: event.EntityAPIKey, Value: "kh_1"}}}
		e.alerts.Raise(a)
		e.alerts.Flush()
		return a.ID
	}
	pen := raise("extraction", "fp-pen", event.SeverityHigh)
	real := raise("promptinject", "fp-real", event.SeverityCritical)

	var page struct{ Items []store.Alert }
	e.do(t, "GET", "/api/v1/alerts?detector=extraction", e.tok["viewer"], nil).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != pen {
		t.Fatalf("filtered list: %+v", page.Items)
	}
	e.do(t, "GET", "/api/v1/alerts?severity=critical", e.tok["viewer"], nil).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != real {
		t.Errorf("severity filter: %+v", page.Items)
	}
	e.do(t, "GET", "/api/v1/alerts?severity=extreme", e.tok["viewer"], nil).wantErr(t, http.StatusBadRequest, "bad_filter")
	e.do(t, "GET", "/api/v1/alerts/nope", e.tok["viewer"], nil).wantErr(t, http.StatusNotFound, "not_found")

	e.do(t, "POST", "/api/v1/alerts/"+pen+"/feedback", e.tok["viewer"], map[string]string{"verdict": "false_positive"}).want(t, http.StatusForbidden)
	e.do(t, "POST", "/api/v1/alerts/"+pen+"/feedback", e.responder(), map[string]string{"verdict": "wrong"}).wantErr(t, http.StatusUnprocessableEntity, "invalid", "verdict")
	e.do(t, "POST", "/api/v1/alerts/"+pen+"/feedback", e.responder(), map[string]string{"verdict": "false_positive", "note": "pen test"}).want(t, http.StatusOK)
	e.do(t, "POST", "/api/v1/alerts/"+real+"/feedback", e.responder(), map[string]string{"verdict": "true_positive"}).want(t, http.StatusOK)

	var stats struct {
		Total             int64
		FalsePositiveRate float64 `json:"false_positive_rate"`
		Suppressions      int
	}
	e.do(t, "GET", "/api/v1/alerts/stats", e.tok["viewer"], nil).want(t, http.StatusOK).decode(t, &stats)
	if stats.Total != 2 || stats.FalsePositiveRate != 0.5 || stats.Suppressions != 1 {
		t.Errorf("stats %+v", stats)
	}
	// The false positive's fingerprint no longer raises alerts.
	raise("extraction", "fp-pen", event.SeverityHigh)
	e.do(t, "GET", "/api/v1/alerts?fingerprint=fp-pen", e.tok["viewer"], nil).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 1 {
		t.Errorf("a suppressed fingerprint was stored again: %d alerts", len(page.Items))
	}
}
