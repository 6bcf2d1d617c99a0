package demomodel

import (
	"fmt"
	"net/http"
	"strings"
)

// modelsCreated is when the demo models were "released": 2025-01-01 UTC.
const modelsCreated = 1735689600

// modelInfo is an OpenAI model object with the version added.
type modelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	Version string `json:"version"`
}

func (s *Server) modelList() []modelInfo {
	var out []modelInfo
	for _, id := range []string{s.opts.Model, s.opts.Model + "-embed"} {
		out = append(out, modelInfo{ID: id, Object: "model", Created: modelsCreated, OwnedBy: "airlock-demo", Version: s.opts.Version})
	}
	return out
}

// models serves GET /v1/models and GET /v1/models/{id}.
func (s *Server) models(w http.ResponseWriter, r *http.Request) error {
	id, one := strings.CutPrefix(r.URL.Path, "/v1/models/")
	if !one {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": s.modelList()})
		return nil
	}
	for _, m := range s.modelList() {
		if m.ID == id {
			writeJSON(w, http.StatusOK, m)
			return nil
		}
	}
	return &apiError{status: http.StatusNotFound, kind: "invalid_request_error", code: "model_not_found", param: "model",
		message: fmt.Sprintf("the model %q does not exist on this server", id)}
}
