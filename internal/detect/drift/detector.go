package drift

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// Name is the detector's name in alerts.
const Name = "drift"

// The rules, as they appear in alerts.
const (
	RulePSI           = "drift.psi"
	RuleJS            = "drift.js"
	RuleVersionChange = "drift.version_change"
	RuleGolden        = "drift.golden"
	RuleTriggerToken  = "drift.trigger_token"
)

// Event kinds and attributes the detector reads.
const (
	KindRequest   = "request" // gateway traffic ("" is taken as this too)
	KindGolden    = "golden"  // the answer to a golden prompt
	SourceGolden  = "golden"
	AttrGoldenID  = "golden_id"
	maxEvidenceID = 128 // bytes of an event id kept as evidence
)

// Incident types and ATLAS techniques. Drift, a version that behaves
// unlike the one before and broken golden answers say the model is not the
// one that was validated: weight_manipulation (Poison AI Model,
// AML.T0018.000; Erode AI Model Integrity, AML.T0031). A rare token that
// flips answers is a backdoor: model_backdoor (AML.T0018.000, and Insert
// Backdoor Trigger, AML.T0043.004).
const (
	typeIntegrity = "weight_manipulation"
	typeBackdoor  = "model_backdoor"
)

var (
	atlasIntegrity = []string{"AML.T0018.000", "AML.T0031"}
	atlasBackdoor  = []string{"AML.T0018.000", "AML.T0043.004"}
)

// key is what drift is measured per: the route (or, for an event without
// one, the model) and the model version.
type key struct{ subject, version string }

// Detector is the drift and integrity detector. The engine calls Observe
// from one goroutine; the methods that read or pin references may be
// called from any goroutine, so the detector has a lock of its own.
type Detector struct {
	mu       sync.Mutex
	cfg      Config
	versions *detect.State[key, versionState]
	subjects *detect.State[string, subjectState]
	pinned   map[key]*hist

	golden  map[string]*goldenCheck
	answers *detect.State[goldenKey, goldenState]

	triggers *sketchTable
	outputs  *detect.State[outputKey, cluster]
	once     onceTable
	scratch  triggerScratch

	// last is the latest event time seen, the clock of the methods that
	// touch state outside Observe.
	last time.Time

	noPrefix bool // tests: read every prompt whole, to check that keeping openings changes nothing
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector for cfg, or the reason cfg is invalid.
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	cfg = cfg.withDefaults()
	d := &Detector{
		cfg:      cfg,
		versions: detect.NewState[key, versionState](cfg.MaxVersions, cfg.TTL),
		subjects: detect.NewState[string, subjectState](cfg.MaxSubjects, cfg.TTL),
		pinned:   make(map[key]*hist, len(cfg.Pinned)),
		golden:   make(map[string]*goldenCheck, len(cfg.Golden)),
		answers:  detect.NewState[goldenKey, goldenState](cfg.MaxGoldenAnswers, cfg.TTL),
		triggers: newSketchTable(cfg.MaxTriggerVersions, cfg.SketchWidth),
		outputs:  detect.NewState[outputKey, cluster](cfg.MaxOutputs, cfg.TTL),
		once:     newOnceTable(cfg.MaxOutputs, cfg.TTL),
		scratch:  newTriggerScratch(),
	}
	for _, r := range cfg.Pinned {
		h, _ := r.hist() // validated
		d.pinned[key{r.Subject, r.Version}] = h
	}
	d.cfg.Pinned = nil
	for _, g := range cfg.Golden {
		c := compileGolden(g)
		d.golden[g.ID] = &c
	}
	d.cfg.Golden = nil
	return d, nil
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Time.After(d.last) {
		d.last = ev.Time
	}
	switch ev.Kind {
	case KindGolden:
		d.observeGolden(ev, out)
	case KindRequest, "":
		if !hasOutput(ev) {
			return
		}
		k, ok := keyOf(ev)
		if !ok {
			return
		}
		text := detect.OutputOf(ev)
		s, vs := d.observeOutput(ev, k, text, out)
		d.observeTrigger(ev, k, vs, text, s[fRefusal] == 1, out)
	}
}

// hasOutput reports whether a request produced an answer of the model's
// own: allowed, or allowed and then cut by output protection. Requests the
// gateway refused or that failed upstream say nothing about the model.
func hasOutput(ev *event.Event) bool {
	switch ev.Decision {
	case "", event.DecisionAllowed, event.DecisionStopped:
	default:
		return false
	}
	return ev.Status < 400 && ev.Error == ""
}

func keyOf(ev *event.Event) (key, bool) {
	subject := detect.EntityValue(ev.Route)
	if subject == "" {
		subject = detect.EntityValue(ev.Model)
	}
	version := detect.EntityValue(ev.ModelVersion)
	if version == "" {
		version = detect.EntityValue(ev.Model)
	}
	return key{subject, version}, subject != "" || version != ""
}

// Stats says how much state the detector holds.
type Stats struct {
	Versions        int `json:"versions"`         // versions with drift state
	Subjects        int `json:"subjects"`         // routes or models with a last reference
	Pinned          int `json:"pinned"`           // pinned references
	GoldenAnswers   int `json:"golden_answers"`   // first answers per (golden id, version)
	TriggerVersions int `json:"trigger_versions"` // versions with a token sketch
	Outputs         int `json:"outputs"`          // answers given to more than one prompt, with a cluster
	OnceAnswers     int `json:"once_answers"`     // answers given once, remembered by hash
}

// Stats returns the sizes of the detector's state.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Stats{
		Versions: d.versions.Len(), Subjects: d.subjects.Len(), Pinned: len(d.pinned),
		GoldenAnswers: d.answers.Len(), TriggerVersions: d.triggers.len(), Outputs: d.outputs.Len(), OnceAnswers: d.once.used,
	}
}

// entities are what an alert about k is about: the route (when the subject
// is one), the model and the version.
func entities(ev *event.Event, k key) []event.Entity {
	es := make([]event.Entity, 0, 3)
	if r := detect.EntityValue(ev.Route); r != "" {
		es = append(es, event.Entity{Kind: event.EntityRoute, Value: r})
	}
	if m := detect.EntityValue(ev.Model); m != "" {
		es = append(es, event.Entity{Kind: event.EntityModel, Value: m})
	}
	if k.version != "" {
		es = append(es, event.Entity{Kind: event.EntityModelVersion, Value: k.version})
	}
	if len(es) == 0 && k.subject != "" {
		es = append(es, event.Entity{Kind: event.EntityModel, Value: k.subject})
	}
	return es
}

// describe names k for a summary: route "chat" (model "gpt-x") version "v2".
func describe(ev *event.Event, k key) string {
	var b strings.Builder
	if r := detect.EntityValue(ev.Route); r != "" {
		fmt.Fprintf(&b, "route %q", r)
		if m := detect.EntityValue(ev.Model); m != "" {
			fmt.Fprintf(&b, " (model %q)", m)
		}
	} else {
		fmt.Fprintf(&b, "model %q", k.subject)
	}
	fmt.Fprintf(&b, " version %q", k.version)
	return b.String()
}

func (d *Detector) raise(out detect.Sink, ev *event.Event, k key, a event.Alert) {
	a.Detector = Name
	a.Time = ev.Time.UTC()
	a.Entities = entities(ev, k)
	a.Fingerprint = detect.Fingerprint(Name, a.Rule, a.Entities)
	out.Raise(a)
}

// evidenceID is an event id as kept in state: bounded, so that a hostile
// id cannot make evidence large, and copied when cut.
func evidenceID(id string) string {
	if len(id) <= maxEvidenceID {
		return id
	}
	return strings.Clone(strings.ToValidUTF8(id[:maxEvidenceID], "\uFFFD"))
}

// idRing keeps the last few event ids that contributed to a signal.
type idRing struct {
	ids [8]string
	n   int
}

func (r *idRing) add(id string) {
	if id == "" {
		return
	}
	r.ids[r.n%len(r.ids)] = evidenceID(id)
	r.n++
}

// list returns the kept ids, oldest first, with first in front when given.
func (r *idRing) list(first string) []string {
	out := make([]string, 0, len(r.ids)+1)
	if first != "" {
		out = append(out, first)
	}
	k := min(r.n, len(r.ids))
	for i := r.n - k; i < r.n; i++ {
		if id := r.ids[i%len(r.ids)]; id != first {
			out = append(out, id)
		}
	}
	return out
}
