package demomodel

import (
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error answered in the OpenAI shape:
// {"error": {"message", "type", "param", "code"}}.
type apiError struct {
	status  int
	kind    string // OpenAI "type"
	code    string
	param   string
	message string
	allow   string // for 405: the methods the path takes
}

func (e *apiError) Error() string { return e.message }

func badRequest(code, param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: "invalid_request_error", code: code, param: param, message: msg}
}

func missing(param string) *apiError {
	return badRequest("missing_required_parameter", param, fmt.Sprintf("you must provide %q", param))
}

func invalidValue(param, msg string) *apiError { return badRequest("invalid_value", param, msg) }

func invalidType(param, want string) *apiError {
	return badRequest("invalid_type", param, fmt.Sprintf("%q must be %s", param, want))
}

func notFound(method, path string) *apiError {
	return &apiError{status: http.StatusNotFound, kind: "invalid_request_error", code: "unknown_url",
		message: fmt.Sprintf("unknown request URL: %s %s (the demo model serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses and /v1/models)", method, path)}
}

func wrongMethod(method, path, allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, kind: "invalid_request_error", code: "method_not_allowed",
		message: fmt.Sprintf("%s is not allowed on %s (use %s)", method, path, allow), allow: allow}
}

func tooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, kind: "invalid_request_error", code: "request_too_large",
		message: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// writeError renders err; anything not an *apiError is a server error.
func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: http.StatusInternalServerError, kind: "server_error", code: "internal_error", message: err.Error()}
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	var param any
	if e.param != "" {
		param = e.param
	}
	writeJSON(w, e.status, map[string]any{"error": map[string]any{
		"message": e.message, "type": e.kind, "param": param, "code": e.code,
	}})
}
