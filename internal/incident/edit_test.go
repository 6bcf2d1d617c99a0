package incident_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

func snapshot(t *testing.T, inc *incident.Incident) string {
	t.Helper()
	b, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUpdateIfMatch(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, basic())
	before := snapshot(t, e.get(t, inc.ID))
	auditBefore := len(e.audit(t))

	for _, v := range []int64{inc.Version + 1, 99, -1} {
		got, err := e.svc.Update(e.ctx, alice, inc.ID, v, incident.Patch{Title: ptr("changed")})
		if !errors.Is(err, incident.ErrPrecondition) {
			t.Errorf("If-Match %d: err = %v, want ErrPrecondition", v, err)
		}
		if got != nil {
			t.Errorf("If-Match %d: returned an incident with an error", v)
		}
	}
	if after := snapshot(t, e.get(t, inc.ID)); after != before {
		t.Errorf("stale update changed the incident:\nbefore %s\nafter  %s", before, after)
	}
	if n := len(e.audit(t)); n != auditBefore {
		t.Errorf("stale update wrote %d audit entries", n-auditBefore)
	}

	got, err := e.svc.Update(e.ctx, alice, inc.ID, inc.Version, incident.Patch{Title: ptr("changed")})
	if err != nil {
		t.Fatalf("Update with the current version: %v", err)
	}
	if got.Version != inc.Version+1 || got.Title != "changed" {
		t.Errorf("got version %d title %q", got.Version, got.Title)
	}
	// The old version is now stale.
	if _, err := e.svc.Update(e.ctx, alice, inc.ID, inc.Version, incident.Patch{Title: ptr("again")}); !errors.Is(err, incident.ErrPrecondition) {
		t.Errorf("second update with the old version: err = %v", err)
	}
	if _, err := e.svc.Update(e.ctx, alice, "01900000-0000-7000-8000-000000000000", 0, incident.Patch{Title: ptr("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown incident: err = %v", err)
	}
	e.verifyOK(t, inc.ID)
}

func TestUpdateChanges(t *testing.T) {
	e := newEnv(t)
	in := basic()
	in.Owner = "alice"
	in.Summary = "first look"
	in.Participants = []string{"bob"}
	inc := e.create(t, in)
	id := inc.ID

	for _, tc := range []struct {
		name  string
		patch incident.Patch
		want  []string // changed fields, in the order applyPatch reports them
		check func(t *testing.T, inc *incident.Incident)
	}{
		{"title is trimmed", incident.Patch{Title: ptr("  New title ")}, []string{"title"}, func(t *testing.T, inc *incident.Incident) {
			if inc.Title != "New title" {
				t.Errorf("Title = %q", inc.Title)
			}
		}},
		{"type also sets category", incident.Patch{Type: ptr("model_extraction")}, []string{"type"}, func(t *testing.T, inc *incident.Incident) {
			if inc.Type != "model_extraction" || inc.Category != taxonomy.CategoryModelCompromise {
				t.Errorf("Type, Category = %s, %s", inc.Type, inc.Category)
			}
		}},
		{"severity and priority", incident.Patch{Severity: ptr(event.SeverityCritical), Priority: ptr(1)}, []string{"severity", "priority"}, func(t *testing.T, inc *incident.Incident) {
			if inc.Severity != event.SeverityCritical || inc.Priority != 1 {
				t.Errorf("Severity, Priority = %s, %d", inc.Severity, inc.Priority)
			}
		}},
		{"entities, techniques, participants", incident.Patch{
			Entities:     &[]event.Entity{{Kind: event.EntityIP, Value: "203.0.113.9"}},
			ATLAS:        &[]string{"AML.T0051", "AML.T0054"},
			Participants: &[]string{"bob", "carol"},
		}, []string{"entities", "atlas", "participants"}, nil},
		{"impact", incident.Patch{Impact: &incident.Impact{AffectedUsers: 12, Cost: 1500, Currency: "EUR"}}, []string{"impact"}, nil},
		{"text fields", incident.Patch{Summary: ptr("second look"), RootCause: ptr("leaked key"), ContainmentWaiver: ptr("n/a")}, []string{"summary", "root_cause", "containment_waiver"}, nil},
		{"review", incident.Patch{Review: &store.Review{Done: true, Summary: "held"}}, []string{"review"}, nil},
		{"detected moved earlier", incident.Patch{Milestones: &incident.MilestonePatch{Detected: ptr(clockStart.Add(-time.Hour))}}, []string{"milestones.detected"}, func(t *testing.T, inc *incident.Incident) {
			if !timeEq(inc.Milestones.Detected, clockStart.Add(-time.Hour).UTC().Truncate(time.Microsecond)) {
				t.Errorf("Detected = %s", fmtOpt(inc.Milestones.Detected))
			}
		}},
		{"started set", incident.Patch{Milestones: &incident.MilestonePatch{Started: ptr(clockStart.Add(-2 * time.Hour))}}, []string{"milestones.started"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			before := e.get(t, id)
			got, err := e.svc.Update(e.ctx, alice, id, before.Version, tc.patch)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if got.Version != before.Version+1 || got.TimelineLen != before.TimelineLen+1 || !got.UpdatedAt.Equal(e.clock.Stored()) {
				t.Errorf("version %d→%d, timeline %d→%d, updated %s", before.Version, got.Version, before.TimelineLen, got.TimelineLen, got.UpdatedAt)
			}
			if s := snapshot(t, e.get(t, id)); s != snapshot(t, got) {
				t.Errorf("returned incident differs from the stored one:\nstored   %s\nreturned %s", s, snapshot(t, got))
			}
			tl := e.timeline(t, id)
			last := tl[len(tl)-1]
			var body struct{ Changed []string }
			json.Unmarshal(last.Body, &body)
			if last.Kind != incident.KindUpdated || !slices.Equal(body.Changed, tc.want) {
				t.Errorf("last entry %s %s, want updated with changed=%v", last.Kind, last.Body, tc.want)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			e.verifyOK(t, id)
		})
	}
}

func TestUpdateNoOp(t *testing.T) {
	e := newEnv(t)
	in := basic()
	in.Owner = "alice"
	in.Summary = "s"
	in.Participants = []string{"bob"}
	started := clockStart.Add(-time.Hour)
	in.Started = &started
	inc := e.create(t, in)
	id := inc.ID
	e.clock.Advance(time.Minute)

	same := incident.Patch{
		Title:        ptr("  " + inc.Title + " "),
		Type:         ptr(string(inc.Type)),
		Severity:     ptr(inc.Severity),
		Priority:     ptr(inc.Priority),
		Summary:      ptr(inc.Summary),
		Entities:     &inc.Entities,
		ATLAS:        &inc.ATLAS,
		Owner:        ptr(inc.Owner),
		Participants: &inc.Participants,
		Impact:       &inc.Impact,
		RootCause:    ptr(""),
		Recovery:     &store.Recovery{},
		Review:       &store.Review{},
		// The same instants, in another zone and with the nanoseconds the
		// store drops.
		Milestones: &incident.MilestonePatch{
			Started:  ptr(started.In(time.FixedZone("X", -7*3600))),
			Detected: ptr(inc.Milestones.Detected.Add(999 * time.Nanosecond)),
		},
	}
	for _, p := range []struct {
		name  string
		patch incident.Patch
	}{
		{"empty patch", incident.Patch{}},
		{"same values", same},
		{"same milestones only", incident.Patch{Milestones: same.Milestones}},
	} {
		t.Run(p.name, func(t *testing.T) {
			before := snapshot(t, e.get(t, id))
			got, err := e.svc.Update(e.ctx, alice, id, inc.Version, p.patch)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if after := snapshot(t, e.get(t, id)); after != before {
				t.Errorf("no-op patch changed the incident:\nbefore %s\nafter  %s", before, after)
			}
			if got.Version != inc.Version {
				t.Errorf("Version = %d, want %d", got.Version, inc.Version)
			}
			if tl := e.timeline(t, id); len(tl) != 1 {
				t.Errorf("no-op patch added %d timeline entries; last %s %s", len(tl)-1, tl[len(tl)-1].Kind, tl[len(tl)-1].Body)
			}
		})
	}
	e.verifyOK(t, id)
}

func TestUpdateRefused(t *testing.T) {
	e := newEnv(t)
	in := basic()
	in.Owner = "alice" // acknowledged now
	id := e.create(t, in).ID
	now := clockStart
	e.clock.Advance(time.Minute)

	for _, tc := range []struct {
		name  string
		patch incident.Patch
		want  []string
	}{
		{"started after detected", incident.Patch{Milestones: &incident.MilestonePatch{Started: ptr(now.Add(30 * time.Second))}},
			[]string{"milestones.detected", "is before milestones.started"}},
		{"detected after acknowledged", incident.Patch{Milestones: &incident.MilestonePatch{Detected: ptr(now.Add(30 * time.Second))}},
			[]string{"milestones.acknowledged", "is before milestones.detected"}},
		{"empty title", incident.Patch{Title: ptr("")}, []string{"title: required"}},
		{"unknown type", incident.Patch{Type: ptr("nope")}, []string{"type:"}},
		{"bad severity", incident.Patch{Severity: ptr(event.Severity(0))}, []string{"severity:"}},
		{"priority zero", incident.Patch{Priority: ptr(0)}, []string{"priority: 0"}},
		{"bad entity", incident.Patch{Entities: &[]event.Entity{{Kind: "x", Value: "y"}}}, []string{"entities[0]"}},
		{"bad technique", incident.Patch{ATLAS: &[]string{"aml.t0051"}}, []string{"atlas[0]"}},
		{"multi-line owner", incident.Patch{Owner: ptr("a\rb")}, []string{"owner: must be one line"}},
		{"done review without summary", incident.Patch{Review: &store.Review{Done: true}}, []string{"review.summary"}},
		{"negative impact", incident.Patch{Impact: &incident.Impact{AffectedUsers: -1}}, []string{"impact.affected_users"}},
		{"all at once, valid fields not applied", incident.Patch{Summary: ptr("valid"), Title: ptr(" "), Priority: ptr(7)},
			[]string{"title: required", "priority: 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, e.get(t, id))
			auditBefore := len(e.audit(t))
			got, err := e.svc.Update(e.ctx, alice, id, 0, tc.patch)
			if got != nil {
				t.Error("Update returned an incident with an error")
			}
			ps := asValidation(t, err)
			containsAll(t, "problems", ps, tc.want)
			if after := snapshot(t, e.get(t, id)); after != before {
				t.Errorf("refused patch changed the incident:\nbefore %s\nafter  %s", before, after)
			}
			if n := len(e.audit(t)); n != auditBefore {
				t.Errorf("refused patch wrote %d audit entries", n-auditBefore)
			}
		})
	}
	e.verifyOK(t, id)
}

// Create refuses a detection time in the future; so must a correction.
func TestUpdateDetectedInTheFuture(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID // no owner: nothing after detected to order against
	before := snapshot(t, e.get(t, id))
	for _, d := range []time.Duration{2 * time.Minute, 365 * 24 * time.Hour} {
		_, err := e.svc.Update(e.ctx, alice, id, 0, incident.Patch{Milestones: &incident.MilestonePatch{Detected: ptr(clockStart.Add(d))}})
		containsAll(t, "problems", asValidation(t, err), []string{"milestones.detected: in the future"})
	}
	if after := snapshot(t, e.get(t, id)); after != before {
		t.Errorf("refused patch changed the incident")
	}
	// Within the clock-skew allowance Create grants, it is accepted.
	e.update(t, id, incident.Patch{Milestones: &incident.MilestonePatch{Detected: ptr(clockStart.Add(30 * time.Second))}})
	e.verifyOK(t, id)
}

func TestOwnerStampsAcknowledgedOnce(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID

	e.clock.Advance(time.Minute)
	got := e.update(t, id, incident.Patch{Summary: ptr("no owner yet")})
	if got.Milestones.Acknowledged != nil {
		t.Fatalf("Acknowledged = %s before anyone owns the incident", fmtOpt(got.Milestones.Acknowledged))
	}
	ack := e.clock.Advance(time.Minute)
	got = e.update(t, id, incident.Patch{Owner: ptr("alice")})
	if !timeEq(got.Milestones.Acknowledged, ack) {
		t.Fatalf("Acknowledged = %s, want %s", fmtOpt(got.Milestones.Acknowledged), ack)
	}
	for _, owner := range []string{"bob", "", "carol"} {
		e.clock.Advance(time.Minute)
		got = e.update(t, id, incident.Patch{Owner: ptr(owner)})
		if got.Owner != owner || !timeEq(got.Milestones.Acknowledged, ack) {
			t.Errorf("after owner %q: owner %q, acknowledged %s, want %s", owner, got.Owner, fmtOpt(got.Milestones.Acknowledged), ack)
		}
	}
	if s := e.get(t, id); !timeEq(s.Milestones.Acknowledged, ack) {
		t.Errorf("stored Acknowledged = %s, want %s", fmtOpt(s.Milestones.Acknowledged), ack)
	}
	e.verifyOK(t, id)
}
