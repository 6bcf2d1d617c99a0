package store

import (
	"encoding/json"
	"time"
)

// ModelVersion is one registered version of a model: what its files were
// when it was registered, what the scanner and the signature check said,
// and what the latest verification found. Package registry owns the rules
// (immutability, who may be deployed); here it is only data.
type ModelVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Path is where the model was registered from (absolute); verification
	// re-reads it unless told otherwise.
	Path string `json:"path"`
	// ManifestDigest identifies the content: SHA-256 over every file's
	// path, digest and size (see package registry). Never changes.
	ManifestDigest string `json:"manifest_digest"`
	// SigningDigest is model-signing's subject digest over the same files
	// (their digests only, in path order): equal to the sha256 subject of
	// a model-signing signature of exactly these files.
	SigningDigest string      `json:"signing_digest"`
	Files         []ModelFile `json:"files"`
	// IgnorePaths were left out of the manifest (besides the defaults) and
	// are left out again at every verification.
	IgnorePaths []string       `json:"ignore_paths,omitempty"`
	Scan        ModelScan      `json:"scan"`
	Signature   ModelSignature `json:"signature"`
	// Metrics are the baseline metrics given at registration: a JSON
	// object whose leaves are numbers, or null.
	Metrics      json.RawMessage `json:"metrics,omitempty"`
	RegisteredAt time.Time       `json:"registered_at"`
	RegisteredBy string          `json:"registered_by"`
	Deployed     bool            `json:"deployed"`
	// LastVerify is the latest verification, nil before the first.
	LastVerify *ModelVerification `json:"last_verify,omitempty"`
	// Alerted is the state (see ModelVerification.State) the integrity
	// monitor last raised an alert for; "" when it has none outstanding.
	Alerted string `json:"alerted,omitempty"`
	// Revision counts updates, for optimistic concurrency as Incident.Version.
	Revision int64 `json:"revision"`
}

// ModelFile is one file of a model version.
type ModelFile struct {
	Path   string `json:"path"` // relative, slash-separated
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ModelScan summarises the scanner's report at registration.
type ModelScan struct {
	Verdict    string `json:"verdict"` // clean, suspicious, error, dangerous
	Dangerous  int    `json:"dangerous"`
	Error      int    `json:"error"`
	Suspicious int    `json:"suspicious"`
	Clean      int    `json:"clean"`
	// Findings are the findings that are not informational, worst first,
	// at most a bounded number (Truncated says some were left out).
	Findings  []ModelFinding `json:"findings"`
	Truncated bool           `json:"truncated,omitempty"`
}

// ModelFinding is one scanner finding in one file.
type ModelFinding struct {
	File     string `json:"file"`
	Severity string `json:"severity"`
	Module   string `json:"module,omitempty"`
	Name     string `json:"name,omitempty"`
	Reason   string `json:"reason"`
}

// ModelSignature is the outcome of the signature check at registration.
type ModelSignature struct {
	// Status is "none" (no signature given), "valid", "invalid", or
	// "not_verified" (a Sigstore bundle that checks out offline but whose
	// transparency log could not be verified).
	Status        string    `json:"status"`
	Bundle        string    `json:"bundle,omitempty"`
	Kind          string    `json:"kind,omitempty"` // key, certificate, sigstore-unverified
	Subject       string    `json:"subject,omitempty"`
	Issuer        string    `json:"issuer,omitempty"`
	KeyHint       string    `json:"key_hint,omitempty"`
	Identities    []string  `json:"identities,omitempty"`
	SubjectDigest string    `json:"subject_digest,omitempty"`
	NotVerified   []string  `json:"not_verified,omitempty"`
	Error         string    `json:"error,omitempty"`
	CheckedAt     time.Time `json:"checked_at"`
}

// ModelVerification is one re-hash of a model version's files.
type ModelVerification struct {
	At   time.Time `json:"at"`
	Path string    `json:"path"`
	// Result is "ok", "mismatch" (files changed, missing or added) or
	// "error" (the model could not be read; Error says why).
	Result  string   `json:"result"`
	Changed []string `json:"changed,omitempty"`
	Missing []string `json:"missing,omitempty"`
	Added   []string `json:"added,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// ModelVersionFilter selects model versions; empty fields match all.
// Lists are ordered by name, then registration time, then version.
type ModelVersionFilter struct {
	Name     string
	Deployed bool // only versions marked deployed
}

// ModelEvent is one entry of a model version's history: registered,
// verified, mismatch, deployed, undeployed...
type ModelEvent struct {
	Seq     int64             `json:"seq"` // assigned by the store, increasing
	Name    string            `json:"name"`
	Version string            `json:"version"`
	At      time.Time         `json:"at"`
	Kind    string            `json:"kind"`
	Actor   string            `json:"actor"`
	Detail  map[string]string `json:"detail,omitempty"`
}
