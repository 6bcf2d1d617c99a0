// Package modelevents turns what model registries and pipelines report
// into alerts: a model artefact found dangerous by a scan, a signature that
// does not verify, a deployed model whose files changed. The events come
// from Airlock's own registry and from other systems through
// POST /api/v1/events (kind "model_registry").
package modelevents

import (
	"fmt"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// Name is the detector's name in alerts.
const Name = "model"

// The rules.
const (
	RuleDangerous = "model.dangerous_artifact" // a scan found code execution or a denied gadget
	RuleSignature = "model.signature_invalid"  // a signature did not verify
	RuleIntegrity = "model.integrity_mismatch" // a registered version's files changed
)

// Kind is the event kind the detector reads.
const Kind = "model_registry"

// Attributes of a model_registry event.
const (
	AttrVersion  = "version"      // the model version, when the event's model_version is empty
	AttrScan     = "scan_verdict" // dangerous, suspicious, clean or error
	AttrSig      = "signature"    // valid, invalid, unverified or none
	AttrVerify   = "verify"       // ok or mismatch
	AttrFindings = "findings"     // a short description of what was found
)

// Detector raises alerts from model_registry events.
type Detector struct{}

var _ detect.Detector = Detector{}

// Name implements detect.Detector.
func (Detector) Name() string { return Name }

// Observe implements detect.Detector.
func (Detector) Observe(ev *event.Event, out detect.Sink) {
	if ev.Kind != Kind {
		return
	}
	version := ev.ModelVersion
	if version == "" {
		version = ev.Attrs[AttrVersion]
	}
	ents := []event.Entity{}
	for _, e := range []event.Entity{{Kind: event.EntityModel, Value: ev.Model}, {Kind: event.EntityModelVersion, Value: version}} {
		if e.Value = detect.EntityValue(e.Value); e.Value != "" {
			ents = append(ents, e)
		}
	}
	what := fmt.Sprintf("%s version %s", orUnknown(ev.Model), orUnknown(version))
	findings := ev.Attrs[AttrFindings]
	raise := func(rule, typ string, atlas []string, sev event.Severity, conf float64, summary string) {
		out.Raise(event.Alert{
			Time: ev.Time, Detector: Name, Rule: rule, Type: typ, ATLAS: atlas, Severity: sev, Confidence: conf,
			Summary:     summary,
			Entities:    ents,
			Evidence:    event.AlertEvidence{EventIDs: []string{ev.ID}, Excerpt: detect.Excerpt(findings, 0, len(findings))},
			Fingerprint: detect.Fingerprint(Name, rule, ents),
		})
	}
	if ev.Attrs[AttrScan] == "dangerous" {
		raise(RuleDangerous, "supply_chain", []string{"AML.T0010", "AML.T0011.000"}, event.SeverityCritical, 0.95,
			fmt.Sprintf("%s: a scan of its files found code that runs when the model is loaded (from %s)", what, orUnknown(ev.Source)))
	}
	if ev.Attrs[AttrSig] == "invalid" {
		raise(RuleSignature, "supply_chain", []string{"AML.T0010"}, event.SeverityHigh, 0.9,
			fmt.Sprintf("%s: its signature does not verify (from %s)", what, orUnknown(ev.Source)))
	}
	if ev.Attrs[AttrVerify] == "mismatch" {
		raise(RuleIntegrity, "weight_manipulation", []string{"AML.T0018.000"}, event.SeverityCritical, 0.9,
			fmt.Sprintf("%s: its files no longer match what was registered (from %s)", what, orUnknown(ev.Source)))
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
