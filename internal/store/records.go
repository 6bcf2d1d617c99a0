package store

import (
	"encoding/json"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Incident is the persisted incident aggregate. Its rules live in package
// incident; here it is only data.
type Incident struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Type     taxonomy.TypeID   `json:"type"`
	Category taxonomy.Category `json:"category"`
	Severity event.Severity    `json:"severity"`
	Priority int               `json:"priority"` // 1 (most urgent) to 4
	// Risk is the responder's score (0-100) from the incident's alerts; see
	// docs/playbooks.md for the formula. Lists can be ordered by it.
	Risk         float64        `json:"risk"`
	Phase        taxonomy.Phase `json:"phase"`
	Summary      string         `json:"summary"`
	Entities     []event.Entity `json:"entities"`
	ATLAS        []string       `json:"atlas"`
	Owner        string         `json:"owner"`
	Participants []string       `json:"participants"`
	Milestones   Milestones     `json:"milestones"`
	Impact       Impact         `json:"impact"`

	// Facts the phase exit criteria are checked against.
	Containment       []Containment `json:"containment"`        // measures in force
	ContainmentWaiver string        `json:"containment_waiver"` // why none is needed
	RootCause         string        `json:"root_cause"`
	Recovery          Recovery      `json:"recovery"`
	Review            Review        `json:"review"`

	// The timeline's head: its length and the hash of its last entry. Kept on
	// the incident so that removing trailing entries is detectable.
	TimelineLen  int64  `json:"timeline_len"`
	TimelineHead string `json:"timeline_head"`

	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Milestones are the moments the IR metrics are computed from. Nil means
// not reached yet.
type Milestones struct {
	Started      *time.Time `json:"started"`
	Detected     *time.Time `json:"detected"`
	Acknowledged *time.Time `json:"acknowledged"`
	Contained    *time.Time `json:"contained"`
	Eradicated   *time.Time `json:"eradicated"`
	Recovered    *time.Time `json:"recovered"`
	Closed       *time.Time `json:"closed"`
}

// Impact is what the incident cost the organisation.
type Impact struct {
	AffectedUsers  int64   `json:"affected_users"`
	DataExposed    string  `json:"data_exposed"`
	BusinessImpact string  `json:"business_impact"`
	Cost           float64 `json:"cost"`
	Currency       string  `json:"currency"`
}

// Containment is one containment measure in force for an incident: a
// gateway policy action, or something a responder did by hand.
type Containment struct {
	Ref     string    `json:"ref"`
	Summary string    `json:"summary"`
	Since   time.Time `json:"since"`
	By      string    `json:"by"`
}

// Recovery records the checks that must pass before recovery can end.
type Recovery struct {
	IntegrityVerified bool `json:"integrity_verified"`
	ValidationPassed  bool `json:"validation_passed"`
}

// Review is the post-incident review.
type Review struct {
	Done    bool   `json:"done"`
	Summary string `json:"summary"`
}

// IncidentFilter selects incidents; empty fields match everything. Results
// are newest first. Cursor is the NextCursor of the previous page.
type IncidentFilter struct {
	Phase    taxonomy.Phase
	Type     taxonomy.TypeID
	Severity event.Severity
	Open     bool // only incidents not closed
	ByRisk   bool // highest risk first (then newest) instead of newest first
	Limit    int
	Cursor   string // opaque: from the previous page
}

// TimelineEntry is one link of an incident's hash chain. Body holds the exact
// JSON bytes that were hashed.
type TimelineEntry struct {
	IncidentID string          `json:"incident_id"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Kind       string          `json:"kind"`
	Body       json.RawMessage `json:"body"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// Blob is one content-addressed evidence file.
type Blob struct {
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	// The blob's custody chain head, as for the incident's timeline.
	CustodyLen  int64  `json:"custody_len"`
	CustodyHead string `json:"custody_head"`
}

// Evidence is a blob attached to an incident, with its metadata.
type Evidence struct {
	ID          string    `json:"id"`
	IncidentID  string    `json:"incident_id"`
	SHA256      string    `json:"sha256"`
	Name        string    `json:"name"`
	MediaType   string    `json:"media_type"`
	Size        int64     `json:"size"`
	Source      string    `json:"source"`
	CollectedBy string    `json:"collected_by"`
	CollectedAt time.Time `json:"collected_at"`
}

// Custody is one entry in a blob's chain of custody, hash-chained per blob.
type Custody struct {
	SHA256     string    `json:"sha256"`
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	IncidentID string    `json:"incident_id,omitempty"`
	Addr       string    `json:"addr,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Task is work for a person. Action items are the tasks that come out of the
// post-incident review.
type Task struct {
	ID         string     `json:"id"`
	IncidentID string     `json:"incident_id"`
	Title      string     `json:"title"`
	Kind       string     `json:"kind"`   // "task" or "action_item"
	Status     string     `json:"status"` // "open", "in_progress", "done", "cancelled"
	Owner      string     `json:"owner"`
	Due        *time.Time `json:"due"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Version    int64      `json:"version"`
}

// Token is an API credential. Only its hash is stored.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	LastUsed  *time.Time `json:"last_used"`
	Revoked   *time.Time `json:"revoked"`
}

// AuditEntry records one write: who, what, when, from where.
type AuditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Role   string          `json:"role"`
	Addr   string          `json:"addr"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// AuditFilter pages through the audit log, newest first.
type AuditFilter struct {
	Actor  string
	Action string
	Limit  int
	Cursor string
}

// Technique is one imported ATLAS technique.
type Technique struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Parent  string   `json:"parent,omitempty"`
	Tactics []string `json:"tactics,omitempty"`
}

// PolicyAction is one stored containment action; Doc is its JSON.
type PolicyAction struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Doc       json.RawMessage `json:"doc"`
}

// Alert is a stored detector alert with what analysts said of it.
type Alert struct {
	event.Alert
	Count    int64     `json:"count"`     // times raised: duplicates add to it
	LastSeen time.Time `json:"last_seen"` // time of the latest duplicate
	Verdict  string    `json:"verdict"`   // "", "true_positive", "false_positive", "benign"
	Note     string    `json:"note"`
	JudgedBy string    `json:"judged_by"`
	Incident string    `json:"incident"` // set when the alert joins an incident
	Version  int64     `json:"version"`
}

// AlertFilter selects alerts, newest first.
type AlertFilter struct {
	Detector    string
	Type        string
	Severity    event.Severity
	Verdict     string // "none" for alerts without one
	Fingerprint string
	Limit       int
	Cursor      string
}

// Suppression silences alerts with a fingerprint an analyst judged a
// false positive.
type Suppression struct {
	Fingerprint string    `json:"fingerprint"`
	AlertID     string    `json:"alert_id"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Note        string    `json:"note"`
}

// IntelFeed is one imported threat-intelligence feed.
type IntelFeed struct {
	Name       string    `json:"name"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy string    `json:"imported_by"`
	SHA256     string    `json:"sha256"` // of the file as imported
	Count      int       `json:"count"`
}

// IntelIndicator is one indicator of a feed, as stored.
type IntelIndicator struct {
	Feed  string          `json:"feed"`
	Seq   int             `json:"seq"`
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Doc   json.RawMessage `json:"doc"`
}
