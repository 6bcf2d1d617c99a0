package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors, for errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict") // an optimistic-concurrency version or a unique key did not match
	ErrInvalid  = errors.New("invalid")  // a malformed argument such as a cursor
)

// Store is a backend. Update runs fn in a read-write transaction that
// commits when fn returns nil and rolls back otherwise; View runs fn in a
// read-only one. Writers are serialised per incident at least, so a
// read-modify-write inside Update sees no concurrent change.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is everything a transaction can do. Consumers should declare the
// subset they need.
type Tx interface {
	CreateIncident(ctx context.Context, inc *Incident) error
	GetIncident(ctx context.Context, id string) (*Incident, error)
	// UpdateIncident replaces the incident if its stored version equals
	// inc.Version, then increments inc.Version. Otherwise ErrConflict.
	UpdateIncident(ctx context.Context, inc *Incident) error
	ListIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, string, error)
	ListIncidentIDs(ctx context.Context) ([]string, error)

	AppendTimeline(ctx context.Context, e *TimelineEntry) error
	// LastTimelineEntry returns ErrNotFound for an incident with no entries.
	LastTimelineEntry(ctx context.Context, incidentID string) (*TimelineEntry, error)
	// ListTimeline returns entries in seq order from afterSeq+1, at most limit (0: all).
	ListTimeline(ctx context.Context, incidentID string, afterSeq int64, limit int) ([]*TimelineEntry, error)

	PutBlob(ctx context.Context, b *Blob) error // no-op if the digest is known
	GetBlob(ctx context.Context, sha256 string) (*Blob, error)
	ListBlobs(ctx context.Context) ([]*Blob, error)
	AttachEvidence(ctx context.Context, ev *Evidence) error
	ListEvidence(ctx context.Context, incidentID string) ([]*Evidence, error)
	ListEvidenceByBlob(ctx context.Context, sha256 string) ([]*Evidence, error)
	AppendCustody(ctx context.Context, c *Custody) error
	ListCustody(ctx context.Context, sha256 string) ([]*Custody, error)

	CreateTask(ctx context.Context, t *Task) error
	GetTask(ctx context.Context, incidentID, id string) (*Task, error)
	UpdateTask(ctx context.Context, t *Task) error // same versioning as UpdateIncident
	ListTasks(ctx context.Context, incidentID string) ([]*Task, error)

	CreateToken(ctx context.Context, t *Token) error
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	ListTokens(ctx context.Context) ([]*Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	AppendAudit(ctx context.Context, a *AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, string, error)

	// Policy actions are kept as opaque JSON documents: the store does not
	// know the policy's rules. Every change bumps the version.
	PutPolicyAction(ctx context.Context, a *PolicyAction) error // ErrConflict if the id exists
	DeletePolicyAction(ctx context.Context, id string) error    // ErrNotFound if absent
	ListPolicyActions(ctx context.Context) ([]*PolicyAction, error)
	PolicyVersion(ctx context.Context) (int64, error)
	BumpPolicyVersion(ctx context.Context) (int64, error)

	CreateAlert(ctx context.Context, a *Alert) error
	GetAlert(ctx context.Context, id string) (*Alert, error)
	UpdateAlert(ctx context.Context, a *Alert) error // same versioning as UpdateIncident
	ListAlerts(ctx context.Context, f AlertFilter) ([]*Alert, string, error)
	// CountVerdicts counts alerts by verdict ("" for none), for the
	// false-positive rate.
	CountVerdicts(ctx context.Context) (map[string]int64, error)
	PutSuppression(ctx context.Context, s *Suppression) error // replaces one with the same fingerprint
	DeleteSuppression(ctx context.Context, fingerprint string) error
	ListSuppressions(ctx context.Context) ([]*Suppression, error)

	// Threat-intelligence feeds: indicators are opaque JSON documents with
	// their type and value indexed. ReplaceIntelFeed swaps a feed's
	// indicators for new ones (the feed is created if new).
	ReplaceIntelFeed(ctx context.Context, f *IntelFeed, indicators []IntelIndicator) error
	DeleteIntelFeed(ctx context.Context, name string) error // ErrNotFound if absent
	ListIntelFeeds(ctx context.Context) ([]*IntelFeed, error)
	// ListIntelIndicators returns one feed's indicators ("": every feed),
	// in import order, a page at a time.
	ListIntelIndicators(ctx context.Context, feed string, limit int, cursor string) ([]IntelIndicator, string, error)

	// ReplaceTechniques swaps the imported ATLAS catalogue for a new one.
	ReplaceTechniques(ctx context.Context, version string, ts []Technique) error
	ListTechniques(ctx context.Context) (version string, ts []Technique, err error)

	// Model versions are keyed by name and version: creating one that
	// exists is ErrConflict. UpdateModelVersion has UpdateIncident's
	// versioning (on Revision) and also refuses, with ErrConflict, an
	// update that changes the manifest digest: content is immutable.
	CreateModelVersion(ctx context.Context, mv *ModelVersion) error
	GetModelVersion(ctx context.Context, name, version string) (*ModelVersion, error)
	UpdateModelVersion(ctx context.Context, mv *ModelVersion) error
	ListModelVersions(ctx context.Context, f ModelVersionFilter) ([]*ModelVersion, error)
	// AppendModelEvent assigns e.Seq. ListModelEvents returns a version's
	// history oldest first.
	AppendModelEvent(ctx context.Context, e *ModelEvent) error
	ListModelEvents(ctx context.Context, name, version string) ([]*ModelEvent, error)
}
