package api

import (
	"net/http"
	"strconv"

	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action")}
	var err error
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	if f.Cursor, err = cursorParam(r); err != nil {
		return err
	}
	if f.Cursor != "" {
		if _, err := strconv.ParseInt(f.Cursor, 10, 64); err != nil {
			return errorf(http.StatusBadRequest, "bad_cursor", "cursor is not one this server returned")
		}
	}
	var items []*store.AuditEntry
	var next string
	err = s.st.View(r.Context(), func(tx store.Tx) (err error) {
		items, next, err = tx.ListAudit(r.Context(), f)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

type taxonomyResponse struct {
	Categories []taxonomy.CategoryInfo `json:"categories"`
	Types      []taxonomy.IncidentType `json:"types"`
	Phases     []phaseInfo             `json:"phases"`
	ATLAS      atlasInfo               `json:"atlas"`
}

type phaseInfo struct {
	ID    taxonomy.Phase `json:"id"`
	Title string         `json:"title"`
}

type atlasInfo struct {
	Version    string            `json:"version"` // of the imported catalogue; "" if none was imported
	Techniques []store.Technique `json:"techniques"`
}

func (s *Server) taxonomy(w http.ResponseWriter, r *http.Request) error {
	resp := taxonomyResponse{Categories: taxonomy.Categories(), Types: taxonomy.Types()}
	for _, p := range taxonomy.Phases() {
		resp.Phases = append(resp.Phases, phaseInfo{ID: p, Title: p.Title()})
	}
	err := s.st.View(r.Context(), func(tx store.Tx) (err error) {
		resp.ATLAS.Version, resp.ATLAS.Techniques, err = tx.ListTechniques(r.Context())
		return err
	})
	if err != nil {
		return err
	}
	if resp.ATLAS.Techniques == nil {
		resp.ATLAS.Techniques = []store.Technique{}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
