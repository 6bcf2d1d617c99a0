package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// page is every list's shape.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	if next != "" {
		next = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	return page[T]{Items: items, NextCursor: next}
}

func cursorParam(r *http.Request) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !utf8.Valid(b) || len(b) > 200 {
		return "", errorf(http.StatusBadRequest, "bad_cursor", "cursor is not one this server returned")
	}
	return string(b), nil
}

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, errorf(http.StatusBadRequest, "bad_limit", "limit must be a whole number from 1 to 500")
	}
	return n, nil
}

func etag(version int64) string { return fmt.Sprintf(`"%d"`, version) }

// ifMatch parses an If-Match header holding one of our ETags; 0 if absent.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(strings.Trim(h, `"`), "W/"), 10, 64)
	if err != nil || v < 1 {
		return 0, errorf(http.StatusBadRequest, "bad_if_match", "If-Match must be an ETag this server returned, such as \"3\"")
	}
	return v, nil
}

func writeIncident(w http.ResponseWriter, status int, inc *incident.Incident) {
	w.Header().Set("ETag", etag(inc.Version))
	writeJSON(w, status, inc)
}

func actor(r *http.Request) incident.Actor { return principalFrom(r.Context()).actor() }

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f store.IncidentFilter
	var err error
	if v := q.Get("phase"); v != "" {
		if f.Phase, err = taxonomy.ParsePhase(v); err != nil {
			return errorf(http.StatusBadRequest, "bad_filter", "phase: "+err.Error())
		}
	}
	if v := q.Get("type"); v != "" {
		typ, err := taxonomy.LookupType(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_filter", "type: "+err.Error())
		}
		f.Type = typ.ID
	}
	if v := q.Get("severity"); v != "" {
		if f.Severity, err = event.ParseSeverity(v); err != nil {
			return errorf(http.StatusBadRequest, "bad_filter", "severity: "+err.Error())
		}
	}
	switch q.Get("sort") {
	case "", "newest":
	case "risk":
		f.ByRisk = true
	default:
		return errorf(http.StatusBadRequest, "bad_filter", "sort: want newest or risk")
	}
	switch q.Get("open") {
	case "", "false":
	case "true":
		f.Open = true
	default:
		return errorf(http.StatusBadRequest, "bad_filter", "open: want true or false")
	}
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	if f.Cursor, err = cursorParam(r); err != nil {
		return err
	}
	items, next, err := s.inc.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request) error {
	var in incident.NewIncident
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &in); err != nil {
		return err
	}
	inc, err := s.inc.Create(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+inc.ID)
	writeIncident(w, http.StatusCreated, inc)
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.inc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeIncident(w, http.StatusOK, inc)
	return nil
}

func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var p incident.Patch
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &p); err != nil {
		return err
	}
	inc, err := s.inc.Update(r.Context(), actor(r), r.PathValue("id"), version, p)
	if err != nil {
		return err
	}
	writeIncident(w, http.StatusOK, inc)
	return nil
}

type transitionRequest struct {
	Phase string `json:"phase"`
	Note  string `json:"note"`
}

func (s *Server) transition(w http.ResponseWriter, r *http.Request) error {
	var req transitionRequest
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	phase, err := taxonomy.ParsePhase(req.Phase)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid", "phase: "+err.Error())
	}
	inc, err := s.inc.Transition(r.Context(), actor(r), r.PathValue("id"), phase, req.Note)
	if err != nil {
		return err
	}
	writeIncident(w, http.StatusOK, inc)
	return nil
}

func (s *Server) listTimeline(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 100
	}
	var after int64
	if c, err := cursorParam(r); err != nil {
		return err
	} else if c != "" {
		if after, err = strconv.ParseInt(c, 10, 64); err != nil || after < 0 {
			return errorf(http.StatusBadRequest, "bad_cursor", "cursor is not one this server returned")
		}
	}
	entries, err := s.inc.Timeline(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	next := ""
	if len(entries) == limit {
		next = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, newPage(entries, next))
	return nil
}

func (s *Server) appendTimeline(w http.ResponseWriter, r *http.Request) error {
	var e incident.Entry
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &e); err != nil {
		return err
	}
	entry, err := s.inc.Append(r.Context(), actor(r), r.PathValue("id"), e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, entry)
	return nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.inc.Tasks(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(tasks, ""))
	return nil
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	var in incident.TaskInput
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &in); err != nil {
		return err
	}
	t, err := s.inc.CreateTask(r.Context(), actor(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) patchTask(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in incident.TaskInput
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &in); err != nil {
		return err
	}
	t, err := s.inc.UpdateTask(r.Context(), actor(r), r.PathValue("id"), r.PathValue("task"), version, in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) verifyIncident(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.inc.Verify(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) verifyAll(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.inc.VerifyAll(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
