// Package intelmatch raises an alert when traffic matches a threat-intel
// indicator: a known-hostile address, a leaked or stolen API key, or a
// known attack prompt. The indicators come from imported feeds
// (internal/intel); the detector reads whatever set is in force now.
package intelmatch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/intel"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Name is the detector's name in alerts.
const Name = "intel"

// Rules, one per field an indicator matched.
const (
	RuleIP     = "intel.ip"
	RuleAPIKey = "intel.api_key"
	RulePrompt = "intel.prompt"
	RuleModel  = "intel.model_hash"
)

// kinds maps the matched field to the rule, incident type and the
// technique used when the indicator names none of that type's.
var kinds = map[string]struct{ rule, typ, atlas string }{
	intel.FieldIP:         {RuleIP, "api_endpoint_attack", "AML.T0040"},
	intel.FieldAPIKeyHash: {RuleAPIKey, "authentication_bypass", "AML.T0012"},
	intel.FieldPrompt:     {RulePrompt, "instruction_injection", "AML.T0051"},
	fieldModelHash:        {RuleModel, "supply_chain", "AML.T0010"},
}

// fieldModelHash names a model file's SHA-256 in a model_registry event's
// attrs.sha256 (several separated by spaces).
const fieldModelHash = "sha256"

// Detector matches events against the indicators in force.
type Detector struct{ set func() *intel.Set }

var _ detect.Detector = (*Detector)(nil)

// New returns a detector reading the set set returns (intel.Service.Set).
func New(set func() *intel.Set) *Detector { return &Detector{set: set} }

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	set := d.set()
	if set == nil || set.Len() == 0 {
		return
	}
	hits := set.MatchEvent(ev)
	if ev.Kind == "model_registry" {
		for _, sum := range strings.Fields(ev.Attrs[fieldModelHash]) {
			for _, ind := range set.MatchModelHash(sum) {
				if ind.ActiveAt(ev.Time) {
					hits = append(hits, intel.Hit{Indicator: ind, Field: fieldModelHash, Excerpt: sum})
				}
			}
		}
	}
	for _, h := range hits {
		k, ok := kinds[h.Field]
		if !ok {
			continue
		}
		ind := h.Indicator
		ents := detect.Entities(ev)
		conf := ind.Confidence
		if conf <= 0 || conf > 1 {
			conf = intel.DefaultConfidence
		}
		sev := ind.Severity
		if !sev.Valid() {
			sev = intel.DefaultSeverity
		}
		src := ind.Source
		if src == "" {
			src = "an imported feed"
		}
		out.Raise(event.Alert{
			Time: ev.Time, Detector: Name, Rule: k.rule, Type: k.typ, ATLAS: techniques(k.typ, ind.ATLAS, k.atlas),
			Severity: sev, Confidence: conf,
			Summary:     fmt.Sprintf("%s matches %s indicator %s from %s", h.Field, ind.Type, ind.ID, src),
			Entities:    ents,
			Evidence:    event.AlertEvidence{EventIDs: []string{ev.ID}, Excerpt: detect.Excerpt(h.Excerpt, 0, len(h.Excerpt))},
			Fingerprint: detect.Fingerprint(Name, k.rule+"/"+ind.ID, subject(ev)),
		})
	}
}

// techniques keeps the indicator's ATLAS ids that belong to the incident
// type; with none, the type's default.
func techniques(typ string, ids []string, fallback string) []string {
	t, err := taxonomy.LookupType(typ)
	if err != nil {
		return []string{fallback}
	}
	var out []string
	for _, id := range ids {
		if slices.ContainsFunc(t.ATLAS, func(tq taxonomy.Technique) bool { return tq.ID == id }) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		out = []string{fallback}
	}
	return out
}

// subject is the caller an alert is about, or the model version, for
// de-duplication.
func subject(ev *event.Event) []event.Entity {
	if c, ok := detect.Caller(ev); ok {
		return []event.Entity{c}
	}
	version := ev.ModelVersion
	if version == "" {
		version = ev.Attrs["version"]
	}
	return []event.Entity{{Kind: event.EntityModel, Value: detect.EntityValue(ev.Model)}, {Kind: event.EntityModelVersion, Value: detect.EntityValue(version)}}
}
