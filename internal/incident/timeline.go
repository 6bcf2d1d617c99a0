package incident

import (
	"context"
	"fmt"
	"strings"

	"github.com/airlock-ir/airlock/internal/store"
)

// Timeline entry kinds. The first group is written by people through the
// API; the second only by Airlock itself.
const (
	KindNote              = "note"               // free text
	KindAction            = "action"             // something a responder did
	KindCommunication     = "communication"      // who was told what
	KindContainment       = "containment"        // a containment measure now in force
	KindContainmentLifted = "containment_lifted" // a measure no longer in force

	KindCreated          = "created"
	KindUpdated          = "updated"
	KindPhaseChanged     = "phase_changed"
	KindEvidenceAttached = "evidence_attached"
	KindTaskCreated      = "task_created"
	KindTaskUpdated      = "task_updated"
)

// PostableKinds are the kinds a person may append directly.
var PostableKinds = []string{KindNote, KindAction, KindCommunication, KindContainment, KindContainmentLifted}

// Entry is what a person appends to a timeline.
type Entry struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	// Ref names a containment measure: a policy action id, or any short
	// handle the responder chooses; containment_lifted must name one in force.
	Ref string `json:"ref"`
}

// Append adds a person's entry to the incident's timeline. Containment
// entries also change the set of measures in force, which the containment
// phase's exit criteria look at.
func (s *Service) Append(ctx context.Context, a Actor, id string, e Entry) (*TimelineEntry, error) {
	var p problems
	known := false
	for _, k := range PostableKinds {
		known = known || k == e.Kind
	}
	if !known {
		p.addf("kind: %q is not one of %s", e.Kind, strings.Join(PostableKinds, ", "))
	}
	checkTextInto(&p, "text", e.Text, maxNote, true)
	checkName(&p, "ref", e.Ref, e.Kind == KindContainmentLifted)
	if err := p.err(); err != nil {
		return nil, err
	}
	var out *TimelineEntry
	err := s.write(ctx, a, "incident.timeline."+e.Kind, id, func(tx store.Tx) (any, error) {
		body := map[string]any{"text": e.Text}
		if e.Ref != "" {
			body["ref"] = e.Ref
		}
		switch e.Kind {
		case KindContainment, KindContainmentLifted:
			inc, err := tx.GetIncident(ctx, id)
			if err != nil {
				return nil, err
			}
			if err := s.changeContainment(inc, a, e); err != nil {
				return nil, err
			}
			inc.UpdatedAt = s.clock()
			if err := tx.UpdateIncident(ctx, inc); err != nil {
				return nil, err
			}
			var err2 error
			out, err2 = s.appendEntry(ctx, tx, inc, id, a, e.Kind, body)
			return map[string]any{"kind": e.Kind, "ref": e.Ref}, err2
		}
		var err error
		out, err = s.appendEntry(ctx, tx, nil, id, a, e.Kind, body)
		return map[string]any{"kind": e.Kind}, err
	})
	return out, err
}

func (s *Service) changeContainment(inc *Incident, a Actor, e Entry) error {
	ref := e.Ref
	for i, c := range inc.Containment {
		if c.Ref != ref {
			continue
		}
		if e.Kind == KindContainment {
			return invalid("ref: containment %q is already in force", ref)
		}
		inc.Containment = append(inc.Containment[:i:i], inc.Containment[i+1:]...)
		return nil
	}
	if e.Kind == KindContainmentLifted {
		return invalid("ref: no containment %q is in force", ref)
	}
	if ref == "" {
		ref = fmt.Sprintf("manual-%d", inc.TimelineLen+1)
	}
	now := s.clock()
	inc.Containment = append(inc.Containment, store.Containment{Ref: ref, Summary: e.Text, Since: now, By: a.Name})
	// The attack is contained from the first measure in force, not from when
	// the phase is left: time to contain measures the response, not paperwork.
	m := &inc.Milestones
	if m.Acknowledged == nil {
		m.Acknowledged = &now
	}
	if m.Contained == nil {
		m.Contained = &now
	}
	return nil
}
