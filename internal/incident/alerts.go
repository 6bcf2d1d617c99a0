package incident

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Timeline kinds written by the responder.
const (
	KindAlertJoined  = "alert_joined"  // an alert was correlated into the incident
	KindPlaybookStep = "playbook_step" // a playbook step ran, waited, failed or was skipped
)

// AlertLink is what the incident records of an alert that joins it.
type AlertLink struct {
	AlertID    string
	Detector   string
	Rule       string
	Type       string
	Severity   event.Severity
	Confidence float64
	Summary    string
	Entities   []event.Entity
	ATLAS      []string
	At         time.Time // when the alert was raised
	FirstEvent time.Time // when the first event it rests on happened; zero: At
	// Escalation, when set, says why the incident's severity goes one step
	// above the highest alert's (a multi-stage pattern).
	Escalation string
	Risk       float64 // the incident's risk score after this alert
}

// JoinAlert records an alert on the incident's timeline and folds it into
// the record: entities and techniques are added, the severity never goes
// down, the started milestone moves back to the alert's first event, and
// the risk score is replaced. All in one transaction.
func (s *Service) JoinAlert(ctx context.Context, a Actor, id string, l AlertLink) (*Incident, error) {
	var out *Incident
	err := s.write(ctx, a, "incident.alert", id, func(tx store.Tx) (any, error) {
		inc, err := tx.GetIncident(ctx, id)
		if err != nil {
			return nil, err
		}
		if inc.Phase == taxonomy.PhaseClosed {
			return nil, fmt.Errorf("incident %s: %w", id, ErrClosed)
		}
		if err := linkAlert(ctx, tx, l.AlertID, id); err != nil {
			return nil, err
		}
		sev := max(inc.Severity, l.Severity)
		if l.Escalation != "" && sev < event.SeverityCritical {
			sev++
		}
		if sev != inc.Severity {
			inc.Severity, inc.Priority = sev, min(inc.Priority, PriorityFor(sev))
		}
		for _, e := range l.Entities {
			if len(inc.Entities) < maxEntities && !slices.Contains(inc.Entities, e) {
				inc.Entities = append(inc.Entities, e)
			}
		}
		for _, t := range l.ATLAS {
			if !slices.Contains(inc.ATLAS, t) {
				inc.ATLAS = append(inc.ATLAS, t)
			}
		}
		first := l.FirstEvent
		if first.IsZero() {
			first = l.At
		}
		if first = normTime(first); !first.IsZero() && (inc.Milestones.Started == nil || first.Before(*inc.Milestones.Started)) &&
			(inc.Milestones.Detected == nil || !first.After(*inc.Milestones.Detected)) {
			inc.Milestones.Started = &first
		}
		inc.Risk = l.Risk
		body := map[string]any{
			"alert": l.AlertID, "detector": l.Detector, "rule": l.Rule, "type": l.Type,
			"severity": l.Severity, "confidence": l.Confidence, "summary": l.Summary,
		}
		if l.Escalation != "" {
			body["escalation"] = l.Escalation
			body["severity_now"] = inc.Severity
		}
		if err := s.saveWithEntry(ctx, tx, inc, a, KindAlertJoined, body); err != nil {
			return nil, err
		}
		out = inc
		return map[string]any{"alert": l.AlertID}, nil
	})
	return out, err
}

// LinkDuplicate marks an alert as belonging to an incident without a
// timeline entry: a repeat of an alert the incident already has.
func (s *Service) LinkDuplicate(ctx context.Context, a Actor, incidentID, alertID string) error {
	return s.write(ctx, a, "incident.alert_duplicate", incidentID, func(tx store.Tx) (any, error) {
		inc, err := tx.GetIncident(ctx, incidentID)
		if err != nil {
			return nil, err
		}
		if inc.Phase == taxonomy.PhaseClosed {
			return nil, fmt.Errorf("incident %s: %w", incidentID, ErrClosed)
		}
		return map[string]any{"alert": alertID}, linkAlert(ctx, tx, alertID, incidentID)
	})
}

// linkAlert sets the alert's incident; an alert already in another incident
// is a conflict (correlation runs once per alert).
func linkAlert(ctx context.Context, tx store.Tx, alertID, incidentID string) error {
	al, err := tx.GetAlert(ctx, alertID)
	if err != nil {
		return err
	}
	if al.Incident == incidentID {
		return nil
	}
	if al.Incident != "" {
		return fmt.Errorf("alert %s already belongs to incident %s: %w", alertID, al.Incident, store.ErrConflict)
	}
	al.Incident = incidentID
	return tx.UpdateAlert(ctx, al)
}

// StepRecord is one playbook step's outcome, as the timeline shows it.
type StepRecord struct {
	Playbook string `json:"playbook"`
	Step     string `json:"step"`
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	// Status is "done", "failed", "skipped", "waiting" (for approval or a
	// person) or "approved".
	Status  string `json:"status"`
	Auto    bool   `json:"auto"` // ran without a person
	Attempt int    `json:"attempt,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Ref     string `json:"ref,omitempty"` // what the step made: a policy action, task or evidence id
	// Targets are the policy targets a policy step covered, so that a
	// caller who joins the incident later can be covered too.
	Targets []string `json:"targets,omitempty"`
}

// RecordStep appends a playbook step's outcome to the incident's timeline.
func (s *Service) RecordStep(ctx context.Context, a Actor, id string, r StepRecord) (*TimelineEntry, error) {
	var out *TimelineEntry
	err := s.write(ctx, a, "incident.playbook_step", id, func(tx store.Tx) (any, error) {
		body := map[string]any{
			"playbook": r.Playbook, "step": r.Step, "kind": r.Kind, "title": r.Title,
			"status": r.Status, "auto": r.Auto,
		}
		if r.Attempt > 0 {
			body["attempt"] = r.Attempt
		}
		if r.Detail != "" {
			body["detail"] = clipText(r.Detail, maxNote)
		}
		if r.Ref != "" {
			body["ref"] = r.Ref
		}
		if len(r.Targets) > 0 {
			body["targets"] = r.Targets
		}
		e, err := s.appendEntry(ctx, tx, nil, id, a, KindPlaybookStep, body)
		out = e
		return map[string]any{"step": r.Step, "status": r.Status}, err
	})
	return out, err
}

// clipText cuts s to at most n bytes on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
