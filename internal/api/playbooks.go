package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/airlock-ir/airlock/internal/respond"
)

// decisionRequest approves (the default) or declines a waiting step.
type decisionRequest struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

const maxDecisionNote = 4000

func (s *Server) decideStep(w http.ResponseWriter, r *http.Request) error {
	var req decisionRequest
	if err := decodeJSONOrEmpty(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Note) > maxDecisionNote {
		return errorf(http.StatusUnprocessableEntity, "invalid", "note: longer than 4000 bytes")
	}
	approve := req.Approve == nil || *req.Approve
	id, step := r.PathValue("id"), r.PathValue("step")
	err := s.opts.Playbooks.Decide(r.Context(), actor(r), id, step, approve, strings.TrimSpace(req.Note))
	if errors.Is(err, respond.ErrNotWaiting) {
		return errorf(http.StatusConflict, "not_waiting", err.Error())
	}
	if err != nil {
		return err
	}
	v, err := s.opts.Playbooks.View(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getPlaybook(w http.ResponseWriter, r *http.Request) error {
	v, err := s.opts.Playbooks.View(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
