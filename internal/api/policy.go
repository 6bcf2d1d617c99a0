package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/policy"
)

type policyResponse struct {
	Version int64           `json:"version"`
	Actions []policy.Action `json:"actions"`
}

// getPolicy answers the current policy. Gateways poll it with
// If-None-Match and get 304 until it changes.
func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p := s.opts.Policy.Current()
	tag := etag(p.Version)
	w.Header().Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if p.Actions == nil {
		p.Actions = []policy.Action{}
	}
	writeJSON(w, http.StatusOK, policyResponse{Version: p.Version, Actions: p.Actions})
	return nil
}

func (s *Server) addPolicyAction(w http.ResponseWriter, r *http.Request) error {
	var req containment.Request
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	act, err := s.opts.Policy.Add(r.Context(), actor(r), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/policy/actions/"+act.ID)
	w.Header().Set("ETag", etag(s.opts.Policy.Current().Version))
	writeJSON(w, http.StatusCreated, act)
	return nil
}

func (s *Server) removePolicyAction(w http.ResponseWriter, r *http.Request) error {
	reason := r.URL.Query().Get("reason")
	if len(reason) > 1000 {
		return errorf(http.StatusBadRequest, "bad_reason", "reason is longer than 1000 bytes")
	}
	act, err := s.opts.Policy.Remove(r.Context(), actor(r), r.PathValue("id"), reason)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(s.opts.Policy.Current().Version))
	w.Header().Set("X-Policy-Version", strconv.FormatInt(s.opts.Policy.Current().Version, 10))
	writeJSON(w, http.StatusOK, act)
	return nil
}
