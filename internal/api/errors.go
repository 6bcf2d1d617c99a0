package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// Error is an error with an HTTP status and a stable machine-readable code.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, msg string, details ...string) *Error {
	return &Error{Status: status, Code: code, Message: msg, Details: details}
}

type errorBody struct {
	Error struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Details []string `json:"details,omitempty"`
	} `json:"error"`
}

// toAPIError maps domain errors to statuses. Anything unknown is a 500 whose
// message does not leak internals; the real error is logged.
func toAPIError(err error) *Error {
	var ae *Error
	var ve *incident.ValidationError
	var ce *incident.CriteriaError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return errorf(http.StatusUnprocessableEntity, "invalid", ve.Error(), ve.Problems...)
	case errors.As(err, &ce):
		return errorf(http.StatusConflict, "unmet_criteria", ce.Error(), ce.Unmet...)
	case errors.Is(err, incident.ErrTooLarge), errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "too_large", err.Error())
	case errors.Is(err, incident.ErrPrecondition):
		return errorf(http.StatusPreconditionFailed, "stale", "the resource changed since you read it (If-Match does not match its ETag); read it again")
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, store.ErrInvalid):
		return errorf(http.StatusBadRequest, "invalid_request", err.Error())
	}
	return nil
}

// handlerFunc is an API handler: it returns an error instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve adapts h, rendering any error it returns once, in one place.
func (s *Server) serve(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae == nil {
		if r.Context().Err() != nil {
			ae = errorf(499, "canceled", "request canceled")
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			ae = errorf(http.StatusInternalServerError, "internal", "internal error; see the server log")
		}
	}
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="airlock"`) // RFC 9110 §15.5.2: a 401 must say how to authenticate
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Details = ae.Code, ae.Message, ae.Details
	writeJSON(w, ae.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
