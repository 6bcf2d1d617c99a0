package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// The types callers work with are the persisted records.
type (
	Incident      = store.Incident
	TimelineEntry = store.TimelineEntry
	Task          = store.Task
	Evidence      = store.Evidence
	Milestones    = store.Milestones
	Impact        = store.Impact
)

// Actor is who does something: a token's name and role, and the address the
// request came from.
type Actor struct {
	Name string
	Role string
	Addr string
}

// Service runs the incident rules over a store and an evidence blob store.
type Service struct {
	st    store.Store
	blobs *Blobs
	now   func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a service over st and blobs.
func NewService(st store.Store, blobs *Blobs, opts ...Option) *Service {
	s := &Service{st: st, blobs: blobs, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// clock returns the current time as stored: UTC, microsecond precision (what
// every backend keeps exactly, so hashes recompute identically).
func (s *Service) clock() time.Time { return normTime(s.now()) }

func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// write runs fn in a read-write transaction and records the audit entry for
// it in the same transaction.
func (s *Service) write(ctx context.Context, a Actor, action, target string, fn func(tx store.Tx) (detail any, err error)) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		detail, err := fn(tx)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if detail != nil {
			if raw, err = json.Marshal(detail); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{
			At: s.clock(), Actor: a.Name, Role: a.Role, Addr: a.Addr,
			Action: action, Target: target, Detail: raw,
		})
	})
}

// appendEntry adds one entry to the incident's chain. When inc is non-nil its
// state digest is recorded in the body, so that the incident record itself is
// covered by the chain (see Verify).
func (s *Service) appendEntry(ctx context.Context, tx store.Tx, inc *Incident, incidentID string, a Actor, kind string, body map[string]any) (*TimelineEntry, error) {
	head, err := tx.GetIncident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	at := s.clock()
	if inc != nil {
		if body == nil {
			body = map[string]any{}
		}
		body["state_sha256"] = stateDigest(inc)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	e := &TimelineEntry{
		IncidentID: incidentID, Seq: head.TimelineLen + 1, At: at,
		Actor: a.Name, Kind: kind, Body: raw, PrevHash: head.TimelineHead,
	}
	e.Hash = timelineHash(e)
	if err := tx.AppendTimeline(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// stateDigest hashes the incident's content, leaving out what the store
// maintains (version, timeline head).
func stateDigest(inc *Incident) string {
	c := *inc
	c.Version, c.TimelineLen, c.TimelineHead = 0, 0, ""
	b, err := json.Marshal(&c)
	if err != nil {
		panic(fmt.Sprintf("incident %s does not marshal: %v", inc.ID, err)) // only plain data: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Get returns one incident.
func (s *Service) Get(ctx context.Context, id string) (*Incident, error) {
	var inc *Incident
	err := s.st.View(ctx, func(tx store.Tx) (err error) {
		inc, err = tx.GetIncident(ctx, id)
		return err
	})
	return inc, err
}

// List returns a page of incidents, newest first.
func (s *Service) List(ctx context.Context, f store.IncidentFilter) ([]*Incident, string, error) {
	var out []*Incident
	var next string
	err := s.st.View(ctx, func(tx store.Tx) (err error) {
		out, next, err = tx.ListIncidents(ctx, f)
		return err
	})
	return out, next, err
}

// Timeline returns the entries after afterSeq, at most limit (0: all).
func (s *Service) Timeline(ctx context.Context, id string, afterSeq int64, limit int) ([]*TimelineEntry, error) {
	var out []*TimelineEntry
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetIncident(ctx, id); err != nil {
			return err
		}
		var err error
		out, err = tx.ListTimeline(ctx, id, afterSeq, limit)
		return err
	})
	return out, err
}

// loadForUpdate reads the incident in tx and checks an If-Match version
// (0 means the caller did not ask).
func loadForUpdate(ctx context.Context, tx store.Tx, id string, ifVersion int64) (*Incident, error) {
	inc, err := tx.GetIncident(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && inc.Version != ifVersion {
		return nil, fmt.Errorf("incident %s is at version %d, not %d: %w", id, inc.Version, ifVersion, ErrPrecondition)
	}
	return inc, nil
}

// saveWithEntry stores the changed incident and the timeline entry that
// records the change.
func (s *Service) saveWithEntry(ctx context.Context, tx store.Tx, inc *Incident, a Actor, kind string, body map[string]any) error {
	inc.UpdatedAt = s.clock()
	if err := tx.UpdateIncident(ctx, inc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w (changed concurrently, retry)", err)
		}
		return err
	}
	_, err := s.appendEntry(ctx, tx, inc, inc.ID, a, kind, body)
	if err != nil {
		return err
	}
	// The timeline append moved the head; reflect it in the returned copy.
	head, err := tx.GetIncident(ctx, inc.ID)
	if err != nil {
		return err
	}
	inc.TimelineLen, inc.TimelineHead = head.TimelineLen, head.TimelineHead
	return nil
}

// Transition moves the incident to phase to. Forward moves go one phase at a
// time and need the current phase's exit criteria; backward moves (a
// recurrence, a reopened incident) need a reason in note.
func (s *Service) Transition(ctx context.Context, a Actor, id string, to taxonomy.Phase, note string) (*Incident, error) {
	if !to.Valid() {
		_, err := taxonomy.ParsePhase(string(to))
		return nil, &ValidationError{Problems: []string{err.Error()}}
	}
	if err := checkText("note", note, maxNote, false); err != nil {
		return nil, err
	}
	var out *Incident
	err := s.write(ctx, a, "incident.transition", id, func(tx store.Tx) (any, error) {
		inc, err := tx.GetIncident(ctx, id)
		if err != nil {
			return nil, err
		}
		tasks, err := tx.ListTasks(ctx, id)
		if err != nil {
			return nil, err
		}
		from := inc.Phase
		if unmet := transitionUnmet(inc, tasks, to, note); len(unmet) > 0 {
			return nil, &CriteriaError{From: from, To: to, Unmet: unmet}
		}
		now := s.clock()
		applyMilestones(inc, from, to, now)
		inc.Phase = to
		audit := map[string]any{"from": from, "to": to}
		body := map[string]any{"from": from, "to": to}
		if note != "" {
			body["note"] = note
		}
		if err := s.saveWithEntry(ctx, tx, inc, a, KindPhaseChanged, body); err != nil {
			return nil, err
		}
		out = inc
		return audit, nil
	})
	return out, err
}
