package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// refusal is an answer the gateway gives instead of the upstream's, in the
// OpenAI error shape so SDKs surface it properly.
type refusal struct {
	status     int
	kind       string // OpenAI "type"
	code       string
	message    string
	retryAfter time.Duration
	decision   string // for the event
	action     string // the policy action responsible, if any
}

func (f *refusal) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if f.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(f.status)
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": f.message, "type": f.kind, "code": f.code, "param": nil,
	}})
	w.Write(append(body, '\n'))
}

func badRequest(msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, kind: "invalid_request_error", code: "invalid_request", message: msg, decision: "bad_request"}
}

func tooLarge(msg, action string) *refusal {
	return &refusal{status: http.StatusRequestEntityTooLarge, kind: "invalid_request_error", code: "request_too_large", message: msg, decision: "too_large", action: action}
}
