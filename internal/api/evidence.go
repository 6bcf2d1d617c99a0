package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/airlock-ir/airlock/internal/incident"
)

func (s *Server) uploadEvidence(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if r.ContentLength > s.opts.MaxEvidenceBytes {
		return errorf(http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("evidence is %d bytes, more than the limit of %d", r.ContentLength, s.opts.MaxEvidenceBytes))
	}
	ev, err := s.inc.AttachEvidence(r.Context(), actor(r), r.PathValue("id"), incident.EvidenceInput{
		Name:      q.Get("name"),
		Source:    q.Get("source"),
		MediaType: r.Header.Get("Content-Type"),
		MaxBytes:  s.opts.MaxEvidenceBytes,
	}, r.Body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/evidence/"+ev.SHA256)
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

func (s *Server) listEvidence(w http.ResponseWriter, r *http.Request) error {
	evs, err := s.inc.Evidence(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(evs, ""))
	return nil
}

// downloadEvidence streams a blob. Each read is a custody entry ("accessed",
// or "exported" with ?export=true) and an audit entry.
func (s *Server) downloadEvidence(w http.ResponseWriter, r *http.Request) error {
	action := incident.CustodyAccessed
	if r.URL.Query().Get("export") == "true" {
		action = incident.CustodyExported
	}
	f, err := s.inc.OpenEvidence(r.Context(), actor(r), r.PathValue("sha256"), action)
	if err != nil {
		return err
	}
	defer f.Close()
	mediaType, name := "application/octet-stream", f.Blob.SHA256
	if len(f.Attachments) > 0 {
		mediaType, name = f.Attachments[0].MediaType, f.Attachments[0].Name
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Digest", "sha-256="+f.Blob.SHA256)
	h.Set("ETag", `"`+f.Blob.SHA256+`"`)
	h.Set("Content-Length", fmt.Sprint(f.Blob.Size))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("evidence download interrupted", "sha256", f.Blob.SHA256, "err", err)
	}
	return nil
}

func (s *Server) custody(w http.ResponseWriter, r *http.Request) error {
	sha := r.PathValue("sha256")
	if !incident.ValidDigest(sha) {
		return errorf(http.StatusBadRequest, "bad_digest", "not a lower-case hex SHA-256: "+sha)
	}
	cs, err := s.inc.Custody(r.Context(), sha)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(cs, ""))
	return nil
}
