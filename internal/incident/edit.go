package incident

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Bounds on what one incident may hold. They are far above any honest use and
// keep a hostile client from growing a record without end.
const (
	maxTitle        = 200
	maxText         = 64 << 10 // summary, root cause, review, notes
	maxNote         = maxText
	maxName         = 200 // owners, participants, actors
	maxEntities     = 200
	maxParticipants = 100
	maxTechniques   = 100
)

// checkText validates a free-text field.
func checkText(field, s string, max int, required bool) error {
	var p problems
	checkTextInto(&p, field, s, max, required)
	return p.err()
}

func checkTextInto(p *problems, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		p.addf("%s: required", field)
	case !utf8.ValidString(s):
		p.addf("%s: not valid UTF-8", field)
	case len(s) > max:
		p.addf("%s: %d bytes, more than %d", field, len(s), max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		p.addf("%s: contains control characters", field)
	}
}

// checkTime refuses a time that JSON, and so the store and the timeline
// hashes, cannot represent: RFC 3339 years have four digits.
func checkTime(p *problems, field string, t *time.Time) {
	if t == nil {
		return
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		p.addf("%s: year %d (in UTC) is not 0000 to 9999", field, y)
	}
}

func checkName(p *problems, field, s string, required bool) {
	checkTextInto(p, field, s, maxName, required)
	if strings.ContainsAny(s, "\n\r\t") {
		p.addf("%s: must be one line", field)
	}
}

func checkEntities(p *problems, es []event.Entity) {
	if len(es) > maxEntities {
		p.addf("entities: %d, more than %d", len(es), maxEntities)
		return
	}
	for i, e := range es {
		if err := e.Validate(); err != nil {
			p.addf("entities[%d]: %v", i, err)
		}
	}
}

func checkTechniques(p *problems, ids []string) {
	if len(ids) > maxTechniques {
		p.addf("atlas: %d techniques, more than %d", len(ids), maxTechniques)
		return
	}
	for i, id := range ids {
		if !taxonomy.ValidTechniqueID(id) {
			p.addf("atlas[%d]: %q is not an ATLAS technique id (AML.Tnnnn or AML.Tnnnn.nnn)", i, id)
		}
	}
}

func checkParticipants(p *problems, names []string) {
	if len(names) > maxParticipants {
		p.addf("participants: %d, more than %d", len(names), maxParticipants)
		return
	}
	for i, n := range names {
		checkName(p, fmt.Sprintf("participants[%d]", i), n, true)
	}
}

func checkImpact(p *problems, im *Impact) {
	if im.AffectedUsers < 0 {
		p.addf("impact.affected_users: negative")
	}
	if im.Cost < 0 || math.IsNaN(im.Cost) || math.IsInf(im.Cost, 0) {
		p.addf("impact.cost: must be a non-negative number")
	}
	checkTextInto(p, "impact.data_exposed", im.DataExposed, maxText, false)
	checkTextInto(p, "impact.business_impact", im.BusinessImpact, maxText, false)
	if im.Currency != "" && (len(im.Currency) != 3 || strings.ToUpper(im.Currency) != im.Currency) {
		p.addf("impact.currency: want an ISO 4217 code such as EUR or USD")
	}
}

// PriorityFor is the default priority for a severity: critical is P1.
func PriorityFor(s event.Severity) int {
	if !s.Valid() {
		return 4
	}
	return int(event.SeverityCritical-s) + 1
}

// NewIncident is what a caller provides to open an incident.
type NewIncident struct {
	Title        string         `json:"title"`
	Type         string         `json:"type"`
	Severity     event.Severity `json:"severity"`
	Priority     int            `json:"priority"`
	Summary      string         `json:"summary"`
	Entities     []event.Entity `json:"entities"`
	ATLAS        []string       `json:"atlas"`
	Owner        string         `json:"owner"`
	Participants []string       `json:"participants"`
	Started      *time.Time     `json:"started"`
	Detected     *time.Time     `json:"detected"`
	Impact       Impact         `json:"impact"`
}

// Create opens an incident in the detection phase. Its ATLAS techniques
// default to those of its type; its category always follows its type.
func (s *Service) Create(ctx context.Context, a Actor, in NewIncident) (*Incident, error) {
	var p problems
	checkTextInto(&p, "title", in.Title, maxTitle, true)
	typ, err := taxonomy.LookupType(in.Type)
	if err != nil {
		p.addf("type: %v", err)
	}
	if !in.Severity.Valid() {
		p.addf("severity: required (low, medium, high or critical)")
	}
	if in.Priority != 0 && (in.Priority < 1 || in.Priority > 4) {
		p.addf("priority: %d is not 1 (most urgent) to 4", in.Priority)
	}
	checkTextInto(&p, "summary", in.Summary, maxText, false)
	checkEntities(&p, in.Entities)
	checkTechniques(&p, in.ATLAS)
	checkName(&p, "owner", in.Owner, false)
	checkParticipants(&p, in.Participants)
	checkImpact(&p, &in.Impact)
	checkTime(&p, "started", in.Started)
	checkTime(&p, "detected", in.Detected)
	now := s.clock()
	norm := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		n := normTime(*t)
		return &n
	}
	m := Milestones{Started: norm(in.Started), Detected: norm(in.Detected)}
	if m.Detected == nil {
		m.Detected = &now
	}
	if m.Detected.After(now.Add(time.Minute)) {
		p.addf("detected: in the future")
	}
	if strings.TrimSpace(in.Owner) != "" {
		m.Acknowledged = &now
	}
	p = append(p, milestoneOrder(&m)...)
	if err := p.err(); err != nil {
		return nil, err
	}
	inc := &Incident{
		ID: newID(), Title: strings.TrimSpace(in.Title), Type: typ.ID, Category: typ.Category,
		Severity: in.Severity, Priority: in.Priority, Phase: taxonomy.PhaseDetection,
		Summary: in.Summary, Entities: nonNil(in.Entities), ATLAS: nonNil(in.ATLAS),
		Owner: in.Owner, Participants: nonNil(in.Participants), Milestones: m, Impact: in.Impact,
		Containment: []store.Containment{},
		CreatedAt:   now, CreatedBy: a.Name, UpdatedAt: now,
	}
	if inc.Priority == 0 {
		inc.Priority = PriorityFor(inc.Severity)
	}
	if len(inc.ATLAS) == 0 {
		for _, t := range typ.ATLAS {
			inc.ATLAS = append(inc.ATLAS, t.ID)
		}
	}
	err = s.write(ctx, a, "incident.create", inc.ID, func(tx store.Tx) (any, error) {
		if err := tx.CreateIncident(ctx, inc); err != nil {
			return nil, err
		}
		if _, err := s.appendEntry(ctx, tx, inc, inc.ID, a, KindCreated, map[string]any{
			"title": inc.Title, "type": inc.Type, "severity": inc.Severity,
		}); err != nil {
			return nil, err
		}
		head, err := tx.GetIncident(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		inc.TimelineLen, inc.TimelineHead = head.TimelineLen, head.TimelineHead
		return map[string]any{"title": inc.Title, "type": inc.Type}, nil
	})
	if err != nil {
		return nil, err
	}
	return inc, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Patch changes some fields of an incident; nil fields are left alone. Phase
// is not here: it changes only through Transition.
type Patch struct {
	Title             *string         `json:"title"`
	Type              *string         `json:"type"`
	Severity          *event.Severity `json:"severity"`
	Priority          *int            `json:"priority"`
	Summary           *string         `json:"summary"`
	Entities          *[]event.Entity `json:"entities"`
	ATLAS             *[]string       `json:"atlas"`
	Owner             *string         `json:"owner"`
	Participants      *[]string       `json:"participants"`
	Milestones        *MilestonePatch `json:"milestones"`
	Impact            *Impact         `json:"impact"`
	RootCause         *string         `json:"root_cause"`
	ContainmentWaiver *string         `json:"containment_waiver"`
	Recovery          *store.Recovery `json:"recovery"`
	Review            *store.Review   `json:"review"`
}

// MilestonePatch corrects the milestones that come from outside knowledge:
// when the attack started and when it was detected. The others are stamped by
// the lifecycle.
type MilestonePatch struct {
	Started  *time.Time `json:"started"`
	Detected *time.Time `json:"detected"`
}

// Update applies p. ifVersion, when not 0, must equal the stored version.
func (s *Service) Update(ctx context.Context, a Actor, id string, ifVersion int64, p Patch) (*Incident, error) {
	var out *Incident
	err := s.write(ctx, a, "incident.update", id, func(tx store.Tx) (any, error) {
		inc, err := loadForUpdate(ctx, tx, id, ifVersion)
		if err != nil {
			return nil, err
		}
		changed, err := s.applyPatch(inc, &p)
		if err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			out = inc
			return map[string]any{"changed": changed}, nil
		}
		if err := s.saveWithEntry(ctx, tx, inc, a, KindUpdated, map[string]any{"changed": changed}); err != nil {
			return nil, err
		}
		out = inc
		return map[string]any{"changed": changed}, nil
	})
	return out, err
}

// applyPatch validates p against inc and applies it, returning the names of
// the fields that changed.
func (s *Service) applyPatch(inc *Incident, p *Patch) ([]string, error) {
	var pr problems
	var changed []string
	mark := func(name string) { changed = append(changed, name) }
	if p.Title != nil {
		checkTextInto(&pr, "title", *p.Title, maxTitle, true)
		if t := strings.TrimSpace(*p.Title); t != inc.Title {
			inc.Title = t
			mark("title")
		}
	}
	if p.Type != nil {
		typ, err := taxonomy.LookupType(*p.Type)
		if err != nil {
			pr.addf("type: %v", err)
		} else if typ.ID != inc.Type {
			inc.Type, inc.Category = typ.ID, typ.Category
			mark("type")
		}
	}
	if p.Severity != nil {
		if !p.Severity.Valid() {
			pr.addf("severity: want low, medium, high or critical")
		} else if *p.Severity != inc.Severity {
			inc.Severity = *p.Severity
			mark("severity")
		}
	}
	if p.Priority != nil {
		if *p.Priority < 1 || *p.Priority > 4 {
			pr.addf("priority: %d is not 1 (most urgent) to 4", *p.Priority)
		} else if *p.Priority != inc.Priority {
			inc.Priority = *p.Priority
			mark("priority")
		}
	}
	setText := func(name string, dst *string, v *string, max int) {
		if v == nil {
			return
		}
		checkTextInto(&pr, name, *v, max, false)
		if *v != *dst {
			*dst = *v
			mark(name)
		}
	}
	setText("summary", &inc.Summary, p.Summary, maxText)
	setText("root_cause", &inc.RootCause, p.RootCause, maxText)
	setText("containment_waiver", &inc.ContainmentWaiver, p.ContainmentWaiver, maxText)
	if p.Owner != nil {
		checkName(&pr, "owner", *p.Owner, false)
		if *p.Owner != inc.Owner {
			inc.Owner = *p.Owner
			mark("owner")
			if inc.Owner != "" && inc.Milestones.Acknowledged == nil {
				now := s.clock()
				inc.Milestones.Acknowledged = &now
			}
		}
	}
	if p.Entities != nil {
		checkEntities(&pr, *p.Entities)
		if !slices.Equal(*p.Entities, inc.Entities) {
			inc.Entities = nonNil(*p.Entities)
			mark("entities")
		}
	}
	if p.ATLAS != nil {
		checkTechniques(&pr, *p.ATLAS)
		if !slices.Equal(*p.ATLAS, inc.ATLAS) {
			inc.ATLAS = nonNil(*p.ATLAS)
			mark("atlas")
		}
	}
	if p.Participants != nil {
		checkParticipants(&pr, *p.Participants)
		if !slices.Equal(*p.Participants, inc.Participants) {
			inc.Participants = nonNil(*p.Participants)
			mark("participants")
		}
	}
	if p.Impact != nil {
		checkImpact(&pr, p.Impact)
		if *p.Impact != inc.Impact {
			inc.Impact = *p.Impact
			mark("impact")
		}
	}
	if p.Recovery != nil && *p.Recovery != inc.Recovery {
		inc.Recovery = *p.Recovery
		mark("recovery")
	}
	if p.Review != nil {
		checkTextInto(&pr, "review.summary", p.Review.Summary, maxText, false)
		if p.Review.Done && strings.TrimSpace(p.Review.Summary) == "" {
			pr.addf("review.summary: a done review needs its summary")
		}
		if *p.Review != inc.Review {
			inc.Review = *p.Review
			mark("review")
		}
	}
	if mp := p.Milestones; mp != nil {
		checkTime(&pr, "milestones.started", mp.Started)
		checkTime(&pr, "milestones.detected", mp.Detected)
		if mp.Started != nil {
			t := normTime(*mp.Started)
			if inc.Milestones.Started == nil || !inc.Milestones.Started.Equal(t) {
				inc.Milestones.Started = &t
				mark("milestones.started")
			}
		}
		if mp.Detected != nil {
			t := normTime(*mp.Detected)
			if t.After(s.clock().Add(time.Minute)) {
				pr.addf("milestones.detected: in the future")
			}
			if inc.Milestones.Detected == nil || !inc.Milestones.Detected.Equal(t) {
				inc.Milestones.Detected = &t
				mark("milestones.detected")
			}
		}
		pr = append(pr, milestoneOrder(&inc.Milestones)...)
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	return changed, nil
}
