package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/event"
)

// maxEventBatch bounds one POST /api/v1/events.
const maxEventBatch = 1000

type eventBatch struct {
	Events []event.Event `json:"events"`
}

// postEvents takes events from other systems (model registry, training
// pipeline, auth, infrastructure) and hands them to the detectors like the
// gateway's own.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) error {
	var b eventBatch
	if err := decodeJSON(r, s.opts.MaxBodyBytes, &b); err != nil {
		return err
	}
	if len(b.Events) == 0 || len(b.Events) > maxEventBatch {
		return errorf(http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("events: send 1 to %d events", maxEventBatch))
	}
	now := time.Now().UTC()
	var problems []string
	for i := range b.Events {
		ev := &b.Events[i]
		where := fmt.Sprintf("events[%d]", i)
		if ev.Kind == "" || ev.Source == "" {
			problems = append(problems, where+": kind and source are required")
		}
		if ev.Source == "gateway" {
			problems = append(problems, where+`: source "gateway" is reserved for Airlock's gateways`)
		}
		for _, f := range []string{ev.Kind, ev.Source, ev.ID} {
			if len(f) > 200 || !utf8.ValidString(f) || strings.ContainsAny(f, "\n\r") {
				problems = append(problems, where+": kind, source and id are one line of at most 200 bytes")
				break
			}
		}
		if len(ev.Attrs) > 100 {
			problems = append(problems, where+": at most 100 attrs")
		}
		if ev.Time.IsZero() {
			ev.Time = now
		} else if ev.Time.After(now.Add(5*time.Minute)) || ev.Time.Year() < 2000 {
			problems = append(problems, where+": time is more than 5 minutes ahead or before 2000")
		}
		if ev.ID == "" {
			ev.ID = uuid.Must(uuid.NewV7()).String()
		}
	}
	if len(problems) > 0 {
		return errorf(http.StatusUnprocessableEntity, "invalid", "events refused; none were accepted", problems...)
	}
	ids := make([]string, len(b.Events))
	for i, ev := range b.Events {
		s.opts.Events(ev)
		ids[i] = ev.ID
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": len(ids), "ids": ids})
	return nil
}
