package incident_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

func TestTasks(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID

	now := e.clock.Advance(time.Minute)
	due := clockStart.Add(48*time.Hour + 123)
	task, err := e.svc.CreateTask(e.ctx, alice, id, incident.TaskInput{Title: ptr("Rotate every key"), Owner: ptr("bob"), Due: &due})
	if err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	if task.Kind != incident.TaskKindTask || task.Status != incident.TaskOpen || task.Owner != "bob" || task.Version != 1 ||
		task.IncidentID != id || task.CreatedBy != alice.Name || !task.CreatedAt.Equal(now) || !timeEq(task.Due, due.UTC().Truncate(time.Microsecond)) {
		t.Errorf("task = %+v", task)
	}
	tl := e.timeline(t, id)
	last := tl[len(tl)-1]
	var body map[string]any
	json.Unmarshal(last.Body, &body)
	if last.Kind != incident.KindTaskCreated || body["task"] != task.ID || body["owner"] != "bob" {
		t.Errorf("last entry %s %s", last.Kind, last.Body)
	}

	// A stale version is refused and changes nothing.
	if _, err := e.svc.UpdateTask(e.ctx, alice, id, task.ID, task.Version+1, incident.TaskInput{Status: ptr(incident.TaskDone)}); !errors.Is(err, incident.ErrPrecondition) {
		t.Errorf("stale UpdateTask: err = %v, want ErrPrecondition", err)
	}
	upd, err := e.svc.UpdateTask(e.ctx, alice, id, task.ID, task.Version, incident.TaskInput{Status: ptr(incident.TaskInProgress), Owner: ptr("carol")})
	if err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	if upd.Version != 2 || upd.Status != incident.TaskInProgress || upd.Owner != "carol" {
		t.Errorf("updated task = %+v", upd)
	}
	tl = e.timeline(t, id)
	json.Unmarshal(tl[len(tl)-1].Body, &body)
	if tl[len(tl)-1].Kind != incident.KindTaskUpdated || body["status"] != incident.TaskInProgress || body["owner"] != "carol" {
		t.Errorf("last entry %s %s", tl[len(tl)-1].Kind, tl[len(tl)-1].Body)
	}
	// A no-op change writes no entry.
	n := len(tl)
	if _, err := e.svc.UpdateTask(e.ctx, alice, id, task.ID, 0, incident.TaskInput{Owner: ptr("carol"), Due: &due}); err != nil {
		t.Fatal(err)
	}
	if got := len(e.timeline(t, id)); got != n {
		t.Errorf("no-op task update added %d entries", got-n)
	}

	for _, tc := range []struct {
		name string
		in   incident.TaskInput
		want []string
	}{
		{"no title", incident.TaskInput{}, []string{"title: required"}},
		{"blank title", incident.TaskInput{Title: ptr(" ")}, []string{"title: required"}},
		{"unknown kind", incident.TaskInput{Title: ptr("x"), Kind: ptr("chore")}, []string{`kind: "chore"`}},
		{"unknown status", incident.TaskInput{Title: ptr("x"), Status: ptr("blocked")}, []string{`status: "blocked"`}},
		{"multi-line owner", incident.TaskInput{Title: ptr("x"), Owner: ptr("a\nb")}, []string{"owner: must be one line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateTask(e.ctx, alice, id, tc.in)
			containsAll(t, "problems", asValidation(t, err), tc.want)
		})
	}
	if _, err := e.svc.UpdateTask(e.ctx, alice, id, task.ID, 0, incident.TaskInput{Status: ptr("blocked")}); err == nil {
		t.Error("UpdateTask accepted an unknown status")
	} else {
		asValidation(t, err)
	}

	tasks, err := e.svc.Tasks(e.ctx, id)
	if err != nil || len(tasks) != 1 || tasks[0].ID != task.ID || tasks[0].Status != incident.TaskInProgress {
		t.Errorf("Tasks = %+v, %v", tasks, err)
	}

	unknown := "01900000-0000-7000-8000-000000000000"
	if _, err := e.svc.CreateTask(e.ctx, alice, unknown, incident.TaskInput{Title: ptr("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateTask on an unknown incident: err = %v", err)
	}
	if _, err := e.svc.UpdateTask(e.ctx, alice, id, unknown, 0, incident.TaskInput{Title: ptr("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTask of an unknown task: err = %v", err)
	}
	// A task is reached only through its own incident.
	other := e.create(t, basic()).ID
	if _, err := e.svc.UpdateTask(e.ctx, alice, other, task.ID, 0, incident.TaskInput{Title: ptr("hijack")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTask through another incident: err = %v", err)
	}
	if _, err := e.svc.Tasks(e.ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tasks of an unknown incident: err = %v", err)
	}
	var actions []string
	for _, a := range e.audit(t) {
		actions = append(actions, a.Action)
	}
	if c := countOf(actions, "incident.task.create"); c != 1 {
		t.Errorf("%d task.create audit entries, want 1 (refusals write none)", c)
	}
	e.verifyOK(t, id)
}

func countOf(ss []string, s string) int {
	n := 0
	for i := range ss {
		if ss[i] == s {
			n++
		}
	}
	return n
}
