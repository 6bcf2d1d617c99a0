package respond

import (
	"context"
	"errors"
	"github.com/airlock-ir/airlock/internal/event"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWebhookErrors: 4xx is permanent, 5xx and 429 are worth retrying, an
// unknown channel is a missing capability.
func TestWebhookErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{http.StatusBadRequest, true}, {http.StatusNotFound, true}, {http.StatusTooManyRequests, false}, {http.StatusBadGateway, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) }))
		err := (&Webhooks{URLs: map[string]string{"default": srv.URL}}).Notify(context.Background(), "default", Message{Incident: "i", Severity: event.SeverityHigh})
		srv.Close()
		var perm *Permanent
		if err == nil || errors.As(err, &perm) != tc.permanent {
			t.Errorf("%d: %v, want permanent %v", tc.status, err, tc.permanent)
		}
	}
	err := (&Webhooks{}).Notify(context.Background(), "ops", Message{})
	if !errors.Is(err, ErrNotAvailable) {
		t.Errorf("unknown channel: %v", err)
	}
}
