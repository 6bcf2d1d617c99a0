package event

import "time"

// Alert is what a detector raises: what was seen, how sure it is, which
// ATLAS techniques it is, and the evidence that proves it.
type Alert struct {
	ID         string        `json:"id"`
	Time       time.Time     `json:"time"`
	Detector   string        `json:"detector"` // e.g. "promptinject"
	Rule       string        `json:"rule"`     // the detector's rule or signal, e.g. "pi.ignore_previous"
	Type       string        `json:"type"`     // incident type id, e.g. "instruction_injection"
	ATLAS      []string      `json:"atlas"`
	Severity   Severity      `json:"severity"`
	Confidence float64       `json:"confidence"` // 0..1
	Summary    string        `json:"summary"`
	Entities   []Entity      `json:"entities"`
	Evidence   AlertEvidence `json:"evidence"`
	// Fingerprint identifies "the same alert again" (detector, rule and
	// entities), for de-duplication.
	Fingerprint string `json:"fingerprint"`
}

// AlertEvidence points at what triggered an alert.
type AlertEvidence struct {
	EventIDs []string `json:"event_ids"`
	Excerpt  string   `json:"excerpt,omitempty"` // bounded, redacted where it may hold secrets
}
