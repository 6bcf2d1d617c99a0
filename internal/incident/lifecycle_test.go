package incident_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// transitionRefused asserts that moving id to `to` is refused with a
// CriteriaError whose Unmet has exactly len(want) entries, each mentioning
// the matching want, and that the refusal changed nothing.
func (e *env) transitionRefused(t *testing.T, id string, to taxonomy.Phase, note string, want ...string) *incident.CriteriaError {
	t.Helper()
	before := e.get(t, id)
	auditBefore := len(e.audit(t))
	inc, err := e.svc.Transition(e.ctx, alice, id, to, note)
	if inc != nil {
		t.Errorf("Transition returned an incident with an error")
	}
	ce := asCriteria(t, err)
	if ce.From != before.Phase || ce.To != to {
		t.Errorf("CriteriaError From, To = %s, %s; want %s, %s", ce.From, ce.To, before.Phase, to)
	}
	if len(ce.Unmet) != len(want) {
		t.Errorf("Unmet has %d entries, want %d:\n\t%s", len(ce.Unmet), len(want), strings.Join(ce.Unmet, "\n\t"))
	}
	containsAll(t, "Unmet", ce.Unmet, want)
	after := e.get(t, id)
	if after.Phase != before.Phase || after.Version != before.Version || after.TimelineLen != before.TimelineLen {
		t.Errorf("refused transition changed the incident: phase %s→%s, version %d→%d, timeline %d→%d",
			before.Phase, after.Phase, before.Version, after.Version, before.TimelineLen, after.TimelineLen)
	}
	if n := len(e.audit(t)); n != auditBefore {
		t.Errorf("refused transition wrote %d audit entries", n-auditBefore)
	}
	return ce
}

func (e *env) transition(t *testing.T, id string, to taxonomy.Phase, note string) *incident.Incident {
	t.Helper()
	before := e.get(t, id)
	inc, err := e.svc.Transition(e.ctx, alice, id, to, note)
	if err != nil {
		t.Fatalf("Transition %s→%s: %v", before.Phase, to, err)
	}
	if inc.Phase != to {
		t.Fatalf("Phase = %s after moving to %s", inc.Phase, to)
	}
	stored := e.get(t, id)
	if stored.Phase != to || stored.Version != before.Version+1 || stored.TimelineLen != before.TimelineLen+1 {
		t.Errorf("stored after transition: phase %s, version %d (was %d), timeline %d (was %d)",
			stored.Phase, stored.Version, before.Version, stored.TimelineLen, before.TimelineLen)
	}
	if inc.Version != stored.Version || inc.TimelineHead != stored.TimelineHead {
		t.Errorf("returned incident version/head %d/%s, stored %d/%s", inc.Version, inc.TimelineHead, stored.Version, stored.TimelineHead)
	}
	tl := e.timeline(t, id)
	last := tl[len(tl)-1]
	var body map[string]any
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if last.Kind != incident.KindPhaseChanged || body["from"] != string(before.Phase) || body["to"] != string(to) {
		t.Errorf("last entry = %s %s, want phase_changed from %s to %s", last.Kind, last.Body, before.Phase, to)
	}
	if note != "" && body["note"] != note {
		t.Errorf("phase_changed body %s does not record the note", last.Body)
	}
	e.verifyOK(t, id)
	return inc
}

func TestLifecycleFullWalk(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, basic())
	id := inc.ID
	detected := e.clock.Stored()
	e.verifyOK(t, id)

	var stamps struct{ ack, contained, eradicated, recovered, closed time.Time }

	// detection → containment: owner and summary.
	e.clock.Advance(time.Minute)
	e.transitionRefused(t, id, taxonomy.PhaseContainment, "", "owner", "summary")
	stamps.ack = e.clock.Advance(time.Minute)
	e.update(t, id, incident.Patch{Owner: ptr("alice")})
	e.verifyOK(t, id)
	e.transitionRefused(t, id, taxonomy.PhaseContainment, "", "summary")
	e.clock.Advance(time.Minute)
	e.update(t, id, incident.Patch{Summary: ptr("Repeated DAN-style prompts from one key.")})
	e.verifyOK(t, id)
	e.clock.Advance(time.Minute)
	got := e.transition(t, id, taxonomy.PhaseContainment, "")
	if !timeEq(got.Milestones.Acknowledged, stamps.ack) {
		t.Errorf("Acknowledged = %s, want the time the owner was set, %s", fmtOpt(got.Milestones.Acknowledged), stamps.ack)
	}
	if got.Milestones.Contained != nil {
		t.Errorf("Contained stamped on entering containment: %s", fmtOpt(got.Milestones.Contained))
	}

	// containment → eradication: a measure in force or a waiver.
	e.clock.Advance(time.Minute)
	e.transitionRefused(t, id, taxonomy.PhaseEradication, "", "containment")
	// Contained is stamped when the first measure takes effect, not when
	// the phase is left.
	stamps.contained = e.clock.Stored()
	e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "blocked the key at the gateway", Ref: "block-k_3f9a"})
	e.verifyOK(t, id)
	e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseEradication, "")
	if !timeEq(got.Milestones.Contained, stamps.contained) {
		t.Errorf("Contained = %s, want %s", fmtOpt(got.Milestones.Contained), stamps.contained)
	}

	// eradication → recovery: root cause.
	e.clock.Advance(time.Minute)
	e.transitionRefused(t, id, taxonomy.PhaseRecovery, "", "root_cause")
	e.update(t, id, incident.Patch{RootCause: ptr("   ")})
	e.transitionRefused(t, id, taxonomy.PhaseRecovery, "", "root_cause")
	e.update(t, id, incident.Patch{RootCause: ptr("System prompt did not pin the refusal policy.")})
	e.verifyOK(t, id)
	stamps.eradicated = e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseRecovery, "")
	if !timeEq(got.Milestones.Eradicated, stamps.eradicated) {
		t.Errorf("Eradicated = %s, want %s", fmtOpt(got.Milestones.Eradicated), stamps.eradicated)
	}

	// recovery → lessons_learned: integrity verified and validation passed.
	e.clock.Advance(time.Minute)
	e.transitionRefused(t, id, taxonomy.PhaseLessonsLearned, "", "recovery.integrity_verified", "recovery.validation_passed")
	e.update(t, id, incident.Patch{Recovery: &store.Recovery{IntegrityVerified: true}})
	e.transitionRefused(t, id, taxonomy.PhaseLessonsLearned, "", "recovery.validation_passed")
	e.update(t, id, incident.Patch{Recovery: &store.Recovery{ValidationPassed: true}})
	e.transitionRefused(t, id, taxonomy.PhaseLessonsLearned, "", "recovery.integrity_verified")
	e.update(t, id, incident.Patch{Recovery: &store.Recovery{IntegrityVerified: true, ValidationPassed: true}})
	e.verifyOK(t, id)
	stamps.recovered = e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseLessonsLearned, "")
	if !timeEq(got.Milestones.Recovered, stamps.recovered) {
		t.Errorf("Recovered = %s, want %s", fmtOpt(got.Milestones.Recovered), stamps.recovered)
	}

	// lessons_learned → closed: review done, every live action item owned.
	e.clock.Advance(time.Minute)
	item, err := e.svc.CreateTask(e.ctx, alice, id, incident.TaskInput{Title: ptr("Pin refusal policy in every system prompt"), Kind: ptr(incident.TaskActionItem)})
	if err != nil {
		t.Fatal(err)
	}
	// Neither a plain task nor a cancelled action item needs an owner.
	if _, err := e.svc.CreateTask(e.ctx, alice, id, incident.TaskInput{Title: ptr("Write the report")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateTask(e.ctx, alice, id, incident.TaskInput{Title: ptr("Buy a WAF"), Kind: ptr(incident.TaskActionItem), Status: ptr(incident.TaskCancelled)}); err != nil {
		t.Fatal(err)
	}
	e.verifyOK(t, id)
	ce := e.transitionRefused(t, id, taxonomy.PhaseClosed, "", "review.done", "action item "+item.ID)
	containsAll(t, "Unmet", ce.Unmet, []string{"has no owner", "Pin refusal policy"})
	e.update(t, id, incident.Patch{Review: &store.Review{Done: true, Summary: "Held on Friday; two action items."}})
	e.transitionRefused(t, id, taxonomy.PhaseClosed, "", "action item "+item.ID)
	if _, err := e.svc.UpdateTask(e.ctx, alice, id, item.ID, item.Version, incident.TaskInput{Owner: ptr("bob")}); err != nil {
		t.Fatal(err)
	}
	e.verifyOK(t, id)
	stamps.closed = e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseClosed, "")

	m := got.Milestones
	for _, c := range []struct {
		name string
		got  *time.Time
		want time.Time
	}{
		{"detected", m.Detected, detected},
		{"acknowledged", m.Acknowledged, stamps.ack},
		{"contained", m.Contained, stamps.contained},
		{"eradicated", m.Eradicated, stamps.eradicated},
		{"recovered", m.Recovered, stamps.recovered},
		{"closed", m.Closed, stamps.closed},
	} {
		if !timeEq(c.got, c.want) {
			t.Errorf("milestone %s = %s, want %s", c.name, fmtOpt(c.got), c.want.Format(time.RFC3339Nano))
		}
	}
	if !(detected.Before(stamps.ack) && stamps.ack.Before(stamps.contained) && stamps.contained.Before(stamps.eradicated) &&
		stamps.eradicated.Before(stamps.recovered) && stamps.recovered.Before(stamps.closed)) {
		t.Errorf("milestones out of order: %+v", stamps)
	}
	// The stored record agrees with what Transition returned.
	if s := e.get(t, id); !timeEq(s.Milestones.Closed, stamps.closed) || s.Phase != taxonomy.PhaseClosed {
		t.Errorf("stored: phase %s, closed %s", s.Phase, fmtOpt(s.Milestones.Closed))
	}

	// Nothing moves forward from closed.
	e.transitionRefused(t, id, taxonomy.PhaseClosed, "", "already in closed")

	// Reopen: closed is cleared, the rest is kept, and closing again
	// stamps the new time.
	e.transitionRefused(t, id, taxonomy.PhaseLessonsLearned, "", "note: moving back from closed to lessons_learned needs a reason")
	e.transitionRefused(t, id, taxonomy.PhaseLessonsLearned, "  \n ", "note")
	e.clock.Advance(time.Hour)
	got = e.transition(t, id, taxonomy.PhaseLessonsLearned, "review missed a second key")
	if got.Milestones.Closed != nil {
		t.Errorf("Closed = %s after reopening, want cleared", fmtOpt(got.Milestones.Closed))
	}
	if !timeEq(got.Milestones.Recovered, stamps.recovered) || !timeEq(got.Milestones.Contained, stamps.contained) ||
		!timeEq(got.Milestones.Acknowledged, stamps.ack) || !timeEq(got.Milestones.Eradicated, stamps.eradicated) {
		t.Errorf("reopening changed earlier milestones: %+v", got.Milestones)
	}
	reclosed := e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseClosed, "")
	if !timeEq(got.Milestones.Closed, reclosed) {
		t.Errorf("Closed = %s after closing again, want %s", fmtOpt(got.Milestones.Closed), reclosed)
	}

	// A recurrence: back several phases with a note keeps every earlier
	// milestone and does not restamp them on the way forward again.
	e.clock.Advance(time.Hour)
	got = e.transition(t, id, taxonomy.PhaseContainment, "the attacker came back with a new key")
	if got.Milestones.Closed != nil || !timeEq(got.Milestones.Contained, stamps.contained) {
		t.Errorf("after reopening to containment: %+v", got.Milestones)
	}
	e.clock.Advance(time.Minute)
	got = e.transition(t, id, taxonomy.PhaseEradication, "")
	if !timeEq(got.Milestones.Contained, stamps.contained) {
		t.Errorf("Contained restamped to %s, want the first time %s", fmtOpt(got.Milestones.Contained), stamps.contained)
	}

	// The phase_changed entries tell the whole story.
	var moves []string
	for _, en := range e.timeline(t, id) {
		if en.Kind != incident.KindPhaseChanged {
			continue
		}
		var b struct{ From, To string }
		json.Unmarshal(en.Body, &b)
		moves = append(moves, b.From+">"+b.To)
	}
	want := "detection>containment containment>eradication eradication>recovery recovery>lessons_learned " +
		"lessons_learned>closed closed>lessons_learned lessons_learned>closed closed>containment containment>eradication"
	if g := strings.Join(moves, " "); g != want {
		t.Errorf("phase moves:\n got %s\nwant %s", g, want)
	}
}

// ready returns an incident in phase `at` whose exit criteria are all met.
func (e *env) ready(t *testing.T, at taxonomy.Phase) string {
	t.Helper()
	in := basic()
	in.Owner = "alice"
	in.Summary = "analysis"
	id := e.create(t, in).ID
	e.update(t, id, incident.Patch{
		ContainmentWaiver: ptr("the key was already revoked upstream"),
		RootCause:         ptr("leaked key"),
		Recovery:          &store.Recovery{IntegrityVerified: true, ValidationPassed: true},
		Review:            &store.Review{Done: true, Summary: "done"},
	})
	for _, p := range taxonomy.Phases()[1 : at.Index()+1] {
		e.clock.Advance(time.Second)
		if _, err := e.svc.Transition(e.ctx, alice, id, p, ""); err != nil {
			t.Fatalf("walk to %s: %v", p, err)
		}
	}
	return id
}

func TestTransitionRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   taxonomy.Phase
		to   taxonomy.Phase
		note string
		want []string
	}{
		{"skip detection to eradication", taxonomy.PhaseDetection, taxonomy.PhaseEradication, "", []string{"cannot skip containment; the next phase after detection is containment"}},
		{"skip detection to closed", taxonomy.PhaseDetection, taxonomy.PhaseClosed, "", []string{"skip containment, eradication, recovery, lessons_learned"}},
		{"skip with a note is still a skip", taxonomy.PhaseContainment, taxonomy.PhaseRecovery, "trust me", []string{"skip eradication"}},
		{"skip from recovery to closed", taxonomy.PhaseRecovery, taxonomy.PhaseClosed, "", []string{"skip lessons_learned"}},
		{"same phase", taxonomy.PhaseDetection, taxonomy.PhaseDetection, "", []string{"already in detection"}},
		{"same phase with a note", taxonomy.PhaseEradication, taxonomy.PhaseEradication, "again", []string{"already in eradication"}},
		{"backward without note", taxonomy.PhaseEradication, taxonomy.PhaseContainment, "", []string{"note: moving back from eradication to containment needs a reason"}},
		{"backward with a blank note", taxonomy.PhaseRecovery, taxonomy.PhaseDetection, " \t", []string{"note:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.ready(t, tc.at)
			e.transitionRefused(t, id, tc.to, tc.note, tc.want...)
			e.verifyOK(t, id)
		})
	}

	t.Run("skip also lists the current phase's unmet criteria", func(t *testing.T) {
		e := newEnv(t)
		id := e.create(t, basic()).ID
		ce := e.transitionRefused(t, id, taxonomy.PhaseEradication, "", "skip containment", "owner", "summary")
		if !strings.Contains(ce.Unmet[0], "skip") {
			t.Errorf("the skip is not the first reason: %q", ce.Unmet)
		}
	})

	t.Run("backward with a note is accepted", func(t *testing.T) {
		e := newEnv(t)
		id := e.ready(t, taxonomy.PhaseRecovery)
		before := e.get(t, id).Milestones
		got := e.transition(t, id, taxonomy.PhaseContainment, "integrity check failed again")
		m := got.Milestones
		if !timeEq(m.Contained, *before.Contained) || !timeEq(m.Eradicated, *before.Eradicated) || !timeEq(m.Acknowledged, *before.Acknowledged) {
			t.Errorf("milestones changed by a backward move: before %+v after %+v", before, m)
		}
	})

	t.Run("unknown phase", func(t *testing.T) {
		e := newEnv(t)
		id := e.create(t, basic()).ID
		for _, p := range []taxonomy.Phase{"triage", "", "Containment", "closed "} {
			_, err := e.svc.Transition(e.ctx, alice, id, p, "note")
			ps := asValidation(t, err)
			containsAll(t, "problems", ps, []string{"unknown phase", "detection, containment"})
		}
		if got := e.get(t, id); got.Phase != taxonomy.PhaseDetection || got.TimelineLen != 1 {
			t.Errorf("unknown phase changed the incident: %+v", got)
		}
		if n := len(e.audit(t)); n != 1 {
			t.Errorf("audit has %d entries, want 1 (the create)", n)
		}
		e.verifyOK(t, id)
	})

	t.Run("bad note", func(t *testing.T) {
		e := newEnv(t)
		id := e.ready(t, taxonomy.PhaseEradication)
		_, err := e.svc.Transition(e.ctx, alice, id, taxonomy.PhaseDetection, "bad \xff note")
		containsAll(t, "problems", asValidation(t, err), []string{"note: not valid UTF-8"})
	})

	t.Run("unknown incident", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.Transition(e.ctx, alice, "01900000-0000-7000-8000-000000000000", taxonomy.PhaseContainment, "")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want store.ErrNotFound", err)
		}
	})
}

func TestContainmentCriterionFollowsMeasuresInForce(t *testing.T) {
	e := newEnv(t)
	in := basic()
	in.Owner, in.Summary = "alice", "analysis"
	id := e.create(t, in).ID
	e.transition(t, id, taxonomy.PhaseContainment, "")

	e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "rate limit", Ref: "rl-1"})
	e.append(t, id, incident.Entry{Kind: incident.KindContainmentLifted, Text: "limit removed, it hurt customers", Ref: "rl-1"})
	// The measure was lifted: nothing is in force any more.
	e.transitionRefused(t, id, taxonomy.PhaseEradication, "", "containment")

	// A waiver alone is enough.
	e.update(t, id, incident.Patch{ContainmentWaiver: ptr("key already revoked by the provider")})
	e.transition(t, id, taxonomy.PhaseEradication, "")
}
