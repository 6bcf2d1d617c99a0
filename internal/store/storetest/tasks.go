package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var taskTests = []subtest{
	{"RoundTrip", testTaskRoundTrip},
	{"DuplicateID", testTaskDuplicate},
	{"GetUnknown", testTaskGetUnknown},
	{"Update", testTaskUpdate},
	{"UpdateStale", testTaskUpdateStale},
	{"UpdateUnknown", testTaskUpdateUnknown},
	{"ListPerIncident", testTaskList},
}

func newTask(t *testing.T, incidentID, title string) *store.Task {
	return &store.Task{
		ID: newID(t), IncidentID: incidentID, Title: title, Kind: "task", Status: "open",
		Owner: "alice", CreatedAt: at(time.Minute), CreatedBy: "bob", UpdatedAt: at(time.Minute),
	}
}

func createTasks(t *testing.T, s store.Store, ts ...*store.Task) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, task := range ts {
			if err := tx.CreateTask(t.Context(), task); err != nil {
				return err
			}
		}
		return nil
	})
}

func getTask(t *testing.T, s store.Store, incidentID, id string) *store.Task {
	t.Helper()
	var task *store.Task
	view(t, s, func(tx store.Tx) (err error) {
		task, err = tx.GetTask(t.Context(), incidentID, id)
		return err
	})
	return task
}

func testTaskRoundTrip(t *testing.T, s store.Store) {
	inc := createIncidents(t, s, 1)[0]
	withDue := newTask(t, inc, "Rotate the upstream credential")
	withDue.Kind, withDue.Status = "action_item", "in_progress"
	withDue.Due = ptr(at(72*time.Hour + 123456*time.Microsecond))
	noDue := newTask(t, inc, "Write the customer notice")
	createTasks(t, s, withDue, noDue)
	if withDue.Version < 1 {
		t.Errorf("CreateTask set Version %d, want at least 1", withDue.Version)
	}

	got := getTask(t, s, inc, withDue.ID)
	deepEqual(t, "GetTask", got, withDue)
	sameOptTime(t, "Due", got.Due, withDue.Due)
	sameTime(t, "CreatedAt", got.CreatedAt, withDue.CreatedAt)

	got = getTask(t, s, inc, noDue.ID)
	deepEqual(t, "GetTask without a due time", got, noDue)
	if got.Due != nil {
		t.Errorf("Due = %v, want none", got.Due)
	}
}

func testTaskDuplicate(t *testing.T, s store.Store) {
	inc := createIncidents(t, s, 1)[0]
	task := newTask(t, inc, "first")
	createTasks(t, s, task)
	dup := *task
	dup.Title = "second"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateTask(t.Context(), &dup) })
	wantErr(t, "CreateTask with a used id", err, store.ErrConflict)
	if got := getTask(t, s, inc, task.ID); got.Title != "first" {
		t.Errorf("task after the refused duplicate: %q, want %q", got.Title, "first")
	}
}

func testTaskGetUnknown(t *testing.T, s store.Store) {
	incs := createIncidents(t, s, 2)
	task := newTask(t, incs[0], "a task")
	createTasks(t, s, task)
	for _, c := range []struct{ what, incident, id string }{
		{"an unknown task", incs[0], newID(t)},
		{"a task of another incident", incs[1], task.ID},
		{"a task of an unknown incident", newID(t), task.ID},
	} {
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.GetTask(t.Context(), c.incident, c.id)
			return err
		})
		wantErr(t, "GetTask of "+c.what, err, store.ErrNotFound)
	}
}

func testTaskUpdate(t *testing.T, s store.Store) {
	inc := createIncidents(t, s, 1)[0]
	task := newTask(t, inc, "Contain the key")
	createTasks(t, s, task)

	got := getTask(t, s, inc, task.ID)
	v := got.Version
	got.Status, got.Owner, got.Title = "done", "carol", "Contained the key"
	got.Due = ptr(at(time.Hour + time.Microsecond))
	got.UpdatedAt = at(2 * time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.UpdateTask(t.Context(), got) })
	if got.Version != v+1 {
		t.Errorf("UpdateTask left Version %d, want %d", got.Version, v+1)
	}
	deepEqual(t, "task after UpdateTask", getTask(t, s, inc, task.ID), got)

	got.Due = nil
	update(t, s, func(tx store.Tx) error { return tx.UpdateTask(t.Context(), got) })
	if after := getTask(t, s, inc, task.ID); after.Due != nil || after.Version != v+2 {
		t.Errorf("after clearing Due: Due %v, Version %d; want none and %d", after.Due, after.Version, v+2)
	}
}

func testTaskUpdateStale(t *testing.T, s store.Store) {
	inc := createIncidents(t, s, 1)[0]
	task := newTask(t, inc, "original")
	createTasks(t, s, task)

	fresh, stale := getTask(t, s, inc, task.ID), getTask(t, s, inc, task.ID)
	fresh.Title = "first writer"
	update(t, s, func(tx store.Tx) error { return tx.UpdateTask(t.Context(), fresh) })

	staleVersion := stale.Version
	stale.Title = "second writer"
	var uerr error
	update(t, s, func(tx store.Tx) error {
		uerr = tx.UpdateTask(t.Context(), stale)
		return nil // commit whatever the refused update may have left
	})
	wantErr(t, "UpdateTask with a stale version", uerr, store.ErrConflict)
	if stale.Version != staleVersion {
		t.Errorf("refused UpdateTask changed the caller's Version to %d, want %d", stale.Version, staleVersion)
	}
	deepEqual(t, "task after the refused update", getTask(t, s, inc, task.ID), fresh)
}

func testTaskUpdateUnknown(t *testing.T, s store.Store) {
	incs := createIncidents(t, s, 2)
	task := newTask(t, incs[0], "never created")
	task.Version = 1
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateTask(t.Context(), task) })
	wantErr(t, "UpdateTask of an unknown task", err, store.ErrNotFound)

	// A task is addressed within its incident.
	createTasks(t, s, task)
	moved := *task
	moved.IncidentID = incs[1]
	moved.Title = "moved"
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateTask(t.Context(), &moved) })
	wantErr(t, "UpdateTask under another incident", err, store.ErrNotFound)
	if got := getTask(t, s, incs[0], task.ID); got.Title != task.Title {
		t.Errorf("task after the refused update: %q, want %q", got.Title, task.Title)
	}
}

func testTaskList(t *testing.T, s store.Store) {
	incs := createIncidents(t, s, 3)
	a := []*store.Task{newTask(t, incs[0], "one"), newTask(t, incs[0], "two"), newTask(t, incs[0], "three")}
	a[1].Due = ptr(at(time.Hour))
	b := []*store.Task{newTask(t, incs[1], "four")}
	createTasks(t, s, append(slices.Clone(a), b...)...)

	list := func(incident string) []*store.Task {
		t.Helper()
		var out []*store.Task
		view(t, s, func(tx store.Tx) (err error) {
			out, err = tx.ListTasks(t.Context(), incident)
			return err
		})
		slices.SortFunc(out, func(x, y *store.Task) int { return cmp.Compare(x.ID, y.ID) })
		return out
	}
	slices.SortFunc(a, func(x, y *store.Task) int { return cmp.Compare(x.ID, y.ID) })
	deepEqual(t, "ListTasks(first incident)", list(incs[0]), a)
	deepEqual(t, "ListTasks(second incident)", list(incs[1]), b)
	if got := list(incs[2]); len(got) != 0 {
		t.Errorf("ListTasks of an incident without tasks: %d", len(got))
	}
}
