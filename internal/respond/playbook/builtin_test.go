package playbook

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/taxonomy"
	"go.yaml.in/yaml/v3"
)

func TestBuiltinsCoverEveryTypeOnce(t *testing.T) {
	owner := map[string]string{}
	for _, pb := range Builtins() {
		for _, typ := range pb.Types {
			if first, dup := owner[typ]; dup {
				t.Errorf("type %s is in %s and %s", typ, first, pb.Name)
			}
			owner[typ] = pb.Name
		}
	}
	for _, typ := range taxonomy.Types() {
		if _, ok := owner[string(typ.ID)]; !ok {
			t.Errorf("type %s has no built-in playbook", typ.ID)
		}
	}
	if len(owner) != len(taxonomy.Types()) {
		t.Errorf("builtins cover %d types, the taxonomy has %d", len(owner), len(taxonomy.Types()))
	}
}

func TestBuiltinsWellFormed(t *testing.T) {
	names := map[string]bool{}
	for _, pb := range Builtins() {
		if names[pb.Name] {
			t.Errorf("two built-in playbooks are named %s", pb.Name)
		}
		names[pb.Name] = true
		if pb.Source != SourceBuiltin {
			t.Errorf("%s: source %q", pb.Name, pb.Source)
		}
		if pb.Description == "" {
			t.Errorf("%s: no description", pb.Name)
		}
		var kinds []StepKind
		transitions := 0
		for i, s := range pb.Steps {
			kinds = append(kinds, s.Kind)
			// High-impact actions change what every caller gets: a person decides.
			if s.Action != nil && (s.Action.Kind == policy.KindDisable || s.Action.Kind == policy.KindRoute) {
				if s.Mode != ModeApproval && s.ApprovalFrom == "" {
					t.Errorf("%s: step %s (%s) runs without approval", pb.Name, s.ID, s.Action.Kind)
				}
			}
			if s.Action != nil && s.Action.Target == TargetAll {
				t.Errorf("%s: step %s applies to every request", pb.Name, s.ID)
			}
			if s.Kind == KindTransition {
				transitions++
				// Nothing that waits for a person may hold back the move
				// to containment when containment is already in force.
				for _, before := range pb.Steps[:i] {
					if before.Mode == ModeApproval && hasAutoAction(pb.Steps[:i]) {
						t.Errorf("%s: step %s waits for approval before %s although automatic containment is in force", pb.Name, before.ID, s.ID)
					}
				}
			}
			if s.Kind == KindNotify {
				if _, err := s.RenderMessage(MessageData{}); err != nil {
					t.Errorf("%s: %v", pb.Name, err)
				}
			}
		}
		if pb.Steps[0].Kind != KindCollectEvidence {
			t.Errorf("%s: evidence is not frozen first (first step is %s)", pb.Name, pb.Steps[0].Kind)
		}
		if transitions != 1 {
			t.Errorf("%s: %d transitions, want 1", pb.Name, transitions)
		}
	}
}

func hasAutoAction(steps []Step) bool {
	for _, s := range steps {
		if s.Kind == KindPolicy && s.Mode == ModeAuto {
			return true
		}
	}
	return false
}

// The guide's containment steps appear in the guide's order.
func TestBuiltinsFollowTheGuide(t *testing.T) {
	guide := map[string][]string{
		"prompt-injection": {"prompt-guard", "block-attacker", "rate-limit-route", "sanitize-route", "capture-attacker"},
		"data-extraction":  {"limit-queries", "protect-output", "rate-limit-attacker", "disable-route", "differential-privacy"},
		"model-poisoning":  {"disable-model", "route-to-known-good", "isolate-pipeline", "verify-model", "enhanced-monitoring"},
	}
	byName := map[string]*Playbook{}
	for _, pb := range Builtins() {
		byName[pb.Name] = pb
	}
	for name, want := range guide {
		pb := byName[name]
		if pb == nil {
			t.Errorf("no built-in playbook %s", name)
			continue
		}
		var got []string
		for _, s := range pb.Steps {
			for _, w := range want {
				if s.ID == w {
					got = append(got, s.ID)
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: guide steps in order %v, want %v", name, got, want)
		}
	}
}

// Builtins hands out copies: changing one changes nothing for the next caller.
func TestBuiltinsAreCopies(t *testing.T) {
	a := Builtins()
	a[0].Types[0] = "changed"
	a[0].Steps[0].ID = "changed"
	for _, s := range a[0].Steps {
		if s.Action != nil {
			s.Action.Params.Requests = 12345
		}
	}
	b := Builtins()
	if b[0].Types[0] == "changed" || b[0].Steps[0].ID == "changed" {
		t.Fatal("Builtins returned shared playbooks")
	}
	for _, s := range b[0].Steps {
		if s.Action != nil && s.Action.Params.Requests == 12345 {
			t.Fatal("Builtins returned shared actions")
		}
	}
}

// A playbook written out as YAML or JSON parses back to itself.
func TestRoundTrip(t *testing.T) {
	for _, pb := range Builtins() {
		y, err := yaml.Marshal(pb)
		if err != nil {
			t.Fatal(err)
		}
		noSource := pb.Clone()
		noSource.Source = "" // set by the loader, not written in a file
		j, err := json.Marshal(noSource)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []struct {
			name string
			b    []byte
		}{{"yaml", y}, {"json", j}} {
			back, err := Parse(pb.Name+"."+form.name, form.b)
			if err != nil {
				t.Errorf("%s as %s: %v\n%s", pb.Name, form.name, err, form.b)
				continue
			}
			back.Source = pb.Source
			if !reflect.DeepEqual(back, pb) {
				t.Errorf("%s as %s does not parse back to itself:\n got %+v\nwant %+v", pb.Name, form.name, back, pb)
			}
		}
		var fromJSON Playbook
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatalf("%s: json.Unmarshal: %v", pb.Name, err)
		}
		fromJSON.Source = pb.Source
		if !reflect.DeepEqual(&fromJSON, pb) {
			t.Errorf("%s: json.Unmarshal does not give it back", pb.Name)
		}
	}
}
