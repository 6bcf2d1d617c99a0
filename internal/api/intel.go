package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/airlock-ir/airlock/internal/intel"
)

func (s *Server) listIntel(w http.ResponseWriter, r *http.Request) error {
	feeds, err := s.opts.Intel.Feeds(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": nonNilSlice(feeds), "indicators": s.opts.Intel.Set().Len()})
	return nil
}

func (s *Server) listIndicators(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	cursor, err := cursorParam(r)
	if err != nil {
		return err
	}
	items, next, err := s.opts.Intel.Indicators(r.Context(), r.URL.Query().Get("feed"), limit, cursor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

// importFeed replaces the named feed with the request body (CSV, or a
// STIX 2.1 bundle). A malformed feed changes nothing and is answered 422
// with every problem as file:line: reason.
func (s *Server) importFeed(w http.ResponseWriter, r *http.Request) error {
	body := http.MaxBytesReader(w, r.Body, intel.MaxFeedBytes)
	feed, err := s.opts.Intel.Import(r.Context(), actor(r).Name, r.PathValue("name"), r.URL.Query().Get("format"), body)
	var pe *intel.ParseError
	if errors.As(err, &pe) {
		return errorf(http.StatusUnprocessableEntity, "invalid_feed", "the feed is refused; nothing was imported", problems(err)...)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, feed)
	return nil
}

func (s *Server) deleteFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.opts.Intel.Delete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": r.PathValue("name")})
	return nil
}

// problems lists the parse errors joined in err, one per line of the feed.
func problems(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{fmt.Sprint(err)}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
