package incident

import (
	"context"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

// Task kinds and statuses.
const (
	TaskKindTask   = "task"
	TaskActionItem = "action_item"

	TaskOpen       = "open"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskCancelled  = "cancelled"
)

var (
	taskKinds    = []string{TaskKindTask, TaskActionItem}
	taskStatuses = []string{TaskOpen, TaskInProgress, TaskDone, TaskCancelled}
)

const maxTasksPerIncident = 1000

// TaskInput creates or changes a task; nil fields are left alone on change.
type TaskInput struct {
	Title  *string    `json:"title"`
	Kind   *string    `json:"kind"`
	Status *string    `json:"status"`
	Owner  *string    `json:"owner"`
	Due    *time.Time `json:"due"`
}

func oneOf(p *problems, field string, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.addf("%s: %q is not one of %v", field, v, allowed)
}

func (in *TaskInput) apply(t *Task) (changed []string, err error) {
	var p problems
	if in.Title != nil {
		checkTextInto(&p, "title", *in.Title, maxTitle, true)
		if *in.Title != t.Title {
			t.Title = *in.Title
			changed = append(changed, "title")
		}
	}
	if in.Kind != nil {
		oneOf(&p, "kind", *in.Kind, taskKinds)
		if *in.Kind != t.Kind {
			t.Kind = *in.Kind
			changed = append(changed, "kind")
		}
	}
	if in.Status != nil {
		oneOf(&p, "status", *in.Status, taskStatuses)
		if *in.Status != t.Status {
			t.Status = *in.Status
			changed = append(changed, "status")
		}
	}
	if in.Owner != nil {
		checkName(&p, "owner", *in.Owner, false)
		if *in.Owner != t.Owner {
			t.Owner = *in.Owner
			changed = append(changed, "owner")
		}
	}
	if in.Due != nil {
		checkTime(&p, "due", in.Due)
		d := normTime(*in.Due)
		if t.Due == nil || !t.Due.Equal(d) {
			t.Due = &d
			changed = append(changed, "due")
		}
	}
	return changed, p.err()
}

// CreateTask adds a task to an incident.
func (s *Service) CreateTask(ctx context.Context, a Actor, incidentID string, in TaskInput) (*Task, error) {
	now := s.clock()
	t := &Task{ID: newID(), IncidentID: incidentID, Kind: TaskKindTask, Status: TaskOpen, CreatedAt: now, CreatedBy: a.Name, UpdatedAt: now}
	if in.Title == nil {
		return nil, invalid("title: required")
	}
	if _, err := in.apply(t); err != nil {
		return nil, err
	}
	err := s.write(ctx, a, "incident.task.create", incidentID, func(tx store.Tx) (any, error) {
		existing, err := tx.ListTasks(ctx, incidentID)
		if err != nil {
			return nil, err
		}
		if len(existing) >= maxTasksPerIncident {
			return nil, invalid("tasks: an incident holds at most %d", maxTasksPerIncident)
		}
		if _, err := tx.GetIncident(ctx, incidentID); err != nil {
			return nil, err
		}
		if err := tx.CreateTask(ctx, t); err != nil {
			return nil, err
		}
		_, err = s.appendEntry(ctx, tx, nil, incidentID, a, KindTaskCreated, map[string]any{
			"task": t.ID, "title": t.Title, "kind": t.Kind, "owner": t.Owner,
		})
		return map[string]any{"task": t.ID}, err
	})
	return t, err
}

// UpdateTask changes a task; ifVersion, when not 0, must match.
func (s *Service) UpdateTask(ctx context.Context, a Actor, incidentID, taskID string, ifVersion int64, in TaskInput) (*Task, error) {
	var out *Task
	err := s.write(ctx, a, "incident.task.update", incidentID+"/"+taskID, func(tx store.Tx) (any, error) {
		t, err := tx.GetTask(ctx, incidentID, taskID)
		if err != nil {
			return nil, err
		}
		if ifVersion != 0 && ifVersion != t.Version {
			return nil, ErrPrecondition
		}
		changed, err := in.apply(t)
		if err != nil {
			return nil, err
		}
		out = t
		if len(changed) == 0 {
			return map[string]any{"changed": changed}, nil
		}
		t.UpdatedAt = s.clock()
		if err := tx.UpdateTask(ctx, t); err != nil {
			return nil, err
		}
		_, err = s.appendEntry(ctx, tx, nil, incidentID, a, KindTaskUpdated, map[string]any{
			"task": t.ID, "changed": changed, "status": t.Status, "owner": t.Owner,
		})
		return map[string]any{"changed": changed}, err
	})
	return out, err
}

// Tasks lists an incident's tasks.
func (s *Service) Tasks(ctx context.Context, incidentID string) ([]*Task, error) {
	var out []*Task
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetIncident(ctx, incidentID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListTasks(ctx, incidentID)
		return err
	})
	return out, err
}
