package api

import (
	"net/http"

	"github.com/airlock-ir/airlock/internal/alerts"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
)

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AlertFilter{Detector: q.Get("detector"), Type: q.Get("type"), Verdict: q.Get("verdict"), Fingerprint: q.Get("fingerprint")}
	if v := q.Get("severity"); v != "" {
		sev, err := event.ParseSeverity(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_filter", "severity: "+err.Error())
		}
		f.Severity = sev
	}
	switch f.Verdict {
	case "", "none", "true_positive", "false_positive", "benign":
	default:
		return errorf(http.StatusBadRequest, "bad_filter", "verdict: want none, true_positive, false_positive or benign")
	}
	var err error
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	if f.Cursor, err = cursorParam(r); err != nil {
		return err
	}
	items, next, err := s.opts.Alerts.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := s.opts.Alerts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

type feedbackRequest struct {
	Verdict string `json:"verdict"`
	Note    string `json:"note"`
}

func (s *Server) alertFeedback(w http.ResponseWriter, r *http.Request) error {
	var req feedbackRequest
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	a, err := s.opts.Alerts.Feedback(r.Context(), actor(r), r.PathValue("id"), req.Verdict, req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) alertStats(w http.ResponseWriter, r *http.Request) error {
	rates, err := s.opts.Alerts.Rates(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*alerts.Rates
		Counters alerts.Stats `json:"counters"`
	}{rates, s.opts.Alerts.Counters()})
	return nil
}
