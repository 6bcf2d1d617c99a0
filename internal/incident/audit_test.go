package incident_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Every write leaves exactly one audit entry saying who did what to what,
// from where and when.
func TestAuditOnePerWrite(t *testing.T) {
	e := newEnv(t)
	actors := []incident.Actor{alice, bob, {Name: "gateway-1", Role: "gateway", Addr: "10.0.0.5"}}
	var (
		id, taskID, sha string
		n               int
	)
	for _, tc := range []struct {
		name   string
		action string
		target func() string
		detail string // a fragment the detail must hold, if any
		write  func(a incident.Actor) error
	}{
		{"create", "incident.create", func() string { return id }, `"type":"jailbreak"`, func(a incident.Actor) error {
			in := basic()
			in.Summary = "s"
			inc, err := e.svc.Create(e.ctx, a, in)
			if err == nil {
				id = inc.ID
			}
			return err
		}},
		{"update", "incident.update", func() string { return id }, `"changed":["owner"]`, func(a incident.Actor) error {
			_, err := e.svc.Update(e.ctx, a, id, 0, incident.Patch{Owner: ptr("alice")})
			return err
		}},
		{"no-op update is still a write", "incident.update", func() string { return id }, `"changed":null`, func(a incident.Actor) error {
			_, err := e.svc.Update(e.ctx, a, id, 0, incident.Patch{Owner: ptr("alice")})
			return err
		}},
		{"transition", "incident.transition", func() string { return id }, `"to":"containment"`, func(a incident.Actor) error {
			_, err := e.svc.Transition(e.ctx, a, id, taxonomy.PhaseContainment, "")
			return err
		}},
		{"append note", "incident.timeline.note", func() string { return id }, `"kind":"note"`, func(a incident.Actor) error {
			_, err := e.svc.Append(e.ctx, a, id, incident.Entry{Kind: incident.KindNote, Text: "n"})
			return err
		}},
		{"append containment", "incident.timeline.containment", func() string { return id }, `"ref":"r1"`, func(a incident.Actor) error {
			_, err := e.svc.Append(e.ctx, a, id, incident.Entry{Kind: incident.KindContainment, Text: "c", Ref: "r1"})
			return err
		}},
		{"append containment_lifted", "incident.timeline.containment_lifted", func() string { return id }, `"ref":"r1"`, func(a incident.Actor) error {
			_, err := e.svc.Append(e.ctx, a, id, incident.Entry{Kind: incident.KindContainmentLifted, Text: "l", Ref: "r1"})
			return err
		}},
		{"task create", "incident.task.create", func() string { return id }, `"task":`, func(a incident.Actor) error {
			task, err := e.svc.CreateTask(e.ctx, a, id, incident.TaskInput{Title: ptr("t")})
			if err == nil {
				taskID = task.ID
			}
			return err
		}},
		{"task update", "incident.task.update", func() string { return id + "/" + taskID }, `"changed":["status"]`, func(a incident.Actor) error {
			_, err := e.svc.UpdateTask(e.ctx, a, id, taskID, 0, incident.TaskInput{Status: ptr(incident.TaskDone)})
			return err
		}},
		{"evidence attach", "incident.evidence.attach", func() string { return id }, `"name":"x.log"`, func(a incident.Actor) error {
			ev, err := e.svc.AttachEvidence(e.ctx, a, id, incident.EvidenceInput{Name: "x.log", MaxBytes: 100}, strings.NewReader("x"))
			if err == nil {
				sha = ev.SHA256
			}
			return err
		}},
		{"evidence open", "evidence.accessed", func() string { return sha }, "", func(a incident.Actor) error {
			f, err := e.svc.OpenEvidence(e.ctx, a, sha, incident.CustodyAccessed)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{"evidence export", "evidence.exported", func() string { return sha }, "", func(a incident.Actor) error {
			f, err := e.svc.OpenEvidence(e.ctx, a, sha, incident.CustodyExported)
			if err == nil {
				f.Close()
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := actors[n%len(actors)]
			n++
			at := e.clock.Advance(time.Minute)
			before := e.audit(t)
			if err := tc.write(a); err != nil {
				t.Fatalf("write: %v", err)
			}
			after := e.audit(t)
			if len(after) != len(before)+1 {
				t.Fatalf("audit grew by %d entries, want 1", len(after)-len(before))
			}
			got := after[0] // newest first
			if got.Action != tc.action || got.Target != tc.target() || got.Actor != a.Name || got.Role != a.Role || got.Addr != a.Addr || !got.At.Equal(at) {
				t.Errorf("audit entry = {action %q target %q actor %q role %q addr %q at %s}; want {%q %q %q %q %q %s}",
					got.Action, got.Target, got.Actor, got.Role, got.Addr, got.At, tc.action, tc.target(), a.Name, a.Role, a.Addr, at)
			}
			if len(before) > 0 && got.ID <= before[0].ID {
				t.Errorf("audit id %d does not follow %d", got.ID, before[0].ID)
			}
			if tc.detail != "" && !strings.Contains(string(got.Detail), tc.detail) {
				t.Errorf("detail %s does not hold %s", got.Detail, tc.detail)
			}
			if len(got.Detail) > 0 && !json.Valid(got.Detail) {
				t.Errorf("detail is not JSON: %s", got.Detail)
			}
		})
	}
	e.verifyOK(t, id)
}
