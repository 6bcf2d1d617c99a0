package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// TestLifecycleWalk takes one incident from detection to closed through the
// API, as a responder would: every forward move is first refused with the
// criteria that are missing, then the criteria are met, then it succeeds.
func TestLifecycleWalk(t *testing.T) {
	e := newEnv(t)
	tok := e.responder()
	started := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)

	res := e.do(t, "POST", "/api/v1/incidents", tok, newIncident(map[string]any{"started": started})).want(t, http.StatusCreated)
	var fields map[string]json.RawMessage
	res.decode(t, &fields)
	for _, k := range []string{"id", "title", "type", "category", "severity", "phase", "atlas", "entities", "milestones"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("created incident has no %q: %s", k, res.body)
		}
	}
	var inc incident.Incident
	res.decode(t, &inc)
	if inc.ID == "" || inc.Title != "Jailbreak attempts against the support assistant" || inc.Type != "jailbreak" ||
		inc.Category != taxonomy.CategoryPromptInjection || inc.Severity.String() != "high" || inc.Phase != taxonomy.PhaseDetection {
		t.Errorf("created incident = %s", res.body)
	}
	if len(inc.ATLAS) == 0 {
		t.Errorf("created incident has no ATLAS techniques; want the type's defaults")
	}
	if len(inc.Entities) != 1 || inc.Entities[0].Value != "203.0.113.9" {
		t.Errorf("entities = %v", inc.Entities)
	}
	if got, want := res.header.Get("Location"), "/api/v1/incidents/"+inc.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := res.header.Get("ETag"), `"1"`; got != want || inc.Version != 1 {
		t.Errorf("ETag = %q (version %d), want %q", got, inc.Version, want)
	}
	base := "/api/v1/incidents/" + inc.ID

	patch := func(body any) *incident.Incident {
		t.Helper()
		var out incident.Incident
		e.do(t, "PATCH", base, tok, body).want(t, http.StatusOK).decode(t, &out)
		return &out
	}
	move := func(to taxonomy.Phase) *result {
		t.Helper()
		return e.do(t, "POST", base+"/transition", tok, map[string]string{"phase": string(to)})
	}
	refused := func(to taxonomy.Phase, mention ...string) *result {
		t.Helper()
		res := move(to).wantErr(t, http.StatusConflict, "unmet_criteria")
		res.detailsMention(t, mention...)
		if got := e.get(t, inc.ID).Phase; got != inc.Phase {
			t.Fatalf("a refused transition changed the phase to %s", got)
		}
		return res
	}
	advance := func(to taxonomy.Phase) {
		t.Helper()
		var out incident.Incident
		res := move(to).want(t, http.StatusOK)
		res.decode(t, &out)
		if out.Phase != to {
			t.Fatalf("after moving to %s the phase is %s", to, out.Phase)
		}
		if res.header.Get("ETag") == "" {
			t.Errorf("transition response has no ETag")
		}
		inc = out
	}

	// detection → containment needs an owner and a summary.
	res = refused(taxonomy.PhaseContainment, "owner", "summary")
	if len(res.err.Details) != 2 {
		t.Errorf("details = %q, want owner and summary only", res.err.Details)
	}
	refused(taxonomy.PhaseRecovery, "skip", "containment, eradication")
	patch(map[string]string{"owner": "rita"})
	res = refused(taxonomy.PhaseContainment, "summary")
	if len(res.err.Details) != 1 {
		t.Errorf("details = %q, want summary only once owner is set", res.err.Details)
	}
	patch(map[string]string{"summary": "Repeated DAN-style prompts from one IP."})
	// With the criteria met, skipping ahead is still refused, for the skip alone.
	res = refused(taxonomy.PhaseRecovery, "cannot skip containment, eradication")
	if len(res.err.Details) != 1 {
		t.Errorf("details = %q, want only the skip", res.err.Details)
	}
	advance(taxonomy.PhaseContainment)

	// containment → eradication needs a measure in force (or a waiver).
	refused(taxonomy.PhaseEradication, "containment")
	var entry incident.TimelineEntry
	e.do(t, "POST", base+"/timeline", tok, map[string]string{"kind": "containment", "text": "blocked 203.0.113.9 at the gateway", "ref": "block-ip-1"}).
		want(t, http.StatusCreated).decode(t, &entry)
	if entry.Kind != "containment" || entry.Actor != tokenNames["responder"] || entry.Hash == "" {
		t.Errorf("containment entry = %+v", entry)
	}
	if c := e.get(t, inc.ID).Containment; len(c) != 1 || c[0].Ref != "block-ip-1" {
		t.Errorf("containment in force = %+v, want block-ip-1", c)
	}
	advance(taxonomy.PhaseEradication)

	// eradication → recovery needs the root cause.
	refused(taxonomy.PhaseRecovery, "root_cause")
	patch(map[string]string{"root_cause": "The system prompt did not refuse role-play framings."})
	advance(taxonomy.PhaseRecovery)

	// recovery → lessons_learned needs integrity verified and validation passed.
	refused(taxonomy.PhaseLessonsLearned, "recovery.integrity_verified", "recovery.validation_passed")
	patch(map[string]any{"recovery": map[string]bool{"integrity_verified": true}})
	res = refused(taxonomy.PhaseLessonsLearned, "recovery.validation_passed")
	if len(res.err.Details) != 1 {
		t.Errorf("details = %q, want validation_passed only", res.err.Details)
	}
	patch(map[string]any{"recovery": map[string]bool{"integrity_verified": true, "validation_passed": true}})
	advance(taxonomy.PhaseLessonsLearned)

	// lessons_learned → closed needs the review done and every action item owned.
	var item incident.Task
	res = e.do(t, "POST", base+"/tasks", tok, map[string]string{"title": "Add role-play refusals to the prompt", "kind": "action_item"}).want(t, http.StatusCreated)
	res.decode(t, &item)
	itemETag := res.header.Get("ETag")
	res = refused(taxonomy.PhaseClosed, "review.done", "action item "+item.ID)
	e.do(t, "PATCH", base, tok, map[string]any{"review": map[string]any{"done": true}}).wantErr(t, http.StatusUnprocessableEntity, "invalid", "review.summary")
	patch(map[string]any{"review": map[string]any{"done": true, "summary": "Detected in minutes; containment was manual."}})
	res = refused(taxonomy.PhaseClosed, "action item "+item.ID)
	if len(res.err.Details) != 1 {
		t.Errorf("details = %q, want the unowned action item only", res.err.Details)
	}
	e.do(t, "PATCH", base+"/tasks/"+item.ID, tok, map[string]string{"owner": "sam"}, header{"If-Match", itemETag}).want(t, http.StatusOK)
	e.do(t, "POST", base+"/tasks", tok, map[string]string{"title": "Alert on DAN prompts", "kind": "action_item", "owner": "rita"}).want(t, http.StatusCreated)
	advance(taxonomy.PhaseClosed)

	// Every milestone was stamped, in order.
	m := e.get(t, inc.ID).Milestones
	seq := []struct {
		name string
		at   *time.Time
	}{
		{"started", m.Started}, {"detected", m.Detected}, {"acknowledged", m.Acknowledged}, {"contained", m.Contained},
		{"eradicated", m.Eradicated}, {"recovered", m.Recovered}, {"closed", m.Closed},
	}
	for i, s := range seq {
		if s.at == nil {
			t.Errorf("milestone %s not set", s.name)
			continue
		}
		if i > 0 && seq[i-1].at != nil && s.at.Before(*seq[i-1].at) {
			t.Errorf("milestone %s (%s) is before %s (%s)", s.name, s.at, seq[i-1].name, seq[i-1].at)
		}
	}
	if m.Started != nil && !m.Started.Equal(started) {
		t.Errorf("started = %s, want %s", m.Started, started)
	}

	// The chain verifies.
	var rep map[string]json.RawMessage
	e.do(t, "GET", base+"/verify", tok, nil).want(t, http.StatusOK).decode(t, &rep)
	if string(rep["ok"]) != "true" || string(rep["problems"]) != "[]" {
		t.Errorf("verify = ok %s, problems %s; want true, []", rep["ok"], rep["problems"])
	}

	// The timeline pages through every entry exactly once, in order, and each
	// links to the one before it.
	final := e.get(t, inc.ID)
	for _, limit := range []int{1, 3, int(final.TimelineLen), 500} {
		entries := listAll[incident.TimelineEntry](t, e, tok, base+"/timeline", limit)
		if int64(len(entries)) != final.TimelineLen {
			t.Fatalf("limit %d: %d entries, timeline_len %d", limit, len(entries), final.TimelineLen)
		}
		for i, en := range entries {
			if en.Seq != int64(i+1) {
				t.Fatalf("limit %d: entry %d has seq %d", limit, i, en.Seq)
			}
			if i > 0 && en.PrevHash != entries[i-1].Hash {
				t.Errorf("limit %d: entry %d does not link to the one before", limit, en.Seq)
			}
		}
		if entries[len(entries)-1].Hash != final.TimelineHead {
			t.Errorf("limit %d: last entry is not the timeline head", limit)
		}
		if limit != 500 {
			continue
		}
		var kinds, phases []string
		for _, en := range entries {
			kinds = append(kinds, en.Kind)
			if en.Kind == "phase_changed" {
				var b struct{ From, To string }
				json.Unmarshal(en.Body, &b)
				phases = append(phases, b.From+">"+b.To)
			}
		}
		for _, k := range []string{"created", "updated", "containment", "task_created", "task_updated", "phase_changed"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("timeline has no %s entry: %v", k, kinds)
			}
		}
		want := "detection>containment containment>eradication eradication>recovery recovery>lessons_learned lessons_learned>closed"
		if got := strings.Join(phases, " "); got != want {
			t.Errorf("phase changes = %s, want %s", got, want)
		}
	}
}

// TestTransitionBackNeedsReason: moving back (a reopened incident) needs a
// note, and a closed incident that is reopened loses its closed milestone.
func TestTransitionBack(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, map[string]any{"owner": "rita", "summary": "s"})
	base := "/api/v1/incidents/" + inc.ID
	e.do(t, "POST", base+"/transition", e.responder(), map[string]string{"phase": "containment"}).want(t, http.StatusOK)
	e.do(t, "POST", base+"/transition", e.responder(), map[string]string{"phase": "detection"}).
		wantErr(t, http.StatusConflict, "unmet_criteria").detailsMention(t, "needs a reason")
	e.do(t, "POST", base+"/transition", e.responder(), map[string]string{"phase": "containment"}).
		wantErr(t, http.StatusConflict, "unmet_criteria").detailsMention(t, "already in containment")
	e.do(t, "POST", base+"/transition", e.responder(), map[string]string{"phase": "detection", "note": "wrong call"}).want(t, http.StatusOK)
	if got := e.get(t, inc.ID).Phase; got != taxonomy.PhaseDetection {
		t.Errorf("phase = %s, want detection", got)
	}
}
