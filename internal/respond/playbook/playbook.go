package playbook

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
	"go.yaml.in/yaml/v3"
)

// SourceBuiltin is the Source of the playbooks compiled into the binary.
const SourceBuiltin = "builtin"

// Playbook is the ordered list of steps that responds to incidents of some
// types. Parse and Load return playbooks that are valid and have every
// default filled in.
type Playbook struct {
	// Name is unique among the loaded playbooks: lower-case letters, digits
	// and hyphens.
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Types are the incident type ids (see taxonomy.Types) the playbook runs
	// for. After Load, each type has at most one playbook.
	Types []string `json:"types" yaml:"types"`
	Steps []Step   `json:"steps" yaml:"steps"`
	// Source is "builtin" or the path of the file the playbook came from.
	Source string `json:"source,omitempty" yaml:"-"`
}

// Step is one thing a playbook does. Only the fields of its kind are set.
type Step struct {
	// ID is unique within the playbook and stable across edits: the runner
	// keys idempotency on (incident, playbook, step id), so renaming a step
	// makes it run again for incidents already handled.
	ID    string   `json:"id" yaml:"id"`
	Title string   `json:"title" yaml:"title"`
	Kind  StepKind `json:"kind" yaml:"kind"`
	// Mode says who carries the step out and whether a person must agree.
	Mode Mode `json:"mode" yaml:"mode"`
	// ApprovalFrom, on an auto step, is the severity (low, medium, high or
	// critical) from which the step needs approval like an approval step.
	ApprovalFrom string `json:"approval_from,omitempty" yaml:"approval_from,omitempty"`
	// Critical: when the step fails (after its retries), the playbook stops.
	// A failed step that is not critical is recorded and the next one runs.
	Critical bool `json:"critical,omitempty" yaml:"critical,omitempty"`
	// Retries is how often a transient failure is retried (0..10, default 3).
	Retries int `json:"retries" yaml:"retries"`

	// Action is the containment action of a policy step.
	Action *ActionSpec `json:"action,omitempty" yaml:"action,omitempty"`
	// Window is how far back a collect_evidence step freezes the events
	// related to the incident (default 15m).
	Window Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Channel is the webhook a notify step posts to ("default" if not set).
	Channel string `json:"channel,omitempty" yaml:"channel,omitempty"`
	// Message is a notify step's text: a text/template that may use only
	// {{.Incident.ID}}, {{.Incident.Title}}, {{.Incident.Type}},
	// {{.Incident.Severity}} and {{.Step.Title}}. See RenderMessage.
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
	// Task is the work a task step assigns to a person.
	Task *TaskSpec `json:"task,omitempty" yaml:"task,omitempty"`
	// To is the phase a transition step moves the incident to.
	To string `json:"to,omitempty" yaml:"to,omitempty"`
	// Scan is what a scan step verifies.
	Scan *ScanSpec `json:"scan,omitempty" yaml:"scan,omitempty"`
}

// StepKind names what a step does.
type StepKind string

// The step kinds.
const (
	// KindPolicy puts a containment action in force through the policy.
	KindPolicy StepKind = "policy"
	// KindCollectEvidence freezes the incident's related events of the last
	// Window as evidence.
	KindCollectEvidence StepKind = "collect_evidence"
	// KindNotify posts Message to the webhook Channel.
	KindNotify StepKind = "notify"
	// KindScan verifies artefacts the incident names (see ScanSpec).
	KindScan StepKind = "scan"
	// KindTask assigns work to a person as a task on the incident.
	KindTask StepKind = "task"
	// KindApproval waits until a responder approves going on.
	KindApproval StepKind = "approval"
	// KindTransition moves the incident to the phase To; the incident's exit
	// criteria still apply.
	KindTransition StepKind = "transition"
)

var stepKinds = []StepKind{KindPolicy, KindCollectEvidence, KindNotify, KindScan, KindTask, KindApproval, KindTransition}

// StepKinds lists every step kind.
func StepKinds() []StepKind { return append([]StepKind(nil), stepKinds...) }

// Valid reports whether k is a known step kind.
func (k StepKind) Valid() bool {
	for _, v := range stepKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Mode says who carries a step out.
type Mode string

// The modes.
const (
	// ModeAuto: Airlock runs the step as soon as the playbook reaches it
	// (unless ApprovalFrom asks for approval at the incident's severity).
	ModeAuto Mode = "auto"
	// ModeApproval: Airlock runs the step once a responder approves it, or
	// skips it if they decline. The steps after it wait for the decision.
	ModeApproval Mode = "approval"
	// ModeManual: a person does the work, tracked as a task on the incident;
	// the steps after it do not wait. Only task steps are manual, and they
	// always are.
	ModeManual Mode = "manual"
)

var modes = []Mode{ModeAuto, ModeApproval, ModeManual}

// Modes lists every mode.
func Modes() []Mode { return append([]Mode(nil), modes...) }

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	for _, v := range modes {
		if m == v {
			return true
		}
	}
	return false
}

// NeedsApproval reports whether the step must wait for a responder's
// approval in an incident of severity sev: an approval step always does, an
// auto step does when sev is at or above its ApprovalFrom.
func (s *Step) NeedsApproval(sev event.Severity) bool {
	switch {
	case s.Mode == ModeApproval || s.Kind == KindApproval:
		return true
	case s.Mode != ModeAuto || s.ApprovalFrom == "":
		return false
	}
	from, err := event.ParseSeverity(s.ApprovalFrom)
	if err != nil {
		return true // cannot happen for a parsed step; fail towards a person
	}
	return sev >= from
}

// ActionSpec is the containment action of a policy step, before it is bound
// to an incident: the runner turns it into a policy.Action per target.
type ActionSpec struct {
	Kind policy.Kind `json:"kind" yaml:"kind"`
	// Target is what the action applies to: TargetAttacker, TargetRoute,
	// TargetModel, TargetModelVersion or TargetAll.
	Target string        `json:"target" yaml:"target"`
	Params policy.Params `json:"params" yaml:"-"`
	// TTL is how long the action stays in force; 0 means until lifted.
	TTL Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
	// Lift is what happens to the action when the incident closes: LiftOnClose
	// (the default) removes it, LiftKeep leaves it in force.
	Lift string `json:"lift" yaml:"lift"`
}

// Action targets.
const (
	// TargetAttacker is each of the incident's caller entities (api_key,
	// user, ip): the runner puts one action in force per entity.
	TargetAttacker = "attacker"
	// TargetRoute is the route the incident's events came through.
	TargetRoute = "route"
	// TargetModel is the model the incident names, all its versions.
	TargetModel = "model"
	// TargetModelVersion is the model version the incident names.
	TargetModelVersion = "model_version"
	// TargetAll is every request: an empty policy target, which the policy
	// allows only for sanitize, request_limits, output_protection,
	// prompt_filter and prompt_guard.
	TargetAll = "all"
)

var targets = []string{TargetAttacker, TargetRoute, TargetModel, TargetModelVersion, TargetAll}

// What happens to a playbook's action when its incident closes.
const (
	LiftOnClose = "on_close"
	LiftKeep    = "keep"
)

// MarshalYAML writes the params under the policy's own (JSON) names, so
// that a marshalled playbook parses back to the same one.
func (a ActionSpec) MarshalYAML() (any, error) {
	b, err := json.Marshal(a.Params)
	if err != nil {
		return nil, err
	}
	var params map[string]any
	if err := json.Unmarshal(b, &params); err != nil {
		return nil, err
	}
	type plain ActionSpec // without this method
	return struct {
		plain  `yaml:",inline"`
		Params map[string]any `yaml:"params,omitempty"`
	}{plain(a), params}, nil
}

// TaskSpec is the work a task step assigns.
type TaskSpec struct {
	Title       string `json:"title" yaml:"title"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Assignee is who the task goes to; empty leaves it to the incident's
	// owner.
	Assignee string `json:"assignee,omitempty" yaml:"assignee,omitempty"`
	// Due is how long after the step runs the task is due; 0 means no date.
	Due Duration `json:"due,omitempty" yaml:"due,omitempty"`
}

// ScanSpec says what a scan step verifies.
type ScanSpec struct {
	// Target is ScanModel: the registered model versions the incident names
	// are scanned and their digests checked against the registry.
	Target string `json:"target" yaml:"target"`
}

// Scan targets.
const ScanModel = "model"

var scanTargets = []string{ScanModel}

// Duration is a time.Duration written as a Go duration string such as
// "15m" or "1h30m", in YAML and in JSON.
type Duration time.Duration

// String returns the Go form without zero tails: "1h" rather than "1h0m0s".
func (d Duration) String() string { return policy.Duration(d).String() }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"15m\" or \"1h30m\", got %s", b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return fmt.Errorf("line %d: want a duration such as \"15m\" or \"1h30m\"", n.Line)
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration: want a number with a unit (s, m, h), such as \"15m\" or \"1h30m\"", clip(s))
	case v < 0:
		return 0, fmt.Errorf("%q is negative", clip(s))
	}
	return v, nil
}

// Clone returns a deep copy of p.
func (p *Playbook) Clone() *Playbook {
	c := *p
	c.Types = append([]string(nil), p.Types...)
	c.Steps = make([]Step, len(p.Steps))
	for i, s := range p.Steps {
		if s.Action != nil {
			a := *s.Action
			a.Params.Literal = cloneStrings(a.Params.Literal)
			a.Params.Regex = cloneStrings(a.Params.Regex)
			if d := a.Params.LogprobDigits; d != nil {
				v := *d
				a.Params.LogprobDigits = &v
			}
			a.Params.Weights = maps.Clone(a.Params.Weights)
			s.Action = &a
		}
		if s.Task != nil {
			t := *s.Task
			s.Task = &t
		}
		if s.Scan != nil {
			sc := *s.Scan
			s.Scan = &sc
		}
		c.Steps[i] = s
	}
	return &c
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// Step returns the step with the given id.
func (p *Playbook) Step(id string) (*Step, bool) {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i], true
		}
	}
	return nil, false
}
